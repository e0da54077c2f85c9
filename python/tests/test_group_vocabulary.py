"""One group vocabulary: keyed aggregation (``group_by().agg``, ``agg(by=)``) and groups of
consecutive rows (``group_ordered().agg``) accept the same forms (``g.x.mean()``,
``g.mean("x")``, ``g.mean(lambda r: r.x)``, ``g.mean(g.x)``) and the same aggregates, with the
same values, checked against a plain Python computation."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from ltseq import LTSeq

AGGREGATES = ["sum", "mean", "min", "max", "median", "std", "var", "n_unique", "first", "last", "count"]


def _rows() -> list[dict]:
    rng = random.Random(11)
    rows = []
    for i in range(400):
        k = rng.randint(0, 6)
        rows.append({"i": i, "k": k, "x": None if rng.random() < 0.1 else rng.randint(-50, 50) / 4})
    return rows


def _python(values: list, name: str):
    present = [v for v in values if v is not None]
    if name == "count":
        return len(present)
    if name == "first":
        return values[0]
    if name == "last":
        return values[-1]
    if name == "n_unique":
        return len(set(present))
    if not present:
        return None
    if name in ("std", "var") and len(present) < 2:
        return None
    return {
        "sum": sum,
        "mean": statistics.fmean,
        "min": min,
        "max": max,
        "median": statistics.median,
        "std": statistics.stdev,
        "var": statistics.variance,
    }[name](present)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _forms(name: str):
    return {
        "values": lambda g: getattr(g.x, name)(),
        "name": lambda g: getattr(g, name)("x"),
        "lambda": lambda g: getattr(g, name)(lambda r: r.x),
        "g.col": lambda g: getattr(g, name)(g.x),
    }


@pytest.mark.parametrize("name", AGGREGATES)
def test_every_form_of_every_aggregate_in_both_groupings(name: str) -> None:
    rows = _rows()
    t = LTSeq.from_rows(rows).sort("i")
    by_key: dict[int, list] = {}
    for r in rows:
        by_key.setdefault(r["k"], []).append(r["x"])
    runs: list[list] = []
    for j, r in enumerate(rows):
        if j == 0 or rows[j - 1]["k"] != r["k"]:
            runs.append([])
        runs[-1].append(r["x"])
    keyed_expected = [_python(by_key[k], name) for k in sorted(by_key)]
    runs_expected = [_python(run, name) for run in runs]
    for form, fn in _forms(name).items():
        keyed = t.group_by("k").agg(v=fn).to_arrow().column("v").to_pylist()
        assert all(_same(a, b) for a, b in zip(keyed, keyed_expected)) and len(keyed) == len(keyed_expected), form
        ordered = t.group_ordered(lambda r: r.k).agg(v=fn).to_arrow().column("v").to_pylist()
        assert len(ordered) == len(runs_expected), form
        assert all(_same(a, b) for a, b in zip(ordered, runs_expected)), (form, ordered[:5], runs_expected[:5])


def test_conditions_rows_and_quantiles_in_both_groupings() -> None:
    rows = _rows()
    t = LTSeq.from_rows(rows).sort("i")
    aggs = {
        "n": lambda g: g.count(),
        "pos": lambda g: g.count_if(lambda r: r.x > 0),
        "spos": lambda g: g.sum_if(lambda r: r.x > 0, "x"),
        "apos": lambda g: g.avg_if(lambda r: r.x > 0, lambda r: r.x),
        "all": lambda g: g.all(lambda r: r.x > -100),
        "any": lambda g: g.any(lambda r: r.x > 12),
        "none": lambda g: g.none(lambda r: r.x > 12),
        "p25": lambda g: g.percentile("x", 0.25),
        "p75": lambda g: g.x.percentile(0.75),
        "first_i": lambda g: g.first().i,
        "last_i": lambda g: g.last()["i"],
        "bools": lambda g: (g.x > 0).sum(),
    }

    def expected(group: list[dict]) -> dict:
        xs = [r["x"] for r in group]
        pos = [x for x in xs if x is not None and x > 0]
        present = sorted(x for x in xs if x is not None)

        def q(p: float):
            if not present:
                return None
            h = (len(present) - 1) * p
            lo = math.floor(h)
            return present[lo] + (present[min(lo + 1, len(present) - 1)] - present[lo]) * (h - lo)

        return {
            "n": len(group),
            "pos": len(pos),
            "spos": sum(pos) if pos else 0,
            "apos": statistics.fmean(pos) if pos else None,
            "all": all(x is not None and x > -100 for x in xs),
            "any": any(x is not None and x > 12 for x in xs),
            "none": not any(x is not None and x > 12 for x in xs),
            "p25": q(0.25),
            "p75": q(0.75),
            "first_i": group[0]["i"],
            "last_i": group[-1]["i"],
            "bools": len(pos) if present else None,  # a sum of NULLs only is NULL
        }

    keyed_groups: dict[int, list] = {}
    for r in rows:
        keyed_groups.setdefault(r["k"], []).append(r)
    runs: list[list] = []
    for j, r in enumerate(rows):
        if j == 0 or rows[j - 1]["k"] != r["k"]:
            runs.append([])
        runs[-1].append(r)
    for got, groups in [
        (t.group_by("k").agg(**aggs).to_dicts(), [keyed_groups[k] for k in sorted(keyed_groups)]),
        (t.group_ordered(lambda r: r.k).agg(**aggs).to_dicts(), runs),
    ]:
        assert len(got) == len(groups)
        for row, group in zip(got, groups):
            want = expected(group)
            for name, value in want.items():
                assert _same(row[name], value), (name, row[name], value)


def test_bad_arguments_name_the_method() -> None:
    t = LTSeq.from_dict({"k": [1], "x": [1.0], "s": ["a"]}).sort("k")
    for grouping in (t.group_by("k"), t.group_ordered(lambda r: r.k)):
        with pytest.raises(TypeError, match=r"g.mean\(\) takes a column name or a row lambda"):
            grouping.agg(v=lambda g: g.mean(3))
        with pytest.raises(ValueError, match="p must be a number from 0 to 1"):
            grouping.agg(v=lambda g: g.percentile("x", 2))
        with pytest.raises(TypeError, match="needs numbers"):
            grouping.agg(v=lambda g: g.mean("s"))
        with pytest.raises(TypeError, match="needs a condition"):
            grouping.agg(v=lambda g: g.count_if(lambda r: r.x))
