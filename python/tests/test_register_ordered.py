"""Declared order in SQL: ``ltseq.register_ordered`` (in-memory data, checked) and
``CREATE EXTERNAL TABLE ... WITH ORDER`` (files, trusted as DataFusion trusts it). Results equal
those over the same rows registered without an order, in both routes; ltseq's table functions
read a declared-ordered input without sorting it; a wrong declaration is an error naming the
row."""

from __future__ import annotations

import random

import datafusion
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import LTSeq

ROUTES = pytest.mark.parametrize("planner", [False, True], ids=["provider-route", "planner-route"])


def make_ctx(planner: bool):
    config = datafusion.SessionConfig().with_target_partitions(4).with_batch_size(256)
    return ltseq.register(datafusion.SessionContext(config), planner=planner)


def sorted_rows(n: int, seed: int) -> pa.Table:
    """Rows sorted by (u, ts), ascending, NULLs last in u; v with NULLs."""
    rng = random.Random(seed)
    rows = [
        {"u": rng.choice([*range(20), None]), "ts": rng.randrange(1000), "v": rng.choice([None, *range(-9, 30)])}
        for _ in range(n)
    ]
    rows.sort(key=lambda r: (r["u"] is None, r["u"] or 0, r["ts"]))
    return pa.Table.from_pylist(rows, schema=pa.schema({"u": pa.int64(), "ts": pa.int64(), "v": pa.int64()}))


WINDOW_SQL = (
    "SELECT u, ts, v, v - lag(v) OVER (PARTITION BY u ORDER BY ts, v) AS d, "
    "cum_sum(v) OVER (PARTITION BY u ORDER BY ts, v) AS c FROM {t} ORDER BY u, ts, v, d, c"
)


@ROUTES
@pytest.mark.parametrize("partitions", [1, 3])
def test_window_sql_over_declared_order_equals_the_unordered_tables(planner, partitions):
    table = sorted_rows(3000, 1)
    ctx = make_ctx(planner)
    ltseq.register_ordered(ctx, "ordered", table, ["u", "ts"], partitions=partitions)
    ctx.register_record_batches("plain", [table.to_batches(max_chunksize=700)])
    assert ctx.sql(WINDOW_SQL.format(t="ordered")).to_pydict() == ctx.sql(WINDOW_SQL.format(t="plain")).to_pydict()
    assert ctx.sql("SELECT * FROM ordered").to_arrow_table().num_rows == 3000


@pytest.mark.parametrize(
    "make",
    [
        lambda t: t,
        lambda t: t.to_pandas(),
        lambda t: pl.from_arrow(t),
        lambda t: LTSeq.from_arrow(t),
        lambda t: t.to_reader(),
    ],
    ids=["pyarrow", "pandas", "polars", "ltseq", "stream"],
)
def test_every_kind_of_data_registers(make):
    table = sorted_rows(500, 2)
    ctx = make_ctx(False)
    ltseq.register_ordered(ctx, "t", make(table), ["u", "ts"])
    got = ctx.sql("SELECT * FROM t").to_arrow_table()
    assert got.to_pydict() == table.to_pydict()


def test_an_ltseq_is_registered_in_its_order():
    table = sorted_rows(200, 3)
    shuffled = table.take(random.Random(4).sample(range(200), 200))
    ctx = make_ctx(False)
    seq = LTSeq.from_arrow(shuffled, ctx=ctx).sort("u", "ts")
    ltseq.register_ordered(ctx, "t", seq, ["u", "ts"])
    got = ctx.sql("SELECT u, ts FROM t").to_pydict()
    assert list(zip(got["u"], got["ts"])) == sorted(
        zip(got["u"], got["ts"]), key=lambda r: (r[0] is None, r[0] or 0, r[1])
    )


def test_rows_out_of_order_are_an_error_naming_the_first():
    ctx = make_ctx(False)
    table = pa.table({"k": ["a", "b", "b", "a"], "v": [1, 1, 2, 0]})
    with pytest.raises(ValueError, match=r"not in order by \(k, v\): row 3 has \(a, 0\) after \(b, 2\)"):
        ltseq.register_ordered(ctx, "t", table, ["k", "v"])
    with pytest.raises(ValueError, match=r"row 1 has \(1\) after \(NULL\)"):
        ltseq.register_ordered(ctx, "t", pa.table({"k": [None, 1]}), "k")  # NULLs come last
    with pytest.raises(ValueError, match=r'no column "zz" to order by \(columns: k, v\)'):
        ltseq.register_ordered(ctx, "t", table, ["zz"])
    with pytest.raises(TypeError, match="register_ordered\\(\\) takes"):
        ltseq.register_ordered(ctx, "t", [1, 2], ["k"])
    with pytest.raises(ValueError, match="partitions"):
        ltseq.register_ordered(ctx, "t", table.slice(0, 1), ["k"], partitions=0)
    assert not ctx.table_exist("t")


def test_nan_sorts_last_among_floats():
    ctx = make_ctx(False)
    ltseq.register_ordered(ctx, "t", pa.table({"x": [-1.5, 0.0, 2.0, float("nan")]}), "x")
    with pytest.raises(ValueError, match="not in order"):
        ltseq.register_ordered(ctx, "u", pa.table({"x": [float("nan"), 1.0]}), "x")


def explain(ctx, sql: str) -> str:
    return "\n".join(ctx.sql("EXPLAIN " + sql).to_pandas()["plan"])


def test_table_functions_do_not_sort_a_declared_order(tmp_path):
    table = sorted_rows(2000, 5)
    ctx = make_ctx(False)
    ltseq.register_ordered(ctx, "mem", table, ["u", "ts"])
    pq.write_table(table, tmp_path / "t.parquet")
    ctx.sql(
        f"CREATE EXTERNAL TABLE files STORED AS PARQUET LOCATION '{tmp_path / 't.parquet'}' WITH ORDER (u, ts)"
    ).collect()
    ctx.register_record_batches("plain", [table.to_batches(max_chunksize=300)])
    q = "SELECT * FROM ltseq_group_ordered('{}', 'ts', 'v', 'count(*) AS n, sum(v) AS s', 'u')"
    for name in ("mem", "files"):
        assert "LtseqOutputExec" not in explain(ctx, q.format(name)), name
    assert "read=Sort" in explain(ctx, q.format("plain"))
    expected = ctx.sql(q.format("plain")).to_pydict()
    assert ctx.sql(q.format("mem")).to_pydict() == expected
    assert ctx.sql(q.format("files")).to_pydict() == expected


def test_several_partitions_are_merged_not_sorted():
    table = sorted_rows(2000, 6)
    ctx = make_ctx(False)
    ltseq.register_ordered(ctx, "t", table, ["u", "ts"], partitions=4)
    ctx.register_record_batches("plain", [table.to_batches(max_chunksize=300)])
    q = "SELECT * FROM ltseq_group_ordered('{}', 'ts', 'v', 'count(*) AS n', 'u')"
    assert "read=Merge" in explain(ctx, q.format("t"))
    assert ctx.sql(q.format("t")).to_pydict() == ctx.sql(q.format("plain")).to_pydict()


@ROUTES
def test_empty_data(planner):
    ctx = make_ctx(planner)
    ltseq.register_ordered(ctx, "t", sorted_rows(0, 1), ["u", "ts"])
    assert ctx.sql(WINDOW_SQL.format(t="t")).to_arrow_table().num_rows == 0


def test_window_sql_gives_the_same_rows_in_both_routes():
    # with ltseq's planner the windows run on ltseq's Window operator; without, in DataFusion's
    table = sorted_rows(5000, 7)
    sql = (
        "SELECT u, ts, v, diff(v) OVER w AS d, cum_sum(v) OVER w AS c, rolling_avg(v, 3) OVER w AS m, "
        "rolling_std(v, 4, 2) OVER w AS s, cum_max(v) OVER w AS top FROM {t} "
        "WINDOW w AS (PARTITION BY u ORDER BY ts, v) ORDER BY u, ts, v, d, c"
    )
    results = []
    for planner in (False, True):
        ctx = make_ctx(planner)
        ltseq.register_ordered(ctx, "ordered", table, ["u", "ts"])
        ctx.register_record_batches("plain", [table.to_batches(max_chunksize=600)])
        results += [ctx.sql(sql.format(t=t)).to_pydict() for t in ("ordered", "plain")]
    assert all(r == results[0] for r in results)
