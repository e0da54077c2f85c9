"""The expression library: when/then/otherwise, coalesce, math, time arithmetic and parts,
string helpers, and the new aggregates (corr, cov, string_agg, min_if, max_if), each checked
against Python's own computation (math, datetime, statistics) on values with NULLs and NaN."""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics

import datafusion
import pyarrow as pa
import pytest

import ltseq
from ltseq import LTSeq, coalesce, when


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _col(t: LTSeq, **derive) -> list:
    (name,) = derive
    return [r[name] for r in t.derive(**derive).to_dicts()]


def _close(got: list, want: list) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
        elif isinstance(w, float) and math.isnan(w):
            assert g is not None and math.isnan(g)
        else:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-300), (g, w)


XS = [0.5, -2.0, None, 0.0, 1e-12, 3.0, float("nan"), 100.0, -1e-9]


def test_when_then_otherwise_and_coalesce(ctx) -> None:
    t = LTSeq.from_dict({"x": [1, 5, None, 10], "y": [None, 2, 3, None]}, ctx=ctx)
    assert _col(t, c=lambda r: when(r.x > 7).then("big").when(r.x > 2).then("mid").otherwise("small")) == [
        "small",
        "mid",
        "small",
        "big",
    ]
    assert _col(t, c=lambda r: when(r.x > 2).then(r.x * 10)) == [None, 50, None, 100]
    assert _col(t, c=lambda r: when(r.x > 2, 1).otherwise(0)) == [0, 1, 0, 1]
    assert _col(t, c=lambda r: coalesce(r.y, r.x, -1)) == [1, 2, 3, 10]
    assert t.filter(lambda r: when(r.y.is_null()).then(True).otherwise(False)).count() == 2
    with pytest.raises(ValueError, match="otherwise\\(\\) is given twice"):
        when(True).then(1).otherwise(2).otherwise(3)
    with pytest.raises(TypeError, match="takes a condition"):
        when(LTSeq.from_dict({"s": ["a"]}, ctx=ctx)._proxy().s)


@pytest.mark.parametrize(
    "method, oracle",
    [
        ("sqrt", lambda x: math.sqrt(x) if x >= 0 else float("nan")),
        ("exp", math.exp),
        ("log10", lambda x: math.log10(x) if x > 0 else (float("-inf") if x == 0 else float("nan"))),
        ("sin", math.sin),
        ("cos", math.cos),
        ("tan", math.tan),
        ("arctan", math.atan),
        ("tanh", math.tanh),
        ("sign", lambda x: (x > 0) - (x < 0) + 0.0),
    ],
)
def test_math_methods_match_python(ctx, method: str, oracle) -> None:
    t = LTSeq.from_dict({"x": XS}, ctx=ctx)
    want = [None if x is None else (x if math.isnan(x) else oracle(x)) for x in XS]
    _close(_col(t, y=lambda r: getattr(r.x, method)()), want)


def test_log_log1p_pow_clip(ctx) -> None:
    t = LTSeq.from_dict({"x": XS}, ctx=ctx)
    pos = lambda f: [None if x is None else (x if math.isnan(x) else (f(x) if x > 0 else None)) for x in XS]  # noqa: E731
    got = _col(t, y=lambda r: when(r.x > 0).then(r.x.log()).otherwise(None))
    _close(got, pos(math.log))
    got = _col(t, y=lambda r: when(r.x > 0).then(r.x.log(2)).otherwise(None))
    _close(got, pos(lambda x: math.log(x, 2)))
    small = [None if x is None else (x if math.isnan(x) else (math.log1p(x) if x > -1 else float("nan"))) for x in XS]
    _close(_col(t, y=lambda r: r.x.log1p()), small)
    _close(
        _col(t, y=lambda r: r.x.abs().pow(0.5)),
        [None if x is None else (x if math.isnan(x) else abs(x) ** 0.5) for x in XS],
    )
    clipped = [None if x is None else (x if math.isnan(x) else min(max(x, -1.0), 2.0)) for x in XS]
    _close(_col(t, y=lambda r: r.x.clip(-1.0, 2.0)), clipped)
    ints = LTSeq.from_dict({"i": [-5, 0, None, 9]}, ctx=ctx)
    assert _col(ints, y=lambda r: r.i.clip(lower=0)) == [0, 0, None, 9]
    assert _col(ints, y=lambda r: r.i.clip(upper=3)) == [-5, 0, None, 3]
    with pytest.raises(ValueError, match="base"):
        t.derive(y=lambda r: r.x.log(1))
    with pytest.raises(TypeError, match="needs a number"):
        LTSeq.from_dict({"s": ["a"]}, ctx=ctx).derive(y=lambda r: r.s.sqrt())


def test_time_arithmetic_and_parts(ctx) -> None:
    stamps = [dt.datetime(2024, 1, 31, 23, 59, 58, 123456), None, dt.datetime(1969, 12, 31, 12, 0, 0, 999000)]
    t = LTSeq.from_dict({"ts": stamps, "d": [dt.date(2024, 2, 29), None, dt.date(1970, 1, 2)]}, ctx=ctx)
    moved = _col(t, y=lambda r: r.ts.dt.add(hours=1, minutes=2, seconds=3, milliseconds=4))
    assert moved == [
        None if s is None else s + dt.timedelta(hours=1, minutes=2, seconds=3, milliseconds=4) for s in stamps
    ]
    assert _col(t, y=lambda r: r.ts.dt.add(days=1, weeks=1)) == [
        None if s is None else s + dt.timedelta(days=8) for s in stamps
    ]
    assert _col(t, y=lambda r: r.ts.dt.millisecond()) == [123, None, 999]
    assert _col(t, y=lambda r: r.ts.dt.date()) == [None if s is None else s.date() for s in stamps]
    epoch = dt.datetime(1970, 1, 1)
    for unit, per in (("s", 1), ("ms", 1000), ("us", 10**6)):
        want = [
            None if s is None else math.floor((s - epoch) / dt.timedelta(microseconds=1) * per / 10**6) for s in stamps
        ]
        assert _col(t, y=lambda r, u=unit: r.ts.dt.epoch(u)) == want, unit
    assert _col(t, y=lambda r: r.d.dt.epoch("s")) == [1709164800, None, 86400]
    trunc = _col(t, y=lambda r: r.ts.dt.truncate("15m"))
    assert trunc == [dt.datetime(2024, 1, 31, 23, 45), None, dt.datetime(1969, 12, 31, 12, 0)]
    assert _col(t, y=lambda r: r.ts.dt.truncate(dt.timedelta(hours=6))) == [
        dt.datetime(2024, 1, 31, 18),
        None,
        dt.datetime(1969, 12, 31, 12),
    ]
    assert _col(t, y=lambda r: r.ts.dt.truncate("1mo")) == [dt.datetime(2024, 1, 1), None, dt.datetime(1969, 12, 1)]
    later = LTSeq.from_dict({"a": [dt.datetime(2024, 1, 1, 0, 0)], "b": [dt.datetime(2024, 1, 1, 1, 30)]}, ctx=ctx)
    for unit, want in (("h", 1.5), ("m", 90.0), ("s", 5400.0), ("ms", 5400000.0), ("d", 1.5 / 24)):
        assert _col(later, y=lambda r, u=unit: r.b.dt.diff(r.a, unit=u)) == [pytest.approx(want)], unit
    with pytest.raises(ValueError, match="not a duration"):
        t.derive(y=lambda r: r.ts.dt.truncate("15 minutes"))
    with pytest.raises(TypeError, match="whole days"):
        t.derive(y=lambda r: r.d.dt.add(hours=1))
    with pytest.raises(ValueError, match="unit must be"):
        t.derive(y=lambda r: r.ts.dt.epoch("minutes"))


def test_string_helpers(ctx) -> None:
    t = LTSeq.from_dict({"s": ["hello-world-x", None, "abc", ""]}, ctx=ctx)
    assert _col(t, y=lambda r: r.s.s.left(3)) == ["hel", None, "abc", ""]
    assert _col(t, y=lambda r: r.s.s.right(2)) == ["-x", None, "bc", ""]
    assert _col(t, y=lambda r: r.s.s.find("-")) == [5, None, -1, -1]
    assert _col(t, y=lambda r: r.s.s.split_part("-", 2)) == ["world", None, "", ""]


def test_new_aggregates_match_statistics(ctx) -> None:
    rng = random.Random(4)
    rows = [
        {"g": rng.randrange(3), "x": rng.random(), "y": None if rng.random() < 0.1 else rng.random(), "s": f"s{i}"}
        for i in range(300)
    ]
    t = LTSeq.from_rows(rows, ctx=ctx).sort("g")
    got = {
        r["g"]: r
        for r in t.group_by("g")
        .agg(
            c=lambda g: g.x.corr(g.y),
            v=lambda g: g.cov("x", "y"),
            s=lambda g: g.s.string_agg("|"),
            lo=lambda g: g.min_if(lambda q: q.x > 0.5, "x"),
            hi=lambda g: g.max_if(lambda q: q.x < 0.5, "x"),
            q=lambda g: g.x.quantile(0.5),
        )
        .to_dicts()
    }
    for k in range(3):
        grp = [r for r in rows if r["g"] == k]
        pairs = [(r["x"], r["y"]) for r in grp if r["y"] is not None]
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        assert got[k]["c"] == pytest.approx(statistics.correlation(xs, ys), rel=1e-9)
        assert got[k]["v"] == pytest.approx(statistics.covariance(xs, ys), rel=1e-9)
        assert got[k]["s"] == "|".join(r["s"] for r in grp)  # in the table's order
        assert got[k]["lo"] == min(r["x"] for r in grp if r["x"] > 0.5)
        assert got[k]["hi"] == max(r["x"] for r in grp if r["x"] < 0.5)
        assert got[k]["q"] == pytest.approx(statistics.quantiles([r["x"] for r in grp], n=2, method="inclusive")[0])
    # the same vocabulary over groups of consecutive rows
    runs = (
        t.group_ordered(lambda r: r.g).agg(s=lambda g: g.string_agg("s", ","), c=lambda g: g.corr("x", "y")).to_dicts()
    )
    assert [r["s"] for r in runs] == [",".join(r["s"] for r in rows if r["g"] == k) for k in range(3)]
    assert runs[0]["c"] == pytest.approx(got[0]["c"], rel=1e-9)


def test_ranking_functions_at_the_package_root() -> None:
    assert ltseq.row_number is ltseq.expr.row_number
    assert {"when", "coalesce", "rank", "dense_rank", "ntile"} <= set(ltseq.__all__)
    assert pa.__name__ == "pyarrow"
