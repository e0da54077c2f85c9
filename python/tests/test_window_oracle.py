"""ltseq's window functions against an independent oracle (plain Python loops), on random
partitioned data with NULLs, NaN and infinities, in a stock datafusion context with 4 target
partitions and tiny batches (so partitions and windows span batch boundaries)."""

from __future__ import annotations

import math

import datafusion
import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ltseq

# --- the oracle: one plain loop per function ----------------------------------------------------


def _nan_last_key(v: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(v) else (0, v)  # DataFusion orders NaN above +inf


def o_rolling(values: list, w: int, mp: int, agg: str) -> list:
    out = []
    for i in range(len(values)):
        rows = values[max(0, i - w + 1) : i + 1]
        window = [v for v in rows if v is not None]
        if agg == "count":
            # pandas' rule: min_periods counts the window's rows, so no value counts 0
            out.append(len(window) if len(rows) >= mp else None)
        elif len(window) < mp:
            out.append(None)
        elif agg == "sum":
            out.append(sum(window))
        elif agg == "avg":
            out.append(sum(window) / len(window))
        elif agg == "min":
            out.append(min(window, key=_nan_last_key))
        elif agg == "max":
            out.append(max(window, key=_nan_last_key))
        elif agg in ("var", "std"):
            if len(window) < 2:
                out.append(None)
            elif not all(math.isfinite(v) for v in window):
                out.append(math.nan)
            else:
                m = sum(window) / len(window)
                var = sum((v - m) ** 2 for v in window) / (len(window) - 1)
                out.append(var if agg == "var" else math.sqrt(var))
    return out


def o_cum(values: list, agg: str) -> list:
    out, acc, n = [], None, 0
    for v in values:
        if v is not None:
            n += 1
            if acc is None:
                acc = v
            elif agg == "sum":
                acc = acc + v
            elif agg == "prod":
                acc = acc * v
            elif agg == "min":
                acc = min(acc, v, key=_nan_last_key)
            elif agg == "max":
                acc = max(acc, v, key=_nan_last_key)
        out.append(n if agg == "count" else acc)
    return out


def o_diff(values: list, n: int, pct: bool) -> list:
    out = []
    for i, v in enumerate(values):
        j = i - n
        if not 0 <= j < len(values) or v is None or values[j] is None:
            out.append(None)
        elif pct:
            prev = values[j]
            d = v - prev
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append(float(np.float64(d) / np.float64(prev)))  # IEEE: x / 0 is +-inf or NaN
        else:
            out.append(v - values[j])
    return out


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


# --- the data -----------------------------------------------------------------------------------

FLOATS = st.one_of(
    st.none(),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 3)),
)
INTS = st.one_of(st.none(), st.integers(min_value=-1000, max_value=1000))
ROWS = st.lists(st.tuples(st.integers(0, 3), INTS, FLOATS), max_size=40)


def make_ctx(rows: list[tuple], batch: int) -> datafusion.SessionContext:
    config = datafusion.SessionConfig().with_target_partitions(4).with_batch_size(batch)
    ctx = datafusion.SessionContext(config)
    ltseq.register(ctx)
    table = pa.table(
        {
            "i": pa.array(range(len(rows)), pa.int64()),
            "g": pa.array([r[0] for r in rows], pa.int64()),
            "v": pa.array([r[1] for r in rows], pa.int64()),
            "f": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
    batches = table.to_batches(max_chunksize=batch) or [pa.RecordBatch.from_pylist([], schema=table.schema)]
    # two input partitions, so rows of one window partition arrive from both
    half = len(batches) // 2
    ctx.register_record_batches("t", [batches[:half] or batches[:1], batches[half:]] if half else [batches])
    return ctx


def per_partition(rows: list[tuple], col: int, fn) -> list:
    """Applies ``fn`` to each partition's values (in i order); results in i order."""
    out: list = [None] * len(rows)
    for g in {r[0] for r in rows}:
        idx = [i for i, r in enumerate(rows) if r[0] == g]
        for i, value in zip(idx, fn([rows[i][col] for i in idx])):
            out[i] = value
    return out


def run(ctx, select: list[str]) -> list[list]:
    sql = f"SELECT i, {', '.join(select)} FROM t WINDOW w AS (PARTITION BY g ORDER BY i) ORDER BY i"
    table = ctx.sql(sql).to_arrow_table()
    return [table.column(k + 1).to_pylist() for k in range(len(select))]


def check(rows, got: list, want: list, what: str) -> None:
    assert len(got) == len(want), what
    for i, (a, b) in enumerate(zip(got, want)):
        assert close(a, b), f"{what}: row {i}: got {a!r}, want {b!r}\nrows={rows}"


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(ROWS, st.integers(1, 6), st.data(), st.sampled_from([1, 2, 3, 7]))
def test_rolling_matches_the_oracle(rows, w, data, batch):
    mp = data.draw(st.integers(1, w))
    ctx = make_ctx(rows, batch)
    aggs = ["sum", "avg", "min", "max", "count", "std", "var"]
    for col, name in ((1, "v"), (2, "f")):
        got = run(ctx, [f"rolling_{a}({name}, {w}, {mp}) OVER w" for a in aggs])
        for a, g in zip(aggs, got):
            want = per_partition(rows, col, lambda vals, a=a: o_rolling(vals, w, mp, a))
            check(rows, g, want, f"rolling_{a}({name}, {w}, {mp})")


@SETTINGS
@given(ROWS, st.sampled_from([1, 2, 3, 7]))
def test_cumulative_matches_the_oracle(rows, batch):
    ctx = make_ctx(rows, batch)
    aggs = ["sum", "min", "max", "count"]
    for col, name in ((1, "v"), (2, "f")):
        got = run(ctx, [f"cum_{a}({name}) OVER w" for a in aggs])
        for a, g in zip(aggs, got):
            want = per_partition(rows, col, lambda vals, a=a: o_cum(vals, a))
            check(rows, g, want, f"cum_{a}({name})")
    # products of small values only, so they stay exact
    got = run(ctx, ["cum_prod(CASE WHEN v IS NULL THEN NULL ELSE v % 3 END) OVER w"])[0]
    want = per_partition(rows, 1, lambda vals: o_cum([None if v is None else math.fmod(v, 3) for v in vals], "prod"))
    check(rows, got, [None if x is None else int(x) for x in want], "cum_prod")


@SETTINGS
@given(ROWS, st.integers(-4, 4), st.sampled_from([1, 2, 3, 7]))
def test_diff_and_pct_change_match_the_oracle(rows, n, batch):
    ctx = make_ctx(rows, batch)
    for col, name in ((1, "v"), (2, "f")):
        got_d, got_p = run(ctx, [f"diff({name}, {n}) OVER w", f"pct_change({name}, {n}) OVER w"])
        fl = (lambda x: None if x is None else float(x)) if name == "v" else (lambda x: x)
        check(rows, got_d, per_partition(rows, col, lambda vals: o_diff(vals, n, False)), f"diff({name}, {n})")
        want_p = per_partition(rows, col, lambda vals, fl=fl: o_diff([fl(v) for v in vals], n, True))
        check(rows, got_p, want_p, f"pct_change({name}, {n})")


def test_pandas_agrees_with_min_periods_equal_to_w():
    """With min_periods = w and no NULLs, the rolling functions are pandas' rolling defaults."""
    import pandas as pd

    rng = np.random.default_rng(7)
    df = pd.DataFrame({"i": np.arange(5000), "g": rng.integers(0, 30, 5000), "x": rng.normal(size=5000).cumsum()})
    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4).with_batch_size(64))
    ltseq.register(ctx)
    ctx.register_record_batches("t", [pa.Table.from_pandas(df).to_batches(max_chunksize=500)])
    got = ctx.sql(
        "SELECT i, rolling_avg(x, 20, 20) OVER w AS m, rolling_std(x, 20, 20) OVER w AS s, "
        "rolling_max(x, 100, 100) OVER w AS mx, cum_sum(x) OVER w AS c, diff(x) OVER w AS d "
        "FROM t WINDOW w AS (PARTITION BY g ORDER BY i) ORDER BY i"
    ).to_pandas()
    grouped = df.groupby("g")["x"]
    want = pd.DataFrame(
        {
            "m": grouped.transform(lambda s: s.rolling(20).mean()),
            "s": grouped.transform(lambda s: s.rolling(20).std()),
            "mx": grouped.transform(lambda s: s.rolling(100).max()),
            "c": grouped.cumsum(),
            "d": grouped.diff(),
        }
    )
    for col in want.columns:
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), want[col].to_numpy(), rtol=1e-9, atol=1e-9)


def test_rolling_count_is_pandas_count():
    """rolling_count: a window of NULLs counts 0, and min_periods counts the window's rows (as
    pandas' rolling().count() does), in partitions, through SQL and the DSL."""
    import pandas as pd

    from ltseq import LTSeq

    rng = np.random.default_rng(11)
    n = 3000
    x = rng.normal(size=n)
    x[rng.random(n) < 0.6] = np.nan  # many windows hold no value
    df = pd.DataFrame({"i": np.arange(n), "g": rng.integers(0, 40, n), "x": x})
    table = pa.Table.from_pandas(df)
    table = table.set_column(2, "x", pa.array(df["x"], from_pandas=True))  # NaN -> NULL
    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4).with_batch_size(64))
    ltseq.register(ctx)
    ctx.register_record_batches("t", [table.to_batches(max_chunksize=300)])
    grouped = df.groupby("g")["x"]
    for w, mp in [(1, 1), (3, 1), (3, 2), (3, 3), (7, 4), (5000, 1)]:
        got = ctx.sql(
            f"SELECT rolling_count(x, {w}, {mp}) OVER (PARTITION BY g ORDER BY i) AS c FROM t ORDER BY i"
        ).to_pandas()["c"]
        want = grouped.transform(lambda s, w=w, mp=mp: s.rolling(w, min_periods=mp).count())
        np.testing.assert_array_equal(got.to_numpy(dtype=float), want.to_numpy(), err_msg=f"w={w} mp={mp}")
    dsl = (
        LTSeq.from_arrow(table, ctx=ctx)
        .sort("g", "i")
        .derive(c=lambda r: r.x.rolling(3, min_periods=2, partition_by="g").count())
    )
    got = dsl.sort("i").to_pandas()["c"].to_numpy(dtype=float)
    want = grouped.transform(lambda s: s.rolling(3, min_periods=2).count()).to_numpy()
    np.testing.assert_array_equal(got, want)
