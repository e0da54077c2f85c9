"""ltseq's Window operator (the DSL's default for window expressions on ordered input): the
same results as SQL window calls and as pandas, on inputs split into several partitions and
tiny batches, read in stored order (no sort) or after a sort, with the plan showing it."""

from __future__ import annotations

from pathlib import Path

import datafusion
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import LTSeq
from ltseq import window as window_module


def make_ctx(partitions: int = 4, batch: int = 8192) -> datafusion.SessionContext:
    config = datafusion.SessionConfig().with_target_partitions(partitions).with_batch_size(batch)
    ctx = datafusion.SessionContext(config)
    ltseq.register(ctx)
    return ctx


def frame(n: int, groups: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.sort(rng.integers(0, groups, n))
    df = pd.DataFrame({"g": g, "t": np.arange(n), "x": rng.normal(size=n).round(3), "k": rng.integers(0, 5, n)})
    df.loc[rng.random(n) < 0.03, "x"] = np.nan
    return df


def windows(r):
    return {
        "s": r.x.shift(1, partition_by="g"),
        "lead": r.x.shift(-2, partition_by="g"),
        "dflt": r.x.shift(1, default=0.0, partition_by="g"),
        "m": r.x.rolling(5, min_periods=3, partition_by="g").mean(),
        "mx": r.x.rolling(4, partition_by="g").max(),
        "sd": r.x.rolling(6, partition_by="g").std(),
        "cs": r.x.cum_sum(partition_by="g"),
        "d": r.x.diff(partition_by="g"),
        "pc": r.x.pct_change(2, partition_by="g"),
        "ks": r.k.cum_sum(),  # no partition: the whole table is one window partition
        "expr": (r.x * 2 + 1).rolling(3, partition_by="g").sum(),
    }


def expected(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby("g")["x"]
    return pd.DataFrame(
        {
            "s": g.shift(1),
            "lead": g.shift(-2),
            "dflt": g.shift(1).where(df.groupby("g").cumcount() >= 1, 0.0),
            "m": g.transform(lambda s: s.rolling(5, min_periods=3).mean()),
            "mx": g.transform(lambda s: s.rolling(4, min_periods=1).max()),
            "sd": g.transform(lambda s: s.rolling(6, min_periods=1).std()),
            "cs": g.transform(lambda s: s.cumsum().ffill()),
            "d": g.diff(),
            "pc": g.transform(lambda s: (s - s.shift(2)) / s.shift(2)),
            "ks": df["k"].cumsum(),
            "expr": (df["x"] * 2 + 1).groupby(df["g"]).transform(lambda s: s.rolling(3, min_periods=1).sum()),
        }
    )


def check(got: pd.DataFrame, want: pd.DataFrame) -> None:
    for name in want.columns:
        np.testing.assert_allclose(
            got[name].to_numpy(dtype=float), want[name].to_numpy(dtype=float), rtol=1e-9, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize("batch", [7, 8192])
def test_stored_order_from_a_partitioned_parquet_scan(tmp_path: Path, batch: int):
    """A Parquet file with many row groups is read as 4 partitions; the operator reads them one
    after another in stored order (no sort), and agrees with pandas."""
    df = frame(60_000, 700)
    path = tmp_path / "data.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=4000)
    t = LTSeq.read_parquet(path, ctx=make_ctx(4, batch)).assume_sorted("g", "t")
    d = t.derive(windows)
    plan = d.explain()
    assert "LtseqWindowExec" in plan
    got = d.to_pandas()
    assert (got["t"].to_numpy() == df["t"].to_numpy()).all()
    check(got, expected(df))


def test_after_a_sort_and_against_sql_windows():
    df = frame(30_000, 300).sample(frac=1.0, random_state=1).reset_index(drop=True)  # shuffled
    t = LTSeq.from_pandas(df, ctx=make_ctx(4, 1000)).sort("g", "t")
    with_operator = t.derive(windows).to_pandas()
    window_module.use_operator = False
    try:
        with_sql = t.derive(windows).to_pandas()
    finally:
        window_module.use_operator = True
    pd.testing.assert_frame_equal(with_operator, with_sql)
    want = df.sort_values(["g", "t"]).reset_index(drop=True)
    check(with_operator, expected(want))


def test_partitions_that_are_not_leading_sort_keys_are_sorted_first():
    df = frame(5_000, 40)
    t = LTSeq.from_pandas(df, ctx=make_ctx(2, 100)).assume_sorted("g", "t")
    got = t.derive(c=lambda r: r.x.cum_sum(partition_by="k")).to_pandas()
    want = df["x"].groupby(df["k"]).transform(lambda s: s.cumsum().ffill())
    np.testing.assert_allclose(got["c"].to_numpy(dtype=float), want.to_numpy(dtype=float), rtol=1e-9, atol=1e-9)
    assert (got["t"].to_numpy() == df["t"].to_numpy()).all()  # the table's order is kept


def test_input_the_operator_cannot_trust_is_sorted_by_it():
    """Above a distinct (a plan that may reorder rows), the operator sorts by the ordinal
    itself; results still match."""
    df = frame(8_000, 50)
    t = LTSeq.from_pandas(df, ctx=make_ctx(4, 500)).assume_sorted("g", "t").distinct()
    got = t.derive(s=lambda r: r.x.shift(1, partition_by="g")).to_pandas()
    want = df.groupby("g")["x"].shift(1)
    np.testing.assert_allclose(got["s"].to_numpy(dtype=float), want.to_numpy(dtype=float))


def test_chained_windows_and_filters():
    df = frame(20_000, 200)
    t = LTSeq.from_pandas(df, ctx=make_ctx(4, 333)).assume_sorted("g", "t")
    up = t.filter(lambda r: r.x > r.x.shift(1, partition_by="g"))
    got = up.derive(n=lambda r: r.t.shift(1, partition_by="g")).to_pandas()
    mask = df["x"] > df.groupby("g")["x"].shift(1)
    want = df[mask].reset_index(drop=True)
    assert got["t"].tolist() == want["t"].tolist()
    np.testing.assert_array_equal(got["n"].to_numpy(dtype=float), want.groupby("g")["t"].shift(1).to_numpy(dtype=float))


def test_empty_and_single_row_tables():
    for n in (0, 1):
        df = frame(n, 1)
        t = LTSeq.from_pandas(df, ctx=make_ctx()).assume_sorted("g", "t")
        got = t.derive(windows).to_pandas()
        assert len(got) == n
        if n:
            check(got, expected(df))


def test_the_registered_tables_are_released():
    ctx = make_ctx()
    before = set(ctx.catalog().schema().names())
    t = LTSeq.from_pandas(frame(100, 3), ctx=ctx).assume_sorted("g", "t")
    d = t.derive(m=lambda r: r.x.rolling(2).mean())
    assert d.count() == 100
    del d, t
    import gc

    gc.collect()
    assert set(ctx.catalog().schema().names()) == before


def test_dataframes_outlive_their_ltseq():
    """A DataFrame from to_datafusion(), and DataFrames derived from it, still run after the
    LTSeq objects are gone."""
    import gc

    from datafusion import col
    from datafusion import functions as f

    ctx = make_ctx()
    df = (
        LTSeq.from_pandas(frame(1000, 10), ctx=ctx)
        .assume_sorted("g", "t")
        .derive(m=lambda r: r.x.rolling(3, partition_by="g").mean())
        .to_datafusion()
        .aggregate([], [f.count(col("m"))])
    )
    gc.collect()
    assert df.to_arrow_table().column(0)[0].as_py() > 0


@pytest.mark.parametrize("batch", [1, 3, 64, 8192])
@pytest.mark.parametrize("groups", [1, 7, 400, 5000])
def test_look_backs_over_partitions_stream_batch_by_batch(batch, groups):
    # shift/diff/pct_change with a fixed positive n over partitions are evaluated batch by
    # batch after the last n rows (no partition is buffered): every n, batch size and
    # partition size, NULL and NaN values, NULL keys, against pandas
    rng = np.random.default_rng(batch * 7 + groups)
    n = 5000
    g = np.sort(rng.integers(0, groups, n)).astype(float)
    g[rng.random(n) < 0.02] = np.nan  # NULL keys (one run at the end after the sort below)
    df = pd.DataFrame({"g": g, "t": np.arange(n), "x": rng.normal(size=n).round(3)})
    df.loc[rng.random(n) < 0.05, "x"] = np.nan
    df = df.sort_values(["g", "t"], na_position="last", kind="stable").reset_index(drop=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    x = pa.array(df["x"].where(~df["x"].isna() | (np.arange(n) % 2 == 0), None), pa.float64(), from_pandas=True)
    table = table.set_column(2, "x", x)  # NaN on even rows, NULL on odd ones
    t = LTSeq.from_arrow(table, ctx=make_ctx(2, batch)).assume_sorted("g", "t")
    out = t.derive(
        s1=lambda r: r.x.shift(1, partition_by="g"),
        s3=lambda r: r.x.shift(3, partition_by="g"),
        d2=lambda r: r.x.diff(2, partition_by="g"),
        p1=lambda r: r.x.pct_change(partition_by="g"),
    ).to_pandas()
    xs = table.column("x").to_pandas()
    key = df["g"].fillna(-1.0)
    by = xs.groupby(key, sort=False)
    pd.testing.assert_series_equal(out["s1"], by.shift(1), check_names=False)
    pd.testing.assert_series_equal(out["s3"], by.shift(3), check_names=False)
    pd.testing.assert_series_equal(out["d2"], xs - by.shift(2), check_names=False)
    pd.testing.assert_series_equal(out["p1"], xs / by.shift(1) - 1, check_names=False, rtol=1e-12)
    assert out["t"].tolist() == df["t"].tolist()


@pytest.mark.parametrize("files", [[3, 1, 2, 40, 1, 7], [500, 500, 500], [1] * 12])
@pytest.mark.parametrize("partitions", [2, 3, 8])
def test_look_backs_run_in_parallel_over_a_stored_orders_partitions(tmp_path, files, partitions):
    # each partition evaluated on its own thread: its first n rows come from the partition
    # before (which reads n rows past its end, across several tiny partitions if need be)
    rng = np.random.default_rng(len(files) * 10 + partitions)
    n = sum(files)
    g = np.sort(rng.integers(0, max(2, n // 6), n))
    df = pd.DataFrame({"g": g, "t": np.arange(n), "x": rng.normal(size=n).round(3)})
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    folder = tmp_path / "parts"
    folder.mkdir()
    start = 0
    for i, size in enumerate(files):
        part = pa.Table.from_pandas(df.iloc[start : start + size], preserve_index=False)
        pq.write_table(part, folder / f"part-{i:03d}.parquet")
        start += size
    t = LTSeq.read_parquet(folder, ctx=make_ctx(partitions, 2)).assume_sorted("g", "t")
    out = t.derive(
        s1=lambda r: r.x.shift(1, partition_by="g"),
        s5=lambda r: r.x.shift(5, partition_by="g"),
        d2=lambda r: r.x.diff(2, partition_by="g"),
        whole=lambda r: r.x.shift(4),
    )
    plan = out.explain()
    assert "LtseqWindowExec" in plan and "[reordered]" not in plan
    got = out.to_pandas()
    by = df["x"].groupby(df["g"], sort=False)
    assert got["t"].tolist() == df["t"].tolist()
    pd.testing.assert_series_equal(got["s1"], by.shift(1), check_names=False)
    pd.testing.assert_series_equal(got["s5"], by.shift(5), check_names=False)
    pd.testing.assert_series_equal(got["d2"], df["x"] - by.shift(2), check_names=False)
    pd.testing.assert_series_equal(got["whole"], df["x"].shift(4), check_names=False)
    assert t.derive(s=lambda r: r.x.shift(1, partition_by="g")).filter(lambda r: r.s.is_null()).count() == (
        by.shift(1).isna().sum()
    )
