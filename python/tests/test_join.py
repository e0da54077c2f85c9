"""Joins: every ``how`` against a plain-Python oracle of the stated row order (the left's rows in
its order, each left row's matches in the right's order; right/full then add the right rows
without a match in the right's order), and against pandas ``merge`` as a multiset; NULL keys,
duplicate keys, empty sides, sorted inputs, several partitions; columns, suffixes and errors."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import datafusion
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import ColumnNotFoundError, LTSeq, SchemaMismatchError


@pytest.fixture()
def ctx() -> datafusion.SessionContext:
    return ltseq.register(datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4)))


def _rows(table: LTSeq) -> list[tuple]:
    return [tuple(r.values()) for r in table.to_dicts()]


def _oracle(left: list[dict], right: list[dict], lk: list[str], rk: list[str], how: str, suffix: str = "_right"):
    """The stated semantics, row by row."""
    shared = [a for a, b in zip(lk, rk) if a == b]
    lcols = list(left[0]) if left else []
    rcols = [c for c in (list(right[0]) if right else []) if c not in shared]

    def key(row, cols):
        k = tuple(row[c] for c in cols)
        return None if any(v is None for v in k) else k

    def joined(lrow, rrow):
        out = {}
        for c in lcols:
            v = lrow[c] if lrow is not None else None
            if v is None and c in shared and rrow is not None:
                v = rrow[c]
            out[c] = v
        for c in rcols:
            out[c + suffix if c in lcols else c] = rrow[c] if rrow is not None else None
        return tuple(out.values())

    out, matched = [], set()
    for lrow in left:
        k = key(lrow, lk)
        hits = [i for i, r in enumerate(right) if k is not None and key(r, rk) == k]
        if how == "semi":
            if hits:
                out.append(tuple(lrow.values()))
            continue
        if how == "anti":
            if not hits:
                out.append(tuple(lrow.values()))
            continue
        for i in hits:
            matched.add(i)
            out.append(joined(lrow, right[i]))
        if not hits and how in ("left", "full"):
            out.append(joined(lrow, None))
    if how in ("right", "full"):
        out += [joined(None, r) for i, r in enumerate(right) if i not in matched]
    return out


def _random(seed: int, n: int, keys: int, null_rate: float = 0.15) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        k = None if rng.random() < null_rate else rng.randrange(keys)
        rows.append({"k": k, "g": rng.randrange(2), "v": i})
    return rows


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "semi", "anti"])
@pytest.mark.parametrize("seed", range(4))
def test_every_join_gives_the_stated_rows_in_the_stated_order(ctx, how: str, seed: int) -> None:
    left = _random(seed, 300 + 97 * seed, 40)
    right = [{"k": r["k"], "g": r["g"], "w": -r["v"]} for r in _random(seed + 100, 120 + 13 * seed, 50)]
    lt = LTSeq.from_rows(left, ctx=ctx)
    rt = LTSeq.from_rows(right, ctx=ctx)
    got = _rows(lt.join(rt, on="k", how=how))
    assert got == _oracle(left, right, ["k"], ["k"], how)
    got2 = _rows(lt.join(rt, on=["k", "g"], how=how))
    assert got2 == _oracle(left, right, ["k", "g"], ["k", "g"], how)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full"])
def test_joins_match_pandas_merge_as_a_multiset(ctx, how: str) -> None:
    left = _random(7, 500, 30, null_rate=0.0)
    right = [{"k": r["k"], "w": r["v"]} for r in _random(8, 200, 45, null_rate=0.0)]
    got = LTSeq.from_rows(left, ctx=ctx).join(LTSeq.from_rows(right, ctx=ctx), on="k", how=how).to_pandas()
    want = pd.DataFrame(left).merge(pd.DataFrame(right), on="k", how={"full": "outer"}.get(how, how))

    def norm(df):
        return Counter(tuple(None if pd.isna(x) else int(x) for x in row) for row in df[["k", "g", "v", "w"]].values)

    assert norm(got) == norm(want)


def test_left_order_is_its_sort_with_several_partitions(tmp_path: Path, ctx) -> None:
    rng = random.Random(3)
    left = [{"t": rng.randrange(50), "k": rng.randrange(20), "v": i} for i in range(4000)]
    right = [{"k": k, "name": f"n{k}", "rank": r} for k in range(25) for r in range(rng.randrange(3))]
    table = pa.Table.from_pylist(left)
    for p in range(4):
        pq.write_table(table.slice(p * 1000, 1000), tmp_path / f"p{p}.parquet", row_group_size=300)
    lt = LTSeq.read_parquet(str(tmp_path), ctx=ctx).sort("t")  # ties keep the file order
    rt = LTSeq.from_rows(right, ctx=ctx).sort("rank", desc=True)
    sorted_left = sorted(left, key=lambda r: r["t"])
    sorted_right = sorted(right, key=lambda r: -r["rank"])
    for how in ("inner", "left", "right", "full", "semi", "anti"):
        got = lt.join(rt, on="k", how=how)
        assert _rows(got) == _oracle(sorted_left, sorted_right, ["k"], ["k"], how), how
        if how in ("inner", "left", "semi", "anti"):
            assert got.sort_keys == [("t", False)]
        else:
            assert got.sort_keys is None
    # the order survives later transforms and ordered operations
    joined = lt.join(rt, on="k", how="left").derive(prev=lambda r: r.v.shift(1))
    rows = joined.to_dicts()
    assert [r["prev"] for r in rows[1:]] == [r["v"] for r in rows[:-1]]


def test_columns_suffixes_left_on_right_on_and_lambda_keys(ctx) -> None:
    a = LTSeq.from_dict({"id": [1, 2, 3], "x": [10, 20, 30], "y": ["a", "b", "c"]}, ctx=ctx)
    b = LTSeq.from_dict({"key": [3, 1, 1], "x": [300, 100, 101], "z": [True, False, None]}, ctx=ctx)
    j = a.join(b, left_on="id", right_on="key")
    assert j.columns == ["id", "x", "y", "key", "x_right", "z"]
    assert _rows(j) == [(1, 10, "a", 1, 100, False), (1, 10, "a", 1, 101, None), (3, 30, "c", 3, 300, True)]
    lam = a.join(b, on=lambda a_, r: a_.id == r.key, how="left", suffix="_b")
    assert lam.columns == ["id", "x", "y", "key", "x_b", "z"]
    assert _rows(lam)[2] == (2, 20, "b", None, None, None)
    cross = a.select("id").join(b.select("key"), how="cross")
    assert _rows(cross) == [(i, k) for i in (1, 2, 3) for k in (3, 1, 1)]
    assert _rows(a.semi_join(b, left_on="id", right_on="key")) == [(1, 10, "a"), (3, 30, "c")]
    assert _rows(a.anti_join(b, on=lambda a_, r: a_.id == r.key)) == [(2, 20, "b")]


def test_full_join_coalesces_shared_keys_and_empty_sides(ctx) -> None:
    a = LTSeq.from_dict({"k": [1, None, 2], "v": [1, 2, 3]}, ctx=ctx)
    b = LTSeq.from_dict({"k": [2, None, 5], "w": [20, 30, 50]}, ctx=ctx)
    assert _rows(a.join(b, on="k", how="full")) == [
        (1, 1, None),
        (None, 2, None),
        (2, 3, 20),
        (None, None, 30),
        (5, None, 50),
    ]
    assert _rows(a.join(b, on="k", how="right")) == [(2, 3, 20), (None, None, 30), (5, None, 50)]
    empty = b.filter(lambda r: r.w > 1000)
    assert _rows(a.join(empty, on="k")) == []
    assert _rows(a.join(empty, on="k", how="left")) == [(1, 1, None), (None, 2, None), (2, 3, None)]
    assert _rows(empty.join(a, on="k", how="full")) == [(1, None, 1), (None, None, 2), (2, None, 3)]


def test_join_errors_are_clear(ctx) -> None:
    a = LTSeq.from_dict({"k": [1], "v": [1]}, ctx=ctx)
    b = LTSeq.from_dict({"k": [1], "w": [1]}, ctx=ctx)
    with pytest.raises(ColumnNotFoundError, match="'nope'.*'k', 'v'"):
        a.join(b, on="nope")
    with pytest.raises(ColumnNotFoundError, match="right table"):
        a.join(b, left_on="v", right_on="v")
    with pytest.raises(ValueError, match="how must be one of"):
        a.join(b, on="k", how="outer_apply")
    with pytest.raises(ValueError, match="needs keys"):
        a.join(b)
    with pytest.raises(ValueError, match="cannot use"):
        a.join(b, on=lambda a_, r: a_.k < r.k)
    with pytest.raises(ValueError, match="as many columns"):
        a.join(b, left_on=["k", "v"], right_on=["k"])
    with pytest.raises(ValueError, match="takes no keys"):
        a.join(b, on="k", how="cross")
    with pytest.raises(TypeError, match="another LTSeq"):
        a.join(pd.DataFrame({"k": [1]}), on="k")
    other_ctx = LTSeq.from_dict({"k": [1]}, ctx=ltseq.register(datafusion.SessionContext()))
    with pytest.raises(ValueError, match="same SessionContext"):
        a.join(other_ctx, on="k")
    assert issubclass(SchemaMismatchError, ValueError)


def test_hostile_names_are_quoted(ctx) -> None:
    name = 'we"ird; DROP TABLE x --'
    a = LTSeq.from_dict({name: [1, 2], "v'": [1, 2]}, ctx=ctx)
    b = LTSeq.from_dict({name: [2, 2], "v'": [5, 6]}, ctx=ctx)
    j = a.join(b, on=name, suffix=" r'")
    assert j.columns == [name, "v'", "v' r'"]
    assert _rows(j) == [(2, 2, 5), (2, 2, 6)]


def test_an_ordered_left_is_joined_without_a_sort(ctx) -> None:
    facts = LTSeq.from_dict({"k": [2, 1, 2, 3] * 500, "v": list(range(2000))}, ctx=ctx)
    dims = LTSeq.from_dict({"k": [1, 2, 2], "w": [10, 20, 21]}, ctx=ctx)
    for how in ("inner", "left", "semi", "anti"):
        joined = facts.join(dims, on="k", how=how)
        plan = joined.explain()
        assert "LtseqJoinExec" in plan and "read=InOrder" in plan, (how, plan)
    rows = _rows(facts.join(dims, on="k").head(4))
    assert rows == [(2, 0, 20), (2, 0, 21), (1, 1, 10), (2, 2, 20)]
