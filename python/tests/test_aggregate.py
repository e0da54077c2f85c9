"""Keyed aggregation (group_by().agg, agg(by=...), agg()) against a plain Python loop on random
data with NULL keys and values, unicode keys, and first/last in the table's order."""

from __future__ import annotations

import math
import statistics

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltseq import ColumnNotFoundError, LTSeq

KEYS = st.one_of(st.none(), st.sampled_from(["a", "b", "é", "日本", "it's"]))
VALS = st.one_of(st.none(), st.integers(-50, 50))


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(KEYS, VALS, st.floats(-1e3, 1e3)), max_size=40))
def test_group_by_matches_a_python_loop(rows):
    order = list(range(len(rows)))
    t = LTSeq.from_arrow(
        pa.table(
            {
                "k": pa.array([r[0] for r in rows], pa.string()),
                "v": pa.array([r[1] for r in rows], pa.int64()),
                "w": pa.array([r[2] for r in rows], pa.float64()),
                "o": pa.array(order[::-1], pa.int64()),
            }
        )
    ).sort("o")  # the table's order is the reverse of the input
    out = t.group_by("k").agg(
        n=lambda g: g.count(),
        nv=lambda g: g.v.count(),
        s=lambda g: g.v.sum(),
        mean=lambda g: g.w.mean(),
        lo=lambda g: g.v.min(),
        hi=lambda g: g.v.max(),
        med=lambda g: g.w.median(),
        sd=lambda g: g.w.std(),
        var=lambda g: g.w.var(),
        nu=lambda g: g.v.n_unique(),
        first=lambda g: g.v.first(),
        last=lambda g: g.v.last(),
        pos=lambda g: g.count_if(lambda r: r.v > 0),
        spos=lambda g: g.sum_if(lambda r: r.v > 0, "v"),
        apos=lambda g: g.avg_if(lambda r: r.v > 0, lambda r: r.w * 2),
        ratio=lambda g: g.w.sum() / g.count(),
    )
    got = out.to_arrow().to_pylist()
    in_order = list(reversed(rows))
    groups: dict = {}
    for k, v, w in in_order:
        groups.setdefault(k, []).append((v, w))
    keys = sorted(k for k in groups if k is not None) + ([None] if None in groups else [])
    assert [g["k"] for g in got] == keys
    for g in got:
        rs = groups[g["k"]]
        vs = [v for v, _ in rs if v is not None]
        ws = [w for _, w in rs]
        pos = [(v, w) for v, w in rs if v is not None and v > 0]
        assert g["n"] == len(rs) and g["nv"] == len(vs)
        assert g["s"] == (sum(vs) if vs else None)
        assert close(g["mean"], statistics.fmean(ws))
        assert g["lo"] == (min(vs) if vs else None) and g["hi"] == (max(vs) if vs else None)
        assert close(g["med"], statistics.median(ws))
        assert close(g["sd"], statistics.stdev(ws) if len(ws) > 1 else None)
        assert close(g["var"], statistics.variance(ws) if len(ws) > 1 else None)
        assert g["nu"] == len(set(vs))
        assert g["first"] == rs[0][0] and g["last"] == rs[-1][0]
        assert g["pos"] == len(pos)
        assert g["spos"] == sum(v for v, _ in pos)
        assert close(g["apos"], statistics.fmean(w * 2 for _, w in pos) if pos else None)
        assert close(g["ratio"], sum(ws) / len(rs))


def test_agg_without_key_and_on_empty_tables():
    t = LTSeq.from_dict({"v": [3, None, 5]})
    assert t.agg(n=lambda g: g.count(), s=lambda g: g.v.sum()).to_dicts() == [{"n": 3, "s": 8}]
    empty = LTSeq.from_arrow(pa.table({"k": pa.array([], pa.string()), "v": pa.array([], pa.int64())}))
    assert empty.agg(n=lambda g: g.count(), s=lambda g: g.v.sum()).to_dicts() == [{"n": 0, "s": None}]
    assert empty.group_by("k").agg(n=lambda g: g.count()).to_dicts() == []


def test_top_urls_sorted_and_sliced():
    urls = ["/a", "/b", "/a", "/c", "/a", "/b", "/d"]
    t = LTSeq.from_dict({"url": urls})
    top = t.agg(by=lambda r: r.url, cnt=lambda g: g.url.count()).sort("cnt", desc=True).slice(0, 2)
    assert top.to_dicts() == [{"url": "/a", "cnt": 3}, {"url": "/b", "cnt": 2}]
    assert t.group_by("url").count().to_arrow().column("count").to_pylist() == [3, 2, 1, 1]


def test_computed_and_several_keys():
    t = LTSeq.from_dict({"a": [1, 2, 3, 4, 5], "b": ["x", "y", "x", "y", "x"]})
    out = t.agg(by=lambda r: {"odd": r.a % 2 == 1}, n=lambda g: g.count()).to_dicts()
    assert out == [{"odd": False, "n": 2}, {"odd": True, "n": 3}]
    out = t.group_by(["b", "a"]).agg(n=lambda g: g.count())
    assert out.columns == ["b", "a", "n"] and out.count() == 5
    assert out.sort_keys == [("b", False), ("a", False)]


def test_aggregation_errors():
    t = LTSeq.from_dict({"a": [1, 2], "s": ["x", "y"]})
    with pytest.raises(ValueError, match="outside an aggregate"):
        t.group_by("s").agg(x=lambda g: g.a.sum() + t._proxy().a)
    with pytest.raises(ColumnNotFoundError, match="'nope'"):
        t.group_by("nope")
    with pytest.raises(ColumnNotFoundError, match="'nope'"):
        t.agg(x=lambda g: g.nope.sum())
    with pytest.raises(TypeError, match="needs numbers"):
        t.agg(x=lambda g: g.s.sum())
    with pytest.raises(TypeError, match="aggregate it"):
        t.agg(x=lambda g: g.a)
    with pytest.raises(ValueError, match="at least one aggregate"):
        t.agg()
    with pytest.raises(ValueError, match="given twice"):
        t.group_by("a").agg(a=lambda g: g.count())
