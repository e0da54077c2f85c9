"""Aggregates over expressions of a group's columns: ``(g.q * g.p).sum()`` and friends, in
``agg``, ``group_by().agg``, ``group_ordered().agg`` / ``derive`` / ``filter``, checked against a
plain Python oracle on random data with NULLs, NaN-free floats, ties, one-row groups and many
partitions of the input."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable
from typing import Any

import datafusion
import pyarrow as pa
import pytest

import ltseq
from ltseq import LTSeq

N = 500


def make_rows(seed: int = 3) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows, k = [], 0
    for i in range(N):
        if rnd.random() < 0.3:
            k += 1  # consecutive groups, some of one row
        q = None if rnd.random() < 0.15 else rnd.randint(-3, 6)
        p = None if rnd.random() < 0.1 else rnd.choice([0.5, 1.0, 2.25, -1.5])
        rows.append({"k": k, "c": k % 7, "t": i, "q": q, "p": p, "s": rnd.choice(["a", "bb", "ccc", None])})
    return rows


ROWS = make_rows()


def table(tp: int, rows: list[dict[str, Any]] = ROWS) -> LTSeq:
    ctx = ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(tp)))
    tb = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("k", pa.int64()),
                ("c", pa.int64()),
                ("t", pa.int64()),
                ("q", pa.int64()),
                ("p", pa.float64()),
                ("s", pa.string()),
            ]
        ),
    )
    return LTSeq.from_arrow(
        pa.Table.from_batches(tb.to_batches(max_chunksize=37), schema=tb.schema), ctx=ctx
    ).assume_sorted("k", "t")


def qp(r: dict[str, Any]) -> float | None:
    return None if r["q"] is None or r["p"] is None else r["q"] * r["p"]


def ieee_div(a: float, b: float) -> float:
    """Float division as the engine (and Polars) does it: x/0 is inf, 0/0 is NaN."""
    if b == 0:
        return math.nan if a == 0 else math.copysign(math.inf, a)
    return a / b


def nonnull(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def oracle(groups: dict[Any, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    names = ["key", "v", "ratio", "n", "m", "lmax", "nu", "f", "big", "share"]
    out: dict[str, list[Any]] = {n: [] for n in names}
    for key, rs in groups.items():
        vals = nonnull([qp(r) for r in rs])
        qs = nonnull([r["q"] for r in rs])
        out["key"].append(key)
        v = sum(vals) if vals else None
        out["v"].append(v)
        qsum = sum(qs) if qs else None
        out["ratio"].append(None if v is None or qsum is None else ieee_div(v, qsum))
        out["n"].append(len(vals))
        out["m"].append(statistics.fmean(vals) if vals else None)
        lens = nonnull([None if r["s"] is None else len(r["s"]) for r in rs])
        out["lmax"].append(max(lens) if lens else None)
        out["nu"].append(len({q % 2 for q in qs}))
        out["f"].append(None if rs[0]["p"] is None else rs[0]["p"] * 2)
        bigs = [int(q > 2) for q in qs]  # booleans count as 1 and 0
        out["big"].append(sum(bigs) if bigs else None)
        out["share"].append(statistics.fmean(bigs) if bigs else None)
    return out


AGGS: dict[str, Callable[[Any], Any]] = {
    "v": lambda g: (g.q * g.p).sum(),
    "ratio": lambda g: (g.q * g.p).sum() / g.q.sum(),
    "n": lambda g: (g.q * g.p).count(),
    "m": lambda g: (g.q * g.p).mean(),
    "lmax": lambda g: g.s.s.len().max(),
    "nu": lambda g: (g.q % 2).n_unique(),
    "f": lambda g: (g.p * 2).first(),
    "big": lambda g: (g.q > 2).sum(),
    "share": lambda g: (g.q > 2).mean(),
}


def close(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if x is not y:
                return False
        elif not (math.isnan(x) and math.isnan(y)) and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True


def check(got: dict[str, list[Any]], want: dict[str, list[Any]], names: list[str]) -> None:
    for n in names:
        assert close(got[n], want[n]), (n, got[n][:10], want[n][:10])


def by(key: str, rows: list[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


@pytest.mark.parametrize("tp", [1, 2, 8])
def test_group_by_agg(tp: int) -> None:
    got = table(tp).group_by("c").agg(**AGGS).to_arrow().to_pydict()
    want = oracle(dict(sorted(by("c", ROWS).items())))
    assert got["c"] == want["key"]
    check(got, want, list(AGGS))


@pytest.mark.parametrize("tp", [1, 8])
def test_agg_without_keys(tp: int) -> None:
    got = table(tp).agg(**AGGS).to_arrow().to_pydict()
    check(got, oracle({None: ROWS}), list(AGGS))


@pytest.mark.parametrize("tp", [1, 2, 8])
def test_group_ordered_agg(tp: int) -> None:
    got = table(tp).group_ordered("k").agg(**AGGS).to_arrow().to_pydict()
    check(got, oracle(by("k", ROWS)), list(AGGS))
    # the dict form gives the same
    got2 = table(tp).group_ordered("k").agg(lambda g: {n: f(g) for n, f in AGGS.items()}).to_arrow().to_pydict()
    check(got2, got, list(AGGS))


@pytest.mark.parametrize("tp", [1, 8])
def test_group_ordered_filter_and_derive(tp: int) -> None:
    t = table(tp)
    groups = by("k", ROWS)
    sums = {k: oracle({k: rs})["v"][0] for k, rs in groups.items()}
    kept = t.group_ordered("k").filter(lambda g: (g.q * g.p).sum() > 2).flatten().to_arrow().to_pydict()
    assert kept["t"] == [r["t"] for r in ROWS if sums[r["k"]] is not None and sums[r["k"]] > 2]
    derived = t.group_ordered("k").derive(tot=lambda g: (g.q * g.p).sum()).to_arrow().to_pydict()
    assert derived["t"] == [r["t"] for r in ROWS]
    assert close(derived["tot"], [sums[r["k"]] for r in ROWS])


def test_empty_input_and_one_row_groups() -> None:
    empty = table(2, []).group_by("c").agg(v=lambda g: (g.q * g.p).sum()).to_arrow()
    assert empty.num_rows == 0
    one = [{"k": i, "c": i, "t": i, "q": i, "p": 1.5, "s": "x"} for i in range(5)]
    got = table(2, one).group_ordered("k").agg(v=lambda g: (g.q * g.p).sum()).to_arrow().to_pydict()
    assert got["v"] == [i * 1.5 for i in range(5)]


def test_an_alias_inside_an_aggregate_is_ignored() -> None:
    got = table(1).group_by("c").agg(v=lambda g: (g.q * g.p).alias("x").sum()).to_arrow().to_pydict()
    want = table(1).group_by("c").agg(v=lambda g: (g.q * g.p).sum()).to_arrow().to_pydict()
    assert got == want


def test_clear_errors() -> None:
    t = table(1)
    with pytest.raises(TypeError, match="one value per group"):
        t.group_by("c").agg(v=lambda g: (g.q * g.p.sum()).sum())
    with pytest.raises(TypeError, match="window expressions"):
        t.group_by("c").agg(v=lambda g: g.q.shift(1).sum())
    with pytest.raises(TypeError, match="aggregate it"):
        t.group_by("c").agg(v=lambda g: g.q * g.p)
    with pytest.raises(TypeError, match="aggregate it"):
        t.group_ordered("k").agg(v=lambda g: g.q * g.p)
    with pytest.raises(TypeError, match="needs numbers"):
        t.group_by("c").agg(v=lambda g: g.s.sum())
    with pytest.raises(ltseq.ColumnNotFoundError, match="nope"):
        t.group_ordered("k").agg(v=lambda g: g.nope.sum())
    with pytest.raises(ValueError, match="given twice"):
        t.group_ordered("k").agg(lambda g: {"v": g.count()}, v=lambda g: g.count())
