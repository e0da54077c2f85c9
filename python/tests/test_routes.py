"""The two routes ltseq operators take into a stock datafusion SessionContext, proven with the
`Sequence` operator (`ltseq.register_sequence(ctx, name, table)`): the table-provider route
(route 3) and the query-planner route (route 2, `ltseq.register(ctx, planner=True)`). Both over
a CSV table, an in-memory table and a view, with several partitions; bad input is a Python
exception."""

from __future__ import annotations

import random
from pathlib import Path

import datafusion
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import ltseq
from ltseq import LTSeq

N = 200_000


def make_ctx(planner: bool):
    config = (
        datafusion.SessionConfig()
        .with_target_partitions(4)
        .with_batch_size(1000)
        .set("datafusion.optimizer.repartition_file_min_size", "1024")
    )
    ctx = datafusion.SessionContext(config)
    return ltseq.register(ctx, planner=planner)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = random.Random(5)
    table = pa.table({"id": list(range(N)), "v": [rng.randrange(100) for _ in range(N)]})
    path = tmp_path_factory.mktemp("routes") / "t.csv"
    pacsv.write_csv(table, path)
    return table, path


def register_inputs(ctx, table: pa.Table, path: Path) -> None:
    ctx.register_csv("csv_t", str(path))
    ctx.register_record_batches("mem_t", [table.to_batches(max_chunksize=7000)])
    # a view whose order is its ORDER BY
    ctx.register_view("view_t", ctx.sql("SELECT id, v FROM mem_t WHERE v < 50 ORDER BY id DESC"))


@pytest.mark.parametrize("planner", [False, True], ids=["provider-route", "planner-route"])
@pytest.mark.parametrize("source", ["csv_t", "mem_t", "view_t"])
def test_sequence_keeps_input_order(planner, source, data):
    table, path = data
    ctx = make_ctx(planner)
    register_inputs(ctx, table, path)
    ids = table.column("id").to_pylist()
    vs = table.column("v").to_pylist()
    expected = {
        "csv_t": ids,
        "mem_t": ids,
        "view_t": sorted((i for i, v in zip(ids, vs) if v < 50), reverse=True),
    }[source]
    ltseq.register_sequence(ctx, "seq", source)
    out = ctx.sql("SELECT id, __ltseq_rn FROM seq WHERE v >= 0 ORDER BY __ltseq_rn").to_pydict()
    assert out["id"] == expected
    rn = out["__ltseq_rn"]
    assert all(a < b for a, b in zip(rn, rn[1:]))


@pytest.mark.parametrize("planner", [False, True], ids=["provider-route", "planner-route"])
def test_sequence_reads_only_needed_columns_and_renames(planner, data):
    table, path = data
    ctx = make_ctx(planner)
    register_inputs(ctx, table, path)
    ltseq.register_sequence(ctx, "mem_seq", "mem_t", ordinal="ord")
    ltseq.register_sequence(ctx, "csv_seq", "csv_t")
    out = ctx.sql("SELECT ord FROM mem_seq ORDER BY ord LIMIT 3").to_pydict()
    assert out == {"ord": [0, 1, 2]}
    agg = ctx.sql("SELECT count(*) AS n, sum(v) AS s FROM csv_seq").to_pydict()
    assert agg == {"n": [N], "s": [sum(table.column("v").to_pylist())]}


def test_the_planner_route_plans_the_extension_node(data):
    table, path = data
    ctx = make_ctx(planner=True)
    register_inputs(ctx, table, path)
    ltseq.register_sequence(ctx, "seq", "mem_t")
    df = ctx.sql("SELECT id FROM seq WHERE v = 3 ORDER BY __ltseq_rn")
    plan = df.execution_plan().display_indent()
    # Planned by ltseq's planner, the node's input is a child the optimizer sees.
    assert "LtseqSequenceExec" in plan and "input:" not in plan, plan
    ids, vs = table.column("id").to_pylist(), table.column("v").to_pylist()
    assert df.to_pydict()["id"] == [i for i, v in zip(ids, vs) if v == 3]
    provider = make_ctx(planner=False)
    register_inputs(provider, table, path)
    ltseq.register_sequence(provider, "seq", "mem_t")
    plan3 = provider.sql("SELECT id FROM seq ORDER BY __ltseq_rn").execution_plan().display_indent()
    # Through the provider, the node hides its input (shown in its name instead).
    assert "LtseqSequenceExec(ordinal=__ltseq_rn; input:" in plan3, plan3


def test_plain_queries_still_work_under_the_planner(data):
    table, path = data
    ctx = make_ctx(planner=True)
    register_inputs(ctx, table, path)
    assert ctx.sql("SELECT count(*) AS n FROM mem_t WHERE v < 10").to_pydict()["n"][0] == sum(
        1 for v in table.column("v").to_pylist() if v < 10
    )
    out = ctx.sql("SELECT id, run_id(v > 50) OVER (ORDER BY id) AS r FROM mem_t ORDER BY id LIMIT 3").to_pydict()
    assert out["id"] == [0, 1, 2]


@pytest.mark.parametrize("planner", [False, True], ids=["provider-route", "planner-route"])
def test_bad_input_is_a_python_exception(planner):
    ctx = make_ctx(planner)
    ctx.from_pydict({"a": [1]}, name="x")
    with pytest.raises(Exception, match="missing"):
        ltseq.register_sequence(ctx, "s1", "missing")
    with pytest.raises(ValueError, match="already has a column named"):
        ltseq.register_sequence(ctx, "s2", "x", ordinal="a")
    # The input is looked up when the table is scanned: a dropped input is an error, not a crash.
    ctx.from_pydict({"b": [1]}, name="gone")
    ltseq.register_sequence(ctx, "s3", "gone")
    ctx.deregister_table("gone")
    with pytest.raises(Exception, match="table 'gone' not found"):
        ctx.sql("SELECT * FROM s3").collect()
    # ... and so is one whose schema changed.
    ctx.from_pydict({"c": [1]}, name="changing")
    ltseq.register_sequence(ctx, "s4", "changing")
    ctx.deregister_table("changing")
    ctx.from_pydict({"c": ["text"]}, name="changing")
    with pytest.raises(Exception, match="changed its schema"):
        ctx.sql("SELECT * FROM s4").collect()
    # the context is still usable afterwards
    assert ctx.sql("SELECT a FROM x").to_pydict() == {"a": [1]}


PLAIN_SQL = [
    "SELECT lead(v, 2) OVER (ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT lag(v, 1, 0.0) OVER (ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT lead(v, 2, -1.0) OVER (PARTITION BY g ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT ntile(2) OVER (ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT nth_value(v, 2) OVER (ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT first_value(v) OVER (PARTITION BY g ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT rank() OVER (ORDER BY g) AS x FROM t ORDER BY i",
    "SELECT percentile_cont(v, 0.5) AS x FROM t",
    "SELECT approx_percentile_cont(v, 0.5) AS x FROM t",
    "SELECT string_agg(CAST(i AS VARCHAR), ',' ORDER BY i) AS x FROM t",
    "SELECT array_agg(v ORDER BY i DESC) AS x FROM t",
    "SELECT g, sum(v) AS x FROM t GROUP BY g ORDER BY g",
    "SELECT a.i AS x FROM t a JOIN t b ON a.i = b.i + 1 ORDER BY x",
    "SELECT i AS x FROM t WHERE i IN (SELECT i FROM t WHERE v > 2) ORDER BY x",
    "SELECT cum_sum(v) OVER (ORDER BY i) AS x FROM t ORDER BY i",
    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS x FROM t",
    "SELECT g, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS x FROM t GROUP BY g ORDER BY g",
    "SELECT g, approx_percentile_cont(0.9) WITHIN GROUP (ORDER BY v DESC) AS x FROM t GROUP BY g ORDER BY g",
    "SELECT g, percentile_cont(0.25) WITHIN GROUP (ORDER BY v) + 1 AS x FROM t GROUP BY g ORDER BY g",
]


@pytest.mark.parametrize("sql", PLAIN_SQL)
def test_plain_sql_is_the_same_in_the_planner_route(sql):
    """Issue 18, item 9: a plan without an ltseq operator behaves exactly as on the host (the
    built-ins reading a literal argument used to fail through the FFI)."""
    got = []
    for planner in (False, True):
        ctx = make_ctx(planner)
        ctx.from_pydict(
            {"i": [1, 2, 3, 4, 5], "g": ["a", "b", "a", "b", "a"], "v": [1.0, 2.0, 3.0, 4.0, 5.0]}, name="t"
        )
        got.append(ctx.sql(sql).to_pydict()["x"])
    assert got[0] == got[1]


def test_dsl_shift_default_and_percentile_in_the_planner_route():
    ctx = make_ctx(True)
    t = LTSeq.from_dict({"i": [1, 2, 3, 4], "k": [1, 1, 2, 2], "v": [1.0, 2.0, 3.0, 4.0]}, ctx=ctx)
    got = t.derive(p=lambda r: r.v.shift(2, default=0.0).over(order_by="i")).to_arrow()["p"].to_pylist()
    assert got == [0.0, 0.0, 1.0, 2.0]
    med = t.sort("i").group_ordered(lambda r: r.k).agg(m=lambda g: g.percentile("v", 0.5)).to_arrow()["m"]
    assert med.to_pylist() == [1.5, 3.5]
