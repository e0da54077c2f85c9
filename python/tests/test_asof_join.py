"""As-of joins on ltseq's AsOf operator, against Polars ``join_asof`` (every strategy, with and
without ``by``, ties, tolerance as a number and as a duration, empty sides) and a plain loop
(NULL keys and times); every left row once, in the left's order, also over several partitions;
SortRequiredError for unsorted sides; the SQL table function in a stock context."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import datafusion
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import LTSeq, SortRequiredError


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _data(seed: int, n: int, m: int, syms: int, span: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(seed)
    left = pl.DataFrame(
        {
            "ts": sorted(rng.randrange(span) for _ in range(n)),
            "sym": [rng.randrange(syms) for _ in range(n)],
            "i": list(range(n)),
        }
    )
    right = pl.DataFrame(
        {
            "ts": sorted(rng.randrange(span) for _ in range(m)),
            "sym": [rng.randrange(syms) for _ in range(m)],
            "bid": [float(j) for j in range(m)],
        }
    )
    return left, right


@pytest.mark.parametrize("strategy", ["backward", "forward", "nearest"])
@pytest.mark.parametrize("seed", range(3))
def test_matches_polars_join_asof(ctx, strategy: str, seed: int) -> None:
    left, right = _data(seed, 2000, 700, 7, 3000)
    lt = LTSeq.from_polars(left, ctx=ctx).assume_sorted("ts")
    rt = LTSeq.from_polars(right, ctx=ctx).assume_sorted("ts")
    for by, tol in ((None, None), ("sym", None), ("sym", 25), (None, 3)):
        got = lt.asof_join(rt, on="ts", by=by, strategy=strategy, tolerance=tol).to_polars()
        want = left.join_asof(right, on="ts", by=by, strategy=strategy, tolerance=tol, coalesce=False)
        assert got["i"].to_list() == left["i"].to_list()
        assert got["bid"].to_list() == want["bid"].to_list(), (by, tol)
        assert got["ts_right"].to_list() == want["ts_right"].to_list(), (by, tol)


def test_duration_tolerance_and_timestamps(ctx) -> None:
    base = dt.datetime(2024, 1, 1)
    rng = random.Random(9)
    lts = sorted(base + dt.timedelta(milliseconds=rng.randrange(600_000)) for _ in range(500))
    rts = sorted(base + dt.timedelta(milliseconds=rng.randrange(600_000)) for _ in range(200))
    left = pl.DataFrame({"t": lts, "i": list(range(500))}).with_columns(pl.col("t").cast(pl.Datetime("us")))
    right = pl.DataFrame({"t": rts, "v": list(range(200))}).with_columns(pl.col("t").cast(pl.Datetime("ms")))
    lt = LTSeq.from_polars(left, ctx=ctx).assume_sorted("t")
    rt = LTSeq.from_polars(right, ctx=ctx).sort("t")
    for tol in ("5s", dt.timedelta(seconds=2), "500ms"):
        got = lt.asof_join(rt, on="t", tolerance=tol).to_polars()
        ptol = tol if isinstance(tol, dt.timedelta) else tol
        want = left.join_asof(right.with_columns(pl.col("t").cast(pl.Datetime("us"))), on="t", tolerance=ptol)
        assert got["v"].to_list() == want["v"].to_list(), tol


def test_nulls_empty_sides_and_left_order(tmp_path: Path, ctx) -> None:
    rng = random.Random(2)
    rows = [
        {
            "ts": None if rng.random() < 0.1 else rng.randrange(100),
            "k": None if rng.random() < 0.1 else rng.randrange(4),
            "i": i,
        }
        for i in range(3000)
    ]
    quotes = [{"ts": rng.randrange(100), "k": rng.randrange(4), "q": j} for j in range(300)]
    quotes += [{"ts": None, "k": 1, "q": -1}, {"ts": 5, "k": None, "q": -2}]
    table = pa.Table.from_pylist(rows)
    for p in range(3):
        pq.write_table(table.slice(p * 1000, 1000), tmp_path / f"p{p}.parquet", row_group_size=250)
    # the left in its stored order (declared, not sorted by ts): rows keep that order
    lt = LTSeq.read_parquet(str(tmp_path), ctx=ctx).assume_sorted("k", "ts")
    rt = LTSeq.from_rows(quotes, ctx=ctx).sort("k", "ts")
    got = lt.asof_join(rt, on="ts", by="k").to_dicts()
    assert [r["i"] for r in got] == list(range(3000))
    ordered_quotes = sorted(
        [q for q in quotes if q["ts"] is not None and q["k"] is not None], key=lambda q: (q["k"], q["ts"])
    )
    for row, out in zip(rows, got):
        cands = [q for q in ordered_quotes if row["ts"] is not None and q["k"] == row["k"] and q["ts"] <= row["ts"]]
        assert out["q"] == (cands[-1]["q"] if cands else None), row
    empty = rt.filter(lambda r: r.q > 10**6)
    assert [r["q"] for r in lt.asof_join(empty, on="ts", by="k").to_dicts()] == [None] * 3000
    assert lt.filter(lambda r: r.i < 0).asof_join(rt, on="ts", by="k").to_dicts() == []


def test_columns_errors_and_order_required(ctx) -> None:
    a = LTSeq.from_dict({"ts": [1, 5], "x": [1, 2]}, ctx=ctx).sort("ts")
    b = LTSeq.from_dict({"ts": [0, 4], "x": [10, 40]}, ctx=ctx).sort("ts")
    j = a.asof_join(b, on="ts")
    assert j.columns == ["ts", "x", "ts_right", "x_right"]
    assert j.to_dicts() == [
        {"ts": 1, "x": 1, "ts_right": 0, "x_right": 10},
        {"ts": 5, "x": 2, "ts_right": 4, "x_right": 40},
    ]
    assert j.sort_keys == [("ts", False)]
    assert a.asof_join(b, on="ts", suffix="_q").columns == ["ts", "x", "ts_q", "x_q"]
    with pytest.raises(SortRequiredError, match="right table must be sorted by 'ts'"):
        a.asof_join(LTSeq.from_dict({"ts": [0], "x": [1]}, ctx=ctx), on="ts")
    with pytest.raises(SortRequiredError, match="left table"):
        LTSeq.from_dict({"ts": [1]}, ctx=ctx).asof_join(b, on="ts")
    with pytest.raises(ValueError, match="strategy must be one of"):
        a.asof_join(b, on="ts", strategy="closest")
    with pytest.raises(ValueError, match="tolerance must be"):
        a.asof_join(b, on="ts", tolerance=-1)
    with pytest.raises(ltseq.ColumnNotFoundError, match="'nope'"):
        a.asof_join(b, on="ts", by="nope")
    with pytest.raises(ltseq.QueryError, match="give the tolerance as a number"):
        a.asof_join(b, on="ts", tolerance="5s")
    assert "LtseqAsofJoinExec" in j.explain()


def test_sql_table_function_in_a_stock_context(ctx) -> None:
    ctx.register_record_batches("t", [pa.table({"ts": [1, 3, 7], "v": [1, 2, 3]}).to_batches()])
    ctx.register_record_batches("q", [pa.table({"ts": [2, 3, 6], "w": [20, 30, 60]}).to_batches()])
    out = ctx.sql("SELECT v, w FROM ltseq_asof_join('t', 'q', 'ts', '', 'nearest') ORDER BY v").to_pylist()
    assert out == [{"v": 1, "w": 20}, {"v": 2, "w": 30}, {"v": 3, "w": 60}]
