"""Ordered search (search_first, search_pattern, search_pattern_count) on ltseq's Pattern
operator, against a plain Python loop on random event streams: overlapping patterns, matches
spanning batch boundaries (batches of 1-3 rows), partitions, and empty results."""

from __future__ import annotations

import datafusion
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ltseq
from ltseq import LTSeq, SortRequiredError


def make_ctx(batch: int = 8192, partitions: int = 4):
    config = datafusion.SessionConfig().with_target_partitions(partitions).with_batch_size(batch)
    return ltseq.register(datafusion.SessionContext(config))


def oracle(rows: list[dict], steps, part=None) -> list[int]:
    """Start positions of matches in rows (already in order)."""
    out = []
    k = len(steps)
    for i in range(len(rows) - k + 1):
        window = rows[i : i + k]
        if part is not None and any(part(r) != part(window[0]) for r in window):
            continue
        if all(step(r) is True for step, r in zip(steps, window)):
            out.append(i)
    return out


def test_overlapping_pattern_matches_once_at_the_second_a():
    t = LTSeq.from_dict({"i": [1, 2, 3, 4, 5], "e": ["A", "A", "B", "A", "B"]}, ctx=make_ctx()).sort("i")
    got = t.search_pattern(lambda r: r.e == "A", lambda r: r.e == "B").to_arrow().column("i").to_pylist()
    assert got == [2, 4]
    assert t.search_pattern_count(lambda r: r.e == "A", lambda r: r.e == "B") == 2
    aa = t.search_pattern(lambda r: r.e == "A", lambda r: r.e == "A")
    assert aa.to_arrow().column("i").to_pylist() == [1]
    assert aa.sort_keys == [("i", False)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.sampled_from("ABC"))), max_size=60),
    st.lists(st.sampled_from("ABC"), min_size=1, max_size=4),
    st.integers(1, 3),
    st.booleans(),
)
def test_search_pattern_matches_a_python_loop(events, pattern, batch, partitioned):
    ctx = make_ctx(batch=batch)
    rows = [{"u": u, "i": i, "e": e} for i, (u, e) in enumerate(events)]
    table = pa.table({"u": [r["u"] for r in rows], "i": [r["i"] for r in rows], "e": [r["e"] for r in rows]})
    t = LTSeq.from_arrow(table, ctx=ctx)
    ordered = sorted(rows, key=lambda r: (r["u"], r["i"])) if partitioned else rows
    t = t.sort("u", "i") if partitioned else t.assume_sorted("i")
    steps = [lambda r, p=p: r.e == p for p in pattern]
    py_steps = [lambda r, p=p: None if r["e"] is None else r["e"] == p for p in pattern]
    part = (lambda r: r["u"]) if partitioned else None
    expected = [ordered[i]["i"] for i in oracle(ordered, py_steps, part)]
    kw = {"partition_by": "u"} if partitioned else {}
    got = t.search_pattern(*steps, **kw).to_arrow().column("i").to_pylist()
    assert got == expected
    assert t.search_pattern_count(*steps, **kw) == len(expected)
    first = t.search_first(steps[0]).to_arrow().column("i").to_pylist()
    firsts = [r["i"] for r in ordered if py_steps[0](r) is True][:1]
    assert first == firsts


def test_search_first_stops_early_and_keeps_columns():
    ctx = make_ctx(batch=1000)
    n = 200_000
    t = LTSeq.from_dict({"i": list(range(n)), "v": [i % 1000 for i in range(n)]}, ctx=ctx).assume_sorted("i")
    hit = t.search_first(lambda r: (r.v == 999) & (r.i > 5000))
    assert hit.to_dicts() == [{"i": 5999, "v": 999}]
    assert "fetch=1" in hit.explain()
    assert t.search_first(lambda r: r.v > 5000).count() == 0


def test_steps_can_use_windows_and_strings():
    t = LTSeq.from_dict(
        {"i": [1, 2, 3, 4, 5, 6], "url": ["/home", "/cart/1", "/pay", "/home", "/cart/2", "/home"]}
    ).sort("i")
    funnel = [lambda r: r.url.s.starts_with("/home"), lambda r: r.url.s.starts_with("/cart")]
    assert t.search_pattern(*funnel).to_arrow().column("i").to_pylist() == [1, 4]
    rising = t.derive(n=lambda r: r.i * r.i).search_pattern(lambda r: r.n.diff() > 2, lambda r: r.n.diff() > 4)
    assert rising.to_arrow().column("i").to_pylist() == [2, 3, 4, 5]


def test_search_errors():
    t = LTSeq.from_dict({"i": [1, 2], "e": ["a", "b"]})
    with pytest.raises(SortRequiredError):
        t.search_pattern(lambda r: r.e == "a")
    with pytest.raises(SortRequiredError):
        t.search_first(lambda r: r.e == "a")
    s = t.sort("i")
    with pytest.raises(TypeError, match="step 1 must be a condition"):
        s.search_pattern(lambda r: r.i)
    with pytest.raises(ValueError, match="at least one step"):
        s.search_pattern()
    with pytest.raises(ltseq.ColumnNotFoundError, match="'nope'"):
        s.search_pattern(lambda r: r.e == "a", partition_by="nope")
    assert s.search_pattern(lambda r: r.e == "it's", lambda r: r.e == "b").count() == 0


@pytest.mark.parametrize("source", ["memory", "csv"])
def test_partitions_are_matched_in_parallel_and_agree(source, tmp_path):
    """Stored order over several partitions: each partition is matched on its own, with the
    matches that start at a partition's end decided by the next partitions' first rows."""
    import random

    rng = random.Random(3)
    n = 120_000
    users = sorted(rng.randrange(2000) for _ in range(n))
    events = [rng.choice("AAB") for _ in range(n)]
    table = pa.table({"u": users, "i": list(range(n)), "e": events})
    ctx = make_ctx(batch=777, partitions=4)
    if source == "csv":
        import pyarrow.csv as pacsv

        path = tmp_path / "events.csv"
        pacsv.write_csv(table, path)
        ctx.sql("SET datafusion.optimizer.repartition_file_min_size = 1024").collect()
        t = LTSeq.read_csv(path, ctx=ctx)
    else:
        t = LTSeq.from_arrow(table, ctx=ctx)
    t = t.assume_sorted("u", "i")
    rows = table.to_pylist()
    for pattern, part in [("AB", None), ("AAB", "u"), ("BBB", None), ("A", "u")]:
        steps = [lambda r, p=p: r.e == p for p in pattern]
        py_steps = [lambda r, p=p: r["e"] == p for p in pattern]
        expected = oracle(rows, py_steps, (lambda r: r["u"]) if part else None)
        kw = {"partition_by": part} if part else {}
        assert t.search_pattern_count(*steps, **kw) == len(expected)
        got = t.search_pattern(*steps, **kw).to_arrow().column("i").to_pylist()
        assert got == [rows[i]["i"] for i in expected]
    plan = t.search_pattern(lambda r: r.e == "A", lambda r: r.e == "B").explain()
    if source == "csv":  # the file is read as byte ranges, one partition each
        assert "in parallel" in plan
