"""Links (`LTSeq.link`, `r.alias.col`, `expr.lookup`) on ltseq's Link operator, against a plain
Python dictionary lookup on random data (missing keys, NULL keys, composite keys), in order with
several partitions and small batches, in both routes (table provider, and ltseq's planner)."""

from __future__ import annotations

import random

import datafusion
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ltseq
from ltseq import ColumnNotFoundError, LTSeq, QueryError


def make_ctx(partitions: int = 4, batch: int = 8192, planner: bool = False):
    config = datafusion.SessionConfig().with_target_partitions(partitions).with_batch_size(batch)
    return ltseq.register(datafusion.SessionContext(config), planner=planner)


@pytest.fixture(params=[False, True], ids=["provider-route", "planner-route"])
def lctx(request):
    return make_ctx(planner=request.param)


def shop(ctx):
    orders = LTSeq.from_dict(
        {"id": [1, 2, 3, 4], "product_id": [101, 102, 101, 999], "quantity": [2, 1, 3, 5]}, ctx=ctx
    )
    products = LTSeq.from_dict(
        {"product_id": [101, 102, 103], "name": ["Widget", "Gadget", "Gizmo"], "price": [10.0, 25.0, 7.5]}, ctx=ctx
    )
    return orders, products


def test_seed_example(lctx):
    orders, products = shop(lctx)
    linked = orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    assert linked.columns == ["id", "product_id", "quantity", "prod_product_id", "prod_name", "prod_price"]
    got = linked.select(lambda r: [r.id, r.prod.name]).to_arrow().to_pydict()
    assert got == {"id": [1, 2, 3, 4], "prod_name": ["Widget", "Gadget", "Widget", None]}
    pricey = linked.filter(lambda r: r.prod.price > 15).to_dicts()
    assert pricey == [
        {"id": 2, "product_id": 102, "quantity": 1, "prod_product_id": 102, "prod_name": "Gadget", "prod_price": 25.0}
    ]
    totals = linked.derive(total=lambda r: r.quantity * r.prod.price).to_arrow().column("total").to_pylist()
    assert totals == [20.0, 25.0, 30.0, None]
    assert linked.to_ltseq().columns == linked.columns
    assert linked.schema["prod_name"] == "string"  # gathered as a string view
    assert isinstance(linked, ltseq.LinkedTable)


def test_inner_drops_unmatched_rows_and_keeps_order(lctx):
    orders, products = shop(lctx)
    linked = orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod", join_type="inner")
    assert linked.to_arrow().column("id").to_pylist() == [1, 2, 3]
    assert len(linked) == 3


def test_duplicate_target_key_is_an_error_naming_it(lctx):
    orders, _ = shop(lctx)
    dup = LTSeq.from_dict({"product_id": [101, 102, 102], "name": ["a", "b", "c"]}, ctx=lctx)
    linked = orders.link(dup, on=lambda o, p: o.product_id == p.product_id, as_="p")
    with pytest.raises(QueryError, match=r"product_id = 102 occurs more than once"):
        linked.to_arrow()
    # composite keys name the whole key
    dup2 = LTSeq.from_dict({"a": [1, 1], "b": ["x", "x"], "v": [1, 2]}, ctx=lctx)
    src = LTSeq.from_dict({"a": [1], "b": ["x"]}, ctx=lctx)
    with pytest.raises(QueryError, match=r"\(a, b\) = \(1, x\) occurs more than once"):
        src.link(dup2, on=lambda s, t: (s.a == t.a) & (s.b == t.b), as_="t").to_arrow()


def test_only_used_target_columns_are_read(lctx):
    orders, products = shop(lctx)
    linked = orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    plan = linked.select(lambda r: [r.id, r.prod.name]).explain()
    assert "LtseqLinkExec" in plan
    assert "fetch=[name]" in plan
    plan = linked.select("id").explain()
    assert "fetch=[]" in plan


def test_chained_links(lctx):
    orders, products = shop(lctx)
    products = products.derive(cat_id=lambda r: r.product_id % 2)
    cats = LTSeq.from_dict({"cat_id": [0, 1], "name": ["even", "odd"]}, ctx=lctx)
    p2 = products.link(cats, on=lambda p, c: p.cat_id == c.cat_id, as_="cat")
    linked = orders.link(p2, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    assert "prod_cat_name" in linked.columns
    got = linked.select(lambda r: [r.id, r.prod.cat.name]).to_arrow().to_pydict()
    assert got == {"id": [1, 2, 3, 4], "prod_cat_name": ["odd", "even", "odd", None]}
    # a link whose key reads an earlier link
    l1 = orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    l2 = l1.link(cats, on=lambda s, c: s.prod.cat_id == c.cat_id, as_="cat")
    assert l2.to_arrow().column("cat_name").to_pylist() == ["odd", "even", "odd", None]


def test_pointer_errors(lctx):
    orders, products = shop(lctx)
    linked = orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    with pytest.raises(ColumnNotFoundError, match=r"'colour' not found in the link 'prod'.*'name'"):
        linked.select(lambda r: r.prod.colour)
    with pytest.raises(ColumnNotFoundError, match="'nope'"):
        orders.link(products, on=lambda o, p: o.nope == p.product_id, as_="x")
    with pytest.raises(ValueError, match="on= must compare"):
        orders.link(products, on=lambda o, p: o.product_id > p.product_id, as_="x")
    with pytest.raises(ValueError, match="on= must compare"):
        orders.link(products, on=lambda o, p: o.product_id == o.quantity, as_="x")
    with pytest.raises(ValueError, match="join_type"):
        orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="x", join_type="full")
    with pytest.raises(ValueError, match="exactly one"):
        orders.link(products, on=lambda o, p: o.product_id == p.product_id)
    with pytest.raises(ValueError, match="already a column"):
        orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="quantity")
    with pytest.raises(TypeError, match="cannot compare"):
        orders.link(products, on=lambda o, p: o.product_id == p.name, as_="x").to_arrow()


def test_reversed_condition_and_key_type_coercion(lctx):
    src = LTSeq.from_arrow(pa.table({"k": pa.array([3, 1, None, 2], pa.int32())}), ctx=lctx)
    tgt = LTSeq.from_arrow(pa.table({"key": pa.array([1, 2, 3], pa.int64()), "v": ["a", "b", "c"]}), ctx=lctx)
    linked = src.link(tgt, on=lambda s, t: t.key == s.k, as_="t")
    assert linked.to_arrow().column("t_v").to_pylist() == ["c", "a", None, "b"]


def test_hostile_names_and_values(lctx):
    src = LTSeq.from_dict({'we"ird': [1, 2, 3], "select": ["a'b", "ü", None]}, ctx=lctx)
    tgt = LTSeq.from_dict({"from": ["a'b", "ü", "x"], 'na"me': ["quote", "umlaut", "x"]}, ctx=lctx)
    linked = src.link(tgt, on=lambda s, t: s["select"] == t["from"], as_="ö")
    assert linked.columns == ['we"ird', "select", "ö_from", 'ö_na"me']
    got = linked.select(lambda r: r["ö"]['na"me']).to_arrow().column(0).to_pylist()
    assert got == ["quote", "umlaut", None]


def test_empty_inputs(lctx):
    src = LTSeq.from_arrow(pa.table({"k": pa.array([], pa.int64())}), ctx=lctx)
    tgt = LTSeq.from_dict({"k": [1], "v": [2]}, ctx=lctx)
    assert src.link(tgt, on=lambda s, t: s.k == t.k, as_="t").to_arrow().num_rows == 0
    empty_t = LTSeq.from_arrow(pa.table({"k": pa.array([], pa.int64()), "v": pa.array([], pa.string())}), ctx=lctx)
    src2 = LTSeq.from_dict({"k": [1, None]}, ctx=lctx)
    out = src2.link(empty_t, on=lambda s, t: s.k == t.k, as_="t").to_arrow().to_pydict()
    assert out == {"k": [1, None], "t_k": [None, None], "t_v": [None, None]}
    assert src2.link(empty_t, on=lambda s, t: s.k == t.k, as_="t", join_type="inner").count() == 0


@pytest.mark.parametrize("kind", ["dense", "sparse", "string", "composite"])
def test_large_input_keeps_order_across_partitions(kind):
    """200k source rows in batches of 1000 over 4 partitions, sorted first: the linked rows come
    back in the sort order, each with its own target row."""
    ctx = make_ctx(partitions=4, batch=1000)
    rng = random.Random(11)
    n, m = 200_000, 5_000
    ids = list(range(m))
    key = {
        "dense": lambda i: i,
        "sparse": lambda i: i * 1_000_000_007,
        "string": lambda i: f"k{i:05d}é",
        "composite": lambda i: i // 2,
    }[kind]
    src_rows = [rng.randrange(m + 500) for _ in range(n)]  # some keys have no match
    src = {"pos": [rng.random() for _ in range(n)], "k": [key(i) if i % 97 else None for i in src_rows]}
    tgt = {"k": [key(i) for i in ids], "v": [i * 3 for i in ids]}
    on = lambda s, t: s.k == t.k  # noqa: E731
    if kind == "composite":
        src["b"] = [i % 2 for i in src_rows]
        tgt["b"] = [i % 2 for i in ids]
        on = lambda s, t: (s.k == t.k) & (s.b == t.b)  # noqa: E731
    source = LTSeq.from_arrow(pa.table(src), ctx=ctx)
    target = LTSeq.from_dict(tgt, ctx=ctx)
    linked = source.sort("pos").link(target, on=on, as_="t")
    out = linked.to_arrow()
    assert linked.sort_keys == [("pos", False)]
    pos = out.column("pos").to_pylist()
    assert pos == sorted(pos)
    index = {tuple(tgt[c][j] for c in tgt if c != "v"): tgt["v"][j] for j in range(m)}
    by_pos = dict(zip(src["pos"], range(n)))
    expected = []
    for p in pos:
        i = by_pos[p]
        k = tuple(src[c][i] for c in tgt if c != "v")
        expected.append(None if None in k else index.get(k))
    assert out.column("t_v").to_pylist() == expected
    # without a sort: the stored order
    stored = source.link(target, on=on, as_="t").to_arrow()
    assert stored.column("pos").to_pylist() == src["pos"]


def test_window_over_a_linked_column(lctx):
    orders, products = shop(lctx)
    linked = orders.sort("id").link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")
    got = linked.derive(d=lambda r: r.prod.price.diff()).to_arrow().column("d").to_pylist()
    assert got == [None, 15.0, -15.0, None]


def test_lookup(lctx):
    orders, products = shop(lctx)
    out = orders.derive(
        name=lambda r: r.product_id.lookup(products, "name"),
        double=lambda r: r.product_id.lookup(products, "price") * 2,
        shifted=lambda r: (r.product_id + 1).lookup(products, "name", on="product_id"),
    ).to_arrow()
    assert out.column("name").to_pylist() == ["Widget", "Gadget", "Widget", None]
    assert out.column("double").to_pylist() == [20.0, 50.0, 20.0, None]
    assert out.column("shifted").to_pylist() == ["Gadget", "Gizmo", "Gadget", None]
    assert out.column_names == ["id", "product_id", "quantity", "name", "double", "shifted"]
    kept = orders.filter(lambda r: r.product_id.lookup(products, "price") > 15).to_arrow()
    assert kept.column("id").to_pylist() == [2]
    with pytest.raises(ValueError, match="say which target column"):
        orders.derive(x=lambda r: r.quantity.lookup(products, "name"))
    with pytest.raises(ColumnNotFoundError, match="'colour'"):
        orders.derive(x=lambda r: r.product_id.lookup(products, "colour"))


@st.composite
def link_case(draw):
    m = draw(st.integers(0, 25))
    tkeys = draw(st.lists(st.integers(-5, 40), min_size=m, max_size=m, unique=True))
    tb = [draw(st.sampled_from(["x", "y"])) for _ in tkeys]
    # composite target keys must be unique as pairs: (k, b) with k unique is enough
    tv = draw(st.lists(st.one_of(st.none(), st.floats(allow_nan=False, width=32)), min_size=m, max_size=m))
    n = draw(st.integers(0, 60))
    sk = draw(st.lists(st.one_of(st.none(), st.integers(-8, 45)), min_size=n, max_size=n))
    sb = draw(st.lists(st.sampled_from(["x", "y"]), min_size=n, max_size=n))
    return tkeys, tb, tv, sk, sb, draw(st.booleans()), draw(st.sampled_from(["left", "inner"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_case())
def test_link_matches_a_dictionary_lookup(case):
    tkeys, tb, tv, sk, sb, composite, join = case
    ctx = make_ctx(partitions=3, batch=7)
    src = LTSeq.from_arrow(pa.table({"k": pa.array(sk, pa.int64()), "b": sb}), ctx=ctx)
    tgt = LTSeq.from_arrow(
        pa.table({"k": pa.array(tkeys, pa.int64()), "b": tb, "v": pa.array(tv, pa.float64())}), ctx=ctx
    )
    if composite:
        on = lambda s, t: (s.k == t.k) & (s.b == t.b)  # noqa: E731
        index = {(k, b): (k, b, v) for k, b, v in zip(tkeys, tb, tv)}
        probe = list(zip(sk, sb))
    else:
        on = lambda s, t: s.k == t.k  # noqa: E731
        index = {k: (k, b, v) for k, b, v in zip(tkeys, tb, tv)}
        probe = list(sk)
    expected = {"k": [], "b": [], "t_k": [], "t_b": [], "t_v": []}
    for (k, b), p in zip(zip(sk, sb), probe):
        hit = None if k is None else index.get(p)
        if hit is None and join == "inner":
            continue
        for name, value in zip(["k", "b", "t_k", "t_b", "t_v"], [k, b, *(hit or (None, None, None))]):
            expected[name].append(value)
    got = src.link(tgt, on=on, as_="t", join_type=join).to_arrow().to_pydict()
    assert got == expected
