"""Window expressions in the DSL: shift, diff, pct_change, rolling, cum_*, ranking, the
table method cum_sum, composition, filter, partitions, and the missing-order errors.

Every test runs twice: with ltseq's Window operator (the default) and with SQL window calls
only; both must give the same results."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from ltseq import LTSeq, SortRequiredError, if_else
from ltseq import window as window_module
from ltseq.expr import dense_rank, ntile, rank, row_number


@pytest.fixture(autouse=True, params=["operator", "sql"])
def mode(request, monkeypatch):
    monkeypatch.setattr(window_module, "use_operator", request.param == "operator")
    return request.param


def col(t: LTSeq, name: str) -> list:
    return t.to_arrow().column(name).to_pylist()


@pytest.fixture
def prices() -> LTSeq:
    # deliberately not in date order on input
    return LTSeq.from_dict({"date": [3, 1, 5, 2, 4], "value": [300, 100, 500, 200, 400]}).sort("date")


@pytest.fixture
def groups() -> LTSeq:
    return LTSeq.from_dict(
        {"grp": ["A", "A", "A", "B", "B", "B"], "d": [1, 2, 3, 1, 2, 3], "v": [10, 20, None, 5, 7, 7]}
    ).sort("grp", "d")


def test_shift_with_defaults(prices: LTSeq):
    t = prices.derive(
        lambda r: {
            "s1": r.value.shift(1),
            "s2": r.value.shift(2, default=0),
            "n1": r.value.shift(-1, default=0),
            "s0": r.value.shift(0, default=999),
            "pos": r.value.shift(1, -1),  # default given positionally
        }
    )
    assert col(t, "s1") == [None, 100, 200, 300, 400]
    assert col(t, "s2") == [0, 0, 100, 200, 300]
    assert col(t, "n1") == [200, 300, 400, 500, 0]
    assert col(t, "s0") == [100, 200, 300, 400, 500]
    assert col(t, "pos") == [-1, 100, 200, 300, 400]


def test_shift_default_of_another_type_or_an_expression(prices: LTSeq):
    t = prices.derive(lambda r: {"half": r.value.shift(1, default=0.5), "expr": r.value.shift(1, default=r.value * 10)})
    assert col(t, "half") == [0.5, 100, 200, 300, 400]  # not cast to an integer
    assert col(t, "expr") == [1000, 100, 200, 300, 400]


def test_shift_keeps_nulls_that_are_values():
    t = LTSeq.from_dict({"i": [1, 2, 3], "v": [None, 2, 3]}).sort("i")
    assert col(t.derive(p=lambda r: r.v.shift(1, default=0)), "p") == [0, None, 2]


def test_partition_by_restarts(groups: LTSeq):
    t = groups.derive(
        lambda r: {
            "s": r.v.shift(1, partition_by="grp"),
            "d1": r.v.diff(partition_by="grp"),
            "cs": r.v.cum_sum(partition_by=r.grp),
            "rs": r.v.rolling(2, partition_by="grp").sum(),
            "over": r.v.shift(1).over(partition_by="grp"),
        }
    )
    assert col(t, "s") == [None, 10, 20, None, 5, 7]
    assert col(t, "d1") == [None, 10, None, None, 2, 0]
    assert col(t, "cs") == [10, 30, 30, 5, 12, 19]
    assert col(t, "rs") == [10, 30, 20, 5, 12, 14]
    assert col(t, "over") == col(t, "s")


def test_diff_and_pct_change():
    t = LTSeq.from_dict({"t": [1, 2, 3, 4], "v": [100, 102, 101, 105], "p": [100.0, 110.0, 99.0, 99.0]}).sort("t")
    t = t.derive(
        lambda r: {
            "d": r.v.diff(),
            "d2": r.v.diff(2),
            "dm": r.v.diff(-1),
            "pc": r.p.pct_change(),
            "pi": r.v.pct_change(),
        }
    )
    assert col(t, "d") == [None, 2, -1, 4]
    assert col(t, "d2") == [None, None, 1, 3]
    assert col(t, "dm") == [-2, 1, -4, None]
    assert [round(x, 12) if x is not None else None for x in col(t, "pc")] == [None, 0.1, -0.1, 0.0]
    assert col(t, "pi")[1] == pytest.approx(0.02)  # integers are not integer-divided
    assert t.schema["pc"] == "float64" and t.schema["d"] == "int64"


def test_rolling_aggregates():
    t = LTSeq.from_dict({"t": [1, 2, 3, 4], "v": [10, 20, 30, 40]}).sort("t")
    t = t.derive(
        lambda r: {
            "sum2": r.v.rolling(2).sum(),
            "mean3": r.v.rolling(3).mean(),
            "min2": r.v.rolling(2).min(),
            "max2": r.v.rolling(2).max(),
            "cnt3": r.v.rolling(3).count(),
            "std3": r.v.rolling(3).std(),
            "var3": r.v.rolling(3, min_periods=3).var(),
            "mean_full": r.v.rolling(3, min_periods=3).mean(),
            "w1": r.v.rolling(1).sum(),
            "big": r.v.rolling(100).sum(),
        }
    )
    assert col(t, "sum2") == [10, 30, 50, 70]
    assert col(t, "mean3") == [10, 15, 20, 30]
    assert col(t, "min2") == [10, 10, 20, 30]
    assert col(t, "max2") == [10, 20, 30, 40]
    assert col(t, "cnt3") == [1, 2, 3, 3]
    assert col(t, "std3")[0] is None and col(t, "std3")[1:] == pytest.approx([math.sqrt(50), 10, 10])
    assert col(t, "var3") == [None, None, 100, 100]
    assert col(t, "mean_full") == [None, None, 20, 30]
    assert col(t, "w1") == [10, 20, 30, 40]
    assert col(t, "big") == [10, 30, 60, 100]
    assert t.schema["sum2"] == "int64" and t.schema["mean3"] == "float64" and t.schema["cnt3"] == "int64"


def test_cumulative_expressions_and_table_method():
    t = LTSeq.from_dict({"d": [1, 2, 3, 4], "v": [5, None, 2, 3]}).sort("d")
    e = t.derive(lambda r: {"cs": r.v.cum_sum(), "cp": r.v.cum_prod(), "cmin": r.v.cum_min(), "cmax": r.v.cum_max()})
    assert col(e, "cs") == [5, 5, 7, 10]
    assert col(e, "cp") == [5, 5, 10, 30]
    assert col(e, "cmin") == [5, 5, 2, 2]
    assert col(e, "cmax") == [5, 5, 5, 5]
    m = t.cum_sum("v", lambda r: r.v * 2, lambda r: r.d)
    assert m.columns == ["d", "v", "v_cumsum", "cum_sum_1_cumsum", "d_cumsum"]
    assert col(m, "v_cumsum") == [5, 5, 7, 10]
    assert col(m, "cum_sum_1_cumsum") == [10, 10, 14, 20]
    assert m.sort_keys == [("d", False)]


def test_descending_order_is_followed():
    t = LTSeq.from_dict({"k": [1, 2, 3, 4, 5], "v": [10, 20, 30, 40, 50]}).sort("k", desc=True)
    t = t.derive(lambda r: {"s": r.v.rolling(2).sum(), "d": r.v.diff()})
    assert col(t, "s") == [50, 90, 70, 50, 30]
    assert col(t, "d") == [None, -10, -10, -10, -10]
    assert col(t.cum_sum("v"), "v_cumsum") == [50, 90, 120, 140, 150]


def test_ties_break_in_the_previous_order():
    # equal sort keys: windows follow the stable order (input order within ties)
    t = LTSeq.from_dict({"k": [1, 1, 1, 2], "v": [3, 1, 2, 4]}).sort("k")
    assert col(t.derive(p=lambda r: r.v.shift(1)), "p") == [None, 3, 1, 2]


def test_ranking():
    t = LTSeq.from_dict({"g": ["a", "a", "a", "b", "b"], "s": [30, 10, 30, None, 5]}).sort("s")
    r = t.derive(
        lambda r: {
            "rn": row_number(),
            "rk": rank(),
            "dr": dense_rank(),
            "nt": ntile(2),
            "rk_g": rank().over(partition_by="g", order_by="s", descending=True),
            "rn_g": row_number().over(partition_by=r.g),
        }
    )
    rows = r.to_dicts()
    assert [x["s"] for x in rows] == [5, 10, 30, 30, None]
    assert [x["rn"] for x in rows] == [1, 2, 3, 4, 5]
    assert [x["rk"] for x in rows] == [1, 2, 3, 3, 5]
    assert [x["dr"] for x in rows] == [1, 2, 3, 3, 4]
    assert [x["nt"] for x in rows] == [1, 1, 1, 2, 2]
    assert [(x["g"], x["rk_g"]) for x in rows] == [("b", 2), ("a", 3), ("a", 1), ("a", 1), ("b", 1)]
    assert [(x["g"], x["rn_g"]) for x in rows] == [("b", 1), ("a", 1), ("a", 2), ("a", 3), ("b", 2)]


def test_ranking_with_explicit_order_needs_no_sort():
    t = LTSeq.from_dict({"s": [3, 1, 2]})
    assert col(t.derive(r=lambda r: rank().over(order_by="s")), "r") == [3, 1, 2]
    assert col(t.derive(p=lambda r: r.s.shift(1).over(order_by=r.s)), "p") == [2, None, 1]


def test_composition():
    t = LTSeq.from_dict({"d": [1, 2, 3, 4], "close": [10.0, 11.0, 9.9, 9.9]}).sort("d")
    t = t.derive(
        lambda r: {
            "ret": (r.close - r.close.shift(1)) / r.close.shift(1),
            "above": r.close.rolling(2).mean() > r.close,
            "z": if_else(r.close.diff() > 0, "up", "down"),
            "nested": r.close.rolling(2).mean().shift(1),
            "deep": r.close.diff().rolling(2).sum().shift(1),
            "r": r.close.diff().abs().round(1),
        }
    )
    assert [None if x is None else round(x, 12) for x in col(t, "ret")] == [None, 0.1, -0.1, 0.0]
    assert col(t, "above") == [False, False, True, False]
    assert col(t, "z") == ["down", "up", "down", "down"]
    assert [None if x is None else round(x, 9) for x in col(t, "nested")] == [None, 10.0, 10.5, 10.45]
    assert [None if x is None else round(x, 9) for x in col(t, "deep")] == [None, None, 1.0, -0.1]
    assert col(t, "r") == [None, 1.0, 1.1, 0.0]


def test_windows_inside_filter_are_computed_before_filtering():
    t = LTSeq.from_dict({"d": [1, 2, 3, 4, 5], "v": [1, 3, 2, 5, 4]}).sort("d")
    up = t.filter(lambda r: r.v > r.v.shift(1))
    assert up.to_dicts() == [{"d": 2, "v": 3}, {"d": 4, "v": 5}]
    # a window after the filter sees only the surviving rows
    assert col(up.derive(p=lambda r: r.v.shift(1)), "p") == [None, 3]
    assert up.sort_keys == [("d", False)]


def test_windows_in_select_and_sort():
    t = LTSeq.from_dict({"d": [1, 2, 3], "v": [5, 1, 3]}).sort("d")
    s = t.select("d", lambda r: r.v.cum_sum().alias("cs"))
    assert s.to_dicts() == [{"d": 1, "cs": 5}, {"d": 2, "cs": 6}, {"d": 3, "cs": 9}]
    by = t.sort(lambda r: r.v.diff())
    assert col(by, "d") == [2, 3, 1]  # diffs NULL, -4, 2: NULLs last


def test_missing_order_errors():
    t = LTSeq.from_dict({"d": [2, 1], "v": [1, 2]})
    for fn in (
        lambda r: r.v.shift(1),
        lambda r: r.v.diff(),
        lambda r: r.v.pct_change(),
        lambda r: r.v.rolling(2).mean(),
        lambda r: r.v.cum_sum(),
        lambda r: row_number(),
        lambda r: rank(),
    ):
        with pytest.raises(SortRequiredError, match=r"call \.sort\(\.\.\.\) first"):
            t.derive(x=fn)
    with pytest.raises(SortRequiredError, match="sort"):
        t.filter(lambda r: r.v > r.v.shift(1))
    with pytest.raises(SortRequiredError, match="sort"):
        t.cum_sum("v")
    with pytest.raises(SortRequiredError):  # a computed sort declares no order
        t.sort(lambda r: r.d * 2).derive(x=lambda r: r.v.shift(1))


def test_assume_sorted_declares_the_order_without_sorting():
    t = LTSeq.from_dict({"d": [1, 2, 3], "v": [1, 4, 9]}).assume_sorted("d")
    assert col(t.derive(x=lambda r: r.v.diff()), "x") == [None, 3, 5]


def test_argument_errors():
    t = LTSeq.from_dict({"d": [1, 2], "v": [1, 2], "s": ["a", "b"]}).sort("d")
    with pytest.raises(ValueError, match="positive"):
        t.derive(x=lambda r: r.v.rolling(0).sum())
    with pytest.raises(ValueError, match="positive"):
        t.derive(x=lambda r: r.v.rolling(-2).sum())
    with pytest.raises(TypeError, match="integer"):
        t.derive(x=lambda r: r.v.rolling(2.5).sum())
    with pytest.raises(ValueError, match="min_periods must be between 1 and w = 2, got 3"):
        t.derive(x=lambda r: r.v.rolling(2, min_periods=3).sum())
    with pytest.raises(TypeError, match="integer"):
        t.derive(x=lambda r: r.v.shift("1"))
    with pytest.raises(TypeError, match="needs a number"):
        t.derive(x=lambda r: r.s.rolling(2).mean())
    with pytest.raises(TypeError, match="needs a number"):
        t.derive(x=lambda r: r.s.cum_sum())
    with pytest.raises(TypeError, match="numeric"):
        t.cum_sum("s")
    with pytest.raises(ValueError, match="partition_by is given twice"):
        t.derive(x=lambda r: r.v.shift(1, partition_by="d").over(partition_by="d"))
    with pytest.raises(ValueError, match="not found"):
        t.derive(x=lambda r: r.v.shift(1, partition_by="nope"))
    with pytest.raises(ValueError, match="ntile"):
        ntile(0)
    with pytest.raises(AttributeError):
        t.derive(x=lambda r: r.v.abs().over(partition_by="d"))
    with pytest.raises(TypeError, match="window expression"):
        t.distinct(lambda r: r.v.shift(1))
    with pytest.raises(ValueError, match="already has a column 'v_cumsum'"):
        t.cum_sum("v").cum_sum("v")


def test_window_expressions_show_their_sql_and_plan(mode):
    t = LTSeq.from_dict({"d": [1, 2], "v": [1, 2]}).sort("d")
    m = t.derive(m=lambda r: r.v.rolling(5).mean())
    if mode == "sql":
        assert "rolling_avg(" in m.sql and "OVER (ORDER BY" in m.sql
    else:
        plan = m.explain()
        assert "LtseqWindowExec" in plan and "rolling_avg(" in plan
    e = LTSeq.from_dict({"a": [1]}).sort("a")._proxy().a.rolling(3).sum()
    assert repr(e) == "r.a.rolling(3).sum()"
    assert e.to_dict()["type"] == "window" and e.to_dict()["function"] == "rolling_sum"


def test_against_pandas_on_random_data_in_many_partitions():
    """Large enough to be split into several partitions (4 target partitions): every window
    expression matches pandas, and the rows come back in order."""
    rng = np.random.default_rng(3)
    n = 200_000
    df = pd.DataFrame({"g": rng.integers(0, 500, n), "t": rng.permutation(n), "x": rng.normal(size=n).round(3)})
    df.loc[rng.random(n) < 0.05, "x"] = np.nan  # NULLs
    t = (
        LTSeq.from_pandas(df)
        .sort("g", "t")
        .derive(
            lambda r: {
                "s": r.x.shift(1, partition_by="g"),
                "m": r.x.rolling(20, min_periods=20, partition_by="g").mean(),
                "mx": r.x.rolling(7, partition_by="g").max(),
                "cs": r.x.cum_sum(partition_by="g"),
                "d": r.x.diff(partition_by="g"),
            }
        )
    )
    got = t.to_pandas()
    want = df.sort_values(["g", "t"], kind="stable").reset_index(drop=True)
    grouped = want.groupby("g")["x"]
    assert (got["t"].to_numpy() == want["t"].to_numpy()).all()
    expected = {
        "s": grouped.shift(1),
        "m": grouped.transform(lambda s: s.rolling(20, min_periods=20).mean()),
        "mx": grouped.transform(lambda s: s.rolling(7, min_periods=1).max()),
        "cs": grouped.transform(lambda s: s.cumsum().ffill()),
        "d": grouped.diff(),
    }
    for name, series in expected.items():
        np.testing.assert_allclose(got[name].to_numpy(dtype=float), series.to_numpy(dtype=float), rtol=1e-9, atol=1e-9)


def test_the_same_window_written_twice_is_computed_once(mode):
    # the natural sessionization: the same shift inline twice in one filter
    t = LTSeq.from_dict({"i": [0, 1, 2, 3, 4], "k": [1, 1, 2, 2, 2], "v": [1.0, 5.0, 2.0, 9.0, 10.0]})
    t = t.assume_sorted("i")
    q = t.filter(lambda r: r.v.shift(1, partition_by="k").is_null() | (r.v - r.v.shift(1, partition_by="k") > 3))
    assert [r["i"] for r in q.to_dicts()] == [0, 1, 2, 3]
    plan = q.explain()
    if mode == "operator":
        calls = re.findall(r"calls=\[([^\]]*)\]", plan)
        assert calls and all(c.count("lag(") == 1 for c in calls)
    else:
        assert q._rel.sql.count("lag(") == 1
    d = t.derive(a=lambda r: r.v.shift(1), b=lambda r: r.v.shift(1), c=lambda r: r.v.shift(2))
    rows = d.to_dicts()
    assert [r["a"] for r in rows] == [r["b"] for r in rows] == [None, 1.0, 5.0, 2.0, 9.0]
    assert [r["c"] for r in rows] == [None, None, 1.0, 5.0, 2.0]
