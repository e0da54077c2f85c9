"""Set operations: ``union``/``concat`` (all rows of the first table, then of the others, columns
matched by name), ``LTSeq.concat([...])``, ``intersect`` and ``except_`` (rows of the table, in
its order, whose key is / is not in the other; NULL never matches), checked row by row, with
sorted inputs and several partitions."""

from __future__ import annotations

import random
from pathlib import Path

import datafusion
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import ColumnNotFoundError, LTSeq, SchemaMismatchError


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _rows(t: LTSeq) -> list[tuple]:
    return [tuple(r.values()) for r in t.to_dicts()]


def test_union_keeps_each_tables_order_and_matches_columns_by_name(tmp_path: Path, ctx) -> None:
    rng = random.Random(1)
    rows = [{"t": rng.randrange(100), "v": i} for i in range(6000)]
    table = pa.Table.from_pylist(rows)
    for p in range(3):
        pq.write_table(table.slice(p * 2000, 2000), tmp_path / f"p{p}.parquet", row_group_size=500)
    a = LTSeq.read_parquet(str(tmp_path), ctx=ctx).sort("t", desc=True)
    b = LTSeq.from_dict({"v": [-1, -2, -3], "t": [5, None, 7]}, ctx=ctx)  # other column order
    got = a.union(b)
    want = [(r["t"], r["v"]) for r in sorted(rows, key=lambda r: -r["t"])] + [(5, -1), (None, -2), (7, -3)]
    assert got.columns == ["t", "v"]
    assert _rows(got) == want
    assert got.sort_keys is None
    assert _rows(a.concat(b)) == want
    assert _rows(LTSeq.concat([b, b, b])) == [(-1, 5), (-2, None), (-3, 7)] * 3
    assert _rows(b.union(b, b)) == [(-1, 5), (-2, None), (-3, 7)] * 3
    assert LTSeq.concat([b]) is b
    # later work sees the concatenated order
    assert [r["v"] for r in b.union(b).slice(2, 3).to_dicts()] == [-3, -1, -2]
    assert [r["v"] for r in b.union(b).filter(lambda r: r.v < -1).to_dicts()] == [-2, -3, -2, -3]
    assert got.count() == 6003


def test_union_errors(ctx) -> None:
    a = LTSeq.from_dict({"k": [1], "v": [1]}, ctx=ctx)
    with pytest.raises(SchemaMismatchError, match=r"lacks \['v'\] and has \['w'\]"):
        a.union(LTSeq.from_dict({"k": [1], "w": [1]}, ctx=ctx))
    with pytest.raises(ValueError, match="at least one"):
        a.union()
    with pytest.raises(ValueError, match="non-empty list"):
        LTSeq.concat([])
    with pytest.raises(TypeError, match="another LTSeq"):
        a.union({"k": [1]})


def test_intersect_and_except_keep_the_tables_order_and_duplicates(ctx) -> None:
    a = LTSeq.from_dict({"k": [3, 1, 2, 1, None, 4], "v": [1, 2, 3, 4, 5, 6]}, ctx=ctx).sort("v", desc=True)
    b = LTSeq.from_dict({"k": [1, None, 4, 9], "v": [2, 5, 0, 0]}, ctx=ctx)
    assert _rows(a.intersect(b, on="k")) == [(4, 6), (1, 4), (1, 2)]
    assert _rows(a.except_(b, on="k")) == [(None, 5), (2, 3), (3, 1)]
    assert _rows(a.intersect(b)) == [(1, 2)]  # every column; (None, 5) never matches
    assert _rows(a.subtract(b)) == [(4, 6), (None, 5), (1, 4), (2, 3), (3, 1)]
    assert a.intersect(b, on="k").sort_keys == [("v", True)]
    with pytest.raises(ColumnNotFoundError, match="other table"):
        a.intersect(LTSeq.from_dict({"x": [1]}, ctx=ctx), on="k")
