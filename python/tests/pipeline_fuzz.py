"""A pipeline fuzzer: random chains of DSL operations over random tables, checked row by row
against a reference interpreter written as plain Python loops over lists of dicts.

Tables hold NULLs, NaN, +-0.0, +-inf, huge and tiny values, ties, NULL keys, many tiny or one
giant partition, and arrive split into several record batches. Each pipeline runs in a random
route (`register(ctx)` or `register(ctx, planner=True)`) and with 1, 2 or 8 target partitions.

Run as a program (`python python/tests/pipeline_fuzz.py --seeds 0:500`): it prints one line per
seed, `START <seed>` before running it and `OK`, `MISMATCH` or `ERROR` after, so a parent that
sees the process die (an abort) knows the seed that killed it. `test_fuzz.py` runs it in
subprocesses.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import datafusion
import pyarrow as pa

import ltseq
from ltseq import LTSeq

Row = dict[str, Any]

# --- random tables ----------------------------------------------------------------------------

SPECIAL = [None, math.nan, 0.0, -0.0, math.inf, -math.inf, 1e300, -1e300, 1e-300, 1.5, 1.5]


def random_table(rng: random.Random) -> list[Row]:
    n = rng.choice([0, 1, 2, 3, 8, 40, 200])
    mode = rng.choice(["tiny", "giant", "few", "runs"])
    rows = []
    k = 0
    for i in range(n):
        if mode == "tiny":
            k = i // rng.choice([1, 2])
        elif mode == "giant":
            k = 0
        elif mode == "few":
            k = rng.randrange(4)
        elif rng.random() < 0.3:
            k = rng.randrange(3)
        key = None if rng.random() < 0.05 else k
        v = rng.choice(SPECIAL) if rng.random() < 0.3 else round(rng.gauss(0, 10), 3)
        w = None if rng.random() < 0.15 else rng.randrange(-5, 20)
        rows.append({"i": i, "k": key, "v": v, "w": w})
    return rows


def to_arrow(rows: list[Row], rng: random.Random) -> pa.Table:
    schema = pa.schema([("i", pa.int64()), ("k", pa.int64()), ("v", pa.float64()), ("w", pa.int64())])
    table = pa.Table.from_pylist(rows, schema=schema)
    if table.num_rows > 1:
        table = pa.Table.from_batches(table.to_batches(max_chunksize=rng.randint(1, table.num_rows)), schema)
    return table


# --- the reference interpreter ----------------------------------------------------------------


@dataclass
class Model:
    rows: list[Row]
    columns: list[str]
    ordered: bool = True  # has a declared order (window and group operations need one)
    grouped: bool = False  # has a __group_id__ column
    done: bool = False  # an aggregate ended the pipeline
    by_k: bool = False  # the order starts with k (its runs of equal k are contiguous)
    names: list[str] = field(default_factory=list)


def is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def nan_last(x: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(x) else (0, x)


def ieee_sum(values: list[float]) -> float:
    if any(math.isnan(x) for x in values) or (math.inf in values and -math.inf in values):
        return math.nan
    if math.inf in values:
        return math.inf
    if -math.inf in values:
        return -math.inf
    return math.fsum(values)


def partitions(rows: list[Row], by: str | None) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for j, r in enumerate(rows):
        out.setdefault(r[by] if by else 0, []).append(j)
    return out


def per_partition(rows: list[Row], by: str | None, f: Callable[[list[int]], list[Any]]) -> list[Any]:
    """Applies ``f`` to each partition's row positions (in table order)."""
    result: list[Any] = [None] * len(rows)
    for idx in partitions(rows, by).values():
        for j, value in zip(idx, f(idx)):
            result[j] = value
    return result


def sub(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if math.isinf(a) and math.isinf(b) and (a > 0) == (b > 0):
        return math.nan
    return a - b


def rolling(values: list[Any], w: int, agg: str) -> list[Any]:
    out = []
    for j in range(len(values)):
        window = [x for x in values[max(0, j - w + 1) : j + 1] if x is not None]
        if agg == "count":
            out.append(len(window))
        elif not window:
            out.append(None)
        elif agg == "sum":
            out.append(ieee_sum(window))
        elif agg == "mean":
            out.append(ieee_sum(window) / len(window))
        elif agg == "min":
            out.append(min(window, key=nan_last))
        else:
            out.append(max(window, key=nan_last))
    return out


def cum_sum(values: list[Any]) -> list[Any]:
    out, acc = [], None
    for x in values:
        if x is not None:
            acc = x if acc is None else acc + x
        out.append(acc)
    return out


def runs(rows: list[Row], key: str) -> list[list[int]]:
    out: list[list[int]] = []
    for j, r in enumerate(rows):
        if not out or rows[out[-1][-1]][key] != r[key]:
            out.append([])
        out[-1].append(j)
    return out


def sort_key(row: Row, keys: list[tuple[str, bool]]) -> tuple:
    out: list[Any] = []
    for name, desc in keys:
        x = row[name]
        # ascending: NULLs last; descending: NULLs first
        if desc:
            out.append((0, 0) if x is None else (1, -x))
        else:
            out.append((1, 0) if x is None else (0, x))
    return tuple(out)


# --- operations: each draws its parameters and returns (description, dsl, reference) ----------

Op = tuple[str, Callable[[LTSeq], LTSeq], Callable[[Model], None]]


def op_filter(rng: random.Random, m: Model) -> Op | None:
    c = rng.choice([-1.0, 0.5, 3.0, 100.0])

    def ref(m: Model) -> None:
        m.rows = [r for r in m.rows if r["v"] is not None and (is_nan(r["v"]) or r["v"] > c)]

    return f"filter(v > {c})", lambda t: t.filter(lambda r: r.v > c), ref


def op_filter_null(rng: random.Random, m: Model) -> Op | None:
    def ref(m: Model) -> None:
        m.rows = [r for r in m.rows if r["w"] is not None]

    return "filter(w is not null)", lambda t: t.filter(lambda r: r.w.is_not_null()), ref


def new_name(m: Model, stem: str) -> str:
    name = f"{stem}{len(m.names)}"
    m.names.append(name)
    return name


def op_arith(rng: random.Random, m: Model) -> Op | None:
    name = new_name(m, "x")

    def ref(m: Model) -> None:
        for r in m.rows:
            r[name] = None if r["w"] is None else r["w"] * 3 - 1
        m.columns.append(name)

    return f"derive({name}=w*3-1)", lambda t: t.derive(**{name: lambda r: r.w * 3 - 1}), ref


def op_window(rng: random.Random, m: Model) -> Op | None:
    if not m.ordered:
        return None
    by = rng.choice([None, "k"])
    kind = rng.choice(["shift", "diff", "rolling", "rolling", "cum_sum"])
    name = new_name(m, kind[:2])
    w = rng.choice([1, 3, 1000])
    agg = rng.choice(["mean", "sum", "min", "max", "count"])

    def ref(m: Model) -> None:
        rows = m.rows

        def f(idx: list[int]) -> list[Any]:
            vs = [rows[j]["v"] for j in idx]
            if kind == "shift":
                return [None, *vs[:-1]]
            if kind == "diff":
                return [None] + [sub(vs[j], vs[j - 1]) for j in range(1, len(vs))]
            if kind == "cum_sum":
                return cum_sum([rows[j]["w"] for j in idx])
            return rolling(vs, w, agg)

        for r, value in zip(rows, per_partition(rows, by, f)):
            r[name] = value
        m.columns.append(name)

    def dsl(t: LTSeq) -> LTSeq:
        if kind == "shift":
            return t.derive(**{name: lambda r: r.v.shift(1, partition_by=by)})
        if kind == "diff":
            return t.derive(**{name: lambda r: r.v.diff(partition_by=by)})
        if kind == "cum_sum":
            return t.derive(**{name: lambda r: r.w.cum_sum(partition_by=by)})
        return t.derive(**{name: lambda r: getattr(r.v.rolling(w, partition_by=by), agg)()})

    detail = f"rolling({w}).{agg}" if kind == "rolling" else kind
    return f"derive({name}={detail}, partition_by={by})", dsl, ref


def op_sort(rng: random.Random, m: Model) -> Op | None:
    if "k" not in m.columns:
        return None
    keys = rng.choice([[("k", False), ("i", False)], [("i", True)]])

    def ref(m: Model) -> None:
        m.rows.sort(key=lambda r: sort_key(r, keys))
        m.ordered = True
        m.by_k = keys[0][0] == "k"

    def dsl(t: LTSeq) -> LTSeq:
        if keys[0][1]:
            return t.sort("i", descending=True)
        return t.sort("k", "i")

    return f"sort({keys})", dsl, ref


def op_slice(rng: random.Random, m: Model) -> Op | None:
    offset = rng.choice([0, 1, 5])
    length = rng.choice([None, 0, 3, 50])

    def ref(m: Model) -> None:
        m.rows = m.rows[offset:] if length is None else m.rows[offset : offset + length]

    return f"slice({offset}, {length})", lambda t: t.slice(offset, length), ref


def op_group_filter(rng: random.Random, m: Model) -> Op | None:
    if not m.ordered or m.grouped or "k" not in m.columns:
        return None
    least = rng.choice([1, 2, 3])

    def ref(m: Model) -> None:
        kept = []
        for gid, idx in enumerate(runs(m.rows, "k"), start=1):
            if len(idx) > least:
                for j in idx:
                    kept.append({**m.rows[j], "__group_id__": gid})
        m.rows = kept
        m.columns.append("__group_id__")
        m.grouped = True

    def dsl(t: LTSeq) -> LTSeq:
        return t.group_ordered(lambda r: r.k).filter(lambda g: g.count() > least).flatten()

    return f"group_ordered(k).filter(count > {least}).flatten()", dsl, ref


def op_group_agg(rng: random.Random, m: Model) -> Op | None:
    if not m.ordered or "k" not in m.columns or "w" not in m.columns:
        return None

    def ref(m: Model) -> None:
        out = []
        for idx in runs(m.rows, "k"):
            ws = [m.rows[j]["w"] for j in idx if m.rows[j]["w"] is not None]
            out.append({"n": len(idx), "s": sum(ws) if ws else None})
        m.rows, m.columns, m.done = out, ["n", "s"], True

    def dsl(t: LTSeq) -> LTSeq:
        return t.group_ordered(lambda r: r.k).agg(n=lambda g: g.count(), s=lambda g: g.w.sum())

    return "group_ordered(k).agg(n=count, s=sum(w))", dsl, ref


def op_link(rng: random.Random, m: Model) -> Op | None:
    if "k" not in m.columns or any(c.startswith("d_") for c in m.columns):
        return None

    def ref(m: Model) -> None:
        for r in m.rows:
            hit = r["k"] is not None and 0 <= r["k"] < 5
            r["d_k"] = r["k"] if hit else None
            r["d_name"] = f"n{r['k']}" if hit else None
        m.columns += ["d_k", "d_name"]

    def dsl(t: LTSeq) -> LTSeq:
        dim = LTSeq.from_dict({"k": list(range(5)), "name": [f"n{j}" for j in range(5)]}, ctx=t._ctx)
        return t.link(dim, on=lambda a, b: a.k == b.k, as_="d")

    return "link(dim, on=k)", dsl, ref


def v_above(r: Row, c: float) -> bool:
    """``v > c`` in SQL: NULL is false, NaN is above every number."""
    return r["v"] is not None and (is_nan(r["v"]) or r["v"] > c)


def op_search(rng: random.Random, m: Model) -> Op | None:
    if not m.ordered or "w" not in m.columns:
        return None
    c, d = rng.choice([-1.0, 0.5, 3.0]), rng.choice([-1, 2, 10])
    by = rng.choice([None, "k"]) if m.by_k and "k" in m.columns else None

    def ref(m: Model) -> None:
        rows = m.rows
        m.rows = [
            dict(rows[j])
            for j in range(len(rows) - 1)
            if v_above(rows[j], c)
            and rows[j + 1]["w"] is not None
            and rows[j + 1]["w"] > d
            and (by is None or rows[j][by] == rows[j + 1][by])
        ]

    def dsl(t: LTSeq) -> LTSeq:
        return t.search_pattern(lambda r: r.v > c, lambda r: r.w > d, partition_by=by)

    return f"search_pattern(v > {c}, w > {d}, partition_by={by})", dsl, ref


def op_keyed_agg(rng: random.Random, m: Model) -> Op | None:
    if "k" not in m.columns or "w" not in m.columns:
        return None

    def ref(m: Model) -> None:
        groups: dict[Any, list[Row]] = {}
        for r in m.rows:
            groups.setdefault(r["k"], []).append(r)
        out = []
        for key in sorted(groups, key=lambda x: (x is None, x or 0)):
            ws = [r["w"] for r in groups[key] if r["w"] is not None]
            out.append({"k": key, "n": len(groups[key]), "s": sum(ws) if ws else None})
        m.rows, m.columns, m.done = out, ["k", "n", "s"], True

    def dsl(t: LTSeq) -> LTSeq:
        return t.agg(by="k", n=lambda g: g.count(), s=lambda g: g.w.sum())

    return "agg(by=k, n=count, s=sum(w))", dsl, ref


def op_group_derive(rng: random.Random, m: Model) -> Op | None:
    if not m.ordered or "k" not in m.columns or "w" not in m.columns:
        return None
    n_name, s_name = new_name(m, "gn"), new_name(m, "gs")

    def ref(m: Model) -> None:
        for idx in runs(m.rows, "k"):
            ws = [m.rows[j]["w"] for j in idx if m.rows[j]["w"] is not None]
            for j in idx:
                m.rows[j][n_name] = len(idx)
                m.rows[j][s_name] = sum(ws) if ws else None
        m.columns += [n_name, s_name]

    def dsl(t: LTSeq) -> LTSeq:
        g = t.group_ordered(lambda r: r.k)
        return g.derive(**{n_name: lambda g: g.count(), s_name: lambda g: g.w.sum()})

    return f"group_ordered(k).derive({n_name}=count, {s_name}=sum(w))", dsl, ref


OPS = [op_filter, op_filter_null, op_arith, op_window, op_window, op_sort, op_slice, op_group_filter, op_group_agg]
OPS += [op_link, op_search, op_keyed_agg, op_group_derive]


# --- one pipeline -------------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def run_seed(seed: int) -> tuple[str, str]:
    """Runs pipeline ``seed``; returns (status, detail) with status OK, MISMATCH or ERROR."""
    rng = random.Random(seed)
    rows = random_table(rng)
    planner = rng.random() < 0.5
    partitions_ = rng.choice([1, 2, 8])
    config = datafusion.SessionConfig().with_target_partitions(partitions_)
    if rng.random() < 0.5:
        config = config.with_batch_size(rng.choice([1, 7, 64]))
    ctx = ltseq.register(datafusion.SessionContext(config), planner=planner)
    t = LTSeq.from_arrow(to_arrow(rows, rng), ctx=ctx).assume_sorted("i")
    m = Model([dict(r) for r in rows], ["i", "k", "v", "w"])
    steps = []
    for _ in range(rng.randint(1, 6)):
        if m.done:
            break
        choices = [op for op in (f(rng, m) for f in rng.sample(OPS, len(OPS))) if op is not None]
        name, dsl, ref = choices[0]
        steps.append(name)
        ref(m)
        t = dsl(t)
    where = f"seed {seed}: {len(rows)} rows, planner={planner}, target_partitions={partitions_}: " + " -> ".join(steps)
    try:
        got = t.to_arrow()
    except Exception:  # noqa: BLE001 - any exception is a finding
        return "ERROR", f"{where}\n{traceback.format_exc(limit=3)}"
    if got.column_names != m.columns:
        return "MISMATCH", f"{where}\ncolumns {got.column_names} != {m.columns}"
    got_rows = got.to_pylist()
    if len(got_rows) != len(m.rows):
        return "MISMATCH", f"{where}\n{len(got_rows)} rows, expected {len(m.rows)}"
    for j, (a, b) in enumerate(zip(got_rows, m.rows)):
        for c in m.columns:
            if not same(a[c], b[c]):
                return "MISMATCH", f"{where}\nrow {j} column {c}: {a[c]!r} != {b[c]!r}\n got {a}\nwant {b}"
    return "OK", ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", default="0:100", help="a range start:stop")
    args = parser.parse_args()
    start, stop = (int(x) for x in args.seeds.split(":"))
    failed = 0
    for seed in range(start, stop):
        print(f"START {seed}", flush=True)
        status, detail = run_seed(seed)
        print(status if status == "OK" else f"{status} {detail}".replace("\n", "\n    "), flush=True)
        failed += status != "OK"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
