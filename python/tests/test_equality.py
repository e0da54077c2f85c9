"""One equality rule for floats everywhere (issue 18, item 5), SQL's as DataFusion applies it
in `=`, `GROUP BY` and joins: -0.0 equals 0.0, and NaN equals NaN. ltseq's runs, ordered
groups, links and window partitions follow it, in the DSL and in SQL. Every NaN is one value,
whatever its sign bit (DataFusion's `GROUP BY` tells a negative NaN apart, an artefact of its
total-order comparison; ltseq follows PostgreSQL and DuckDB there)."""

from __future__ import annotations

import math

import datafusion
import pytest

import ltseq
from ltseq import LTSeq

VALUES = [0.0, -0.0, 0.0, math.nan, -math.nan, 1.0, -0.0]


@pytest.fixture(params=[False, True], ids=["provider-route", "planner-route"])
def ctx(request):
    config = datafusion.SessionConfig().with_target_partitions(4)
    return ltseq.register(datafusion.SessionContext(config), planner=request.param)


def table(ctx):
    return LTSeq.from_dict({"i": list(range(len(VALUES))), "v": VALUES}, ctx=ctx).assume_sorted("i")


def test_runs_and_ordered_groups(ctx):
    ctx.from_pydict({"i": list(range(len(VALUES))), "v": VALUES}, name="t")
    runs = ctx.sql("SELECT run_id(v) OVER (ORDER BY i) AS r FROM t ORDER BY i").to_pydict()["r"]
    assert runs == [1, 1, 1, 2, 2, 3, 4]
    groups = table(ctx).group_ordered(lambda r: r.v).agg(n=lambda g: g.count()).to_dicts()
    assert [g["n"] for g in groups] == [3, 2, 1, 1]
    # the same rule as SQL's GROUP BY and = (on NaNs of one sign)
    counts = ctx.sql("SELECT count(*) AS n FROM t WHERE i <> 4 GROUP BY v ORDER BY n DESC").to_pydict()["n"]
    assert counts == [4, 1, 1]
    assert table(ctx).filter(lambda r: r.v == 0.0).count() == 4


def test_window_partitions(ctx):
    t = LTSeq.from_dict({"k": [0.0, -0.0, 0.0, 1.0], "x": [1, 2, 3, 4]}, ctx=ctx).assume_sorted("k")
    got = t.derive(c=lambda r: r.x.cum_sum(partition_by="k")).to_dicts()
    assert [d["c"] for d in got] == [1, 3, 6, 4]


def test_links(ctx):
    target = LTSeq.from_dict({"k": [0.0, math.nan], "name": ["zero", "nan"]}, ctx=ctx)
    source = LTSeq.from_dict({"i": [0, 1, 2], "k": [-0.0, 0.0, math.nan]}, ctx=ctx).assume_sorted("i")
    got = source.link(target, on=lambda a, b: a.k == b.k, as_="t").derive(n=lambda r: r.t.name).to_dicts()
    assert [d["n"] for d in got] == ["zero", "zero", "nan"]
    twins = LTSeq.from_dict({"k": [0.0, -0.0], "name": ["a", "b"]}, ctx=ctx)
    with pytest.raises(Exception, match="occurs more than once") as err:
        source.link(twins, on=lambda a, b: a.k == b.k, as_="t").derive(n=lambda r: r.t.name).to_dicts()
    assert str(err.value).startswith("ltseq link: the target key k = 0")  # no "FFI error: " chain
