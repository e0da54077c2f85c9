"""Standard SQL windows (DataFusion's `lag`, `lead`, `row_number`, `sum`/`avg`/`min`/`max`/
`count` over row frames) in a stock context with ltseq's planner: they run on ltseq's Window
operator, and their rows equal a plain Python loop's and the stock context's, for a table in
several partitions and for a declared-order table, with NULLs, ties broken by a unique key,
one-row and long partitions."""

from __future__ import annotations

import random

import datafusion
import pyarrow as pa
import pytest

import ltseq

N = 3_000


def _data(seed: int = 7) -> pa.Table:
    rng = random.Random(seed)
    g = [rng.choice([0, 1, 1, 2, 3, 3, 3, 4, 5, 6]) * rng.randint(1, 40) for _ in range(N)]
    t = [rng.randint(0, N // 5) for _ in range(N)]
    x = [None if rng.random() < 0.15 else rng.randint(-400, 400) / 8 for _ in range(N)]
    return pa.table({"g": g, "t": t, "x": x, "i": list(range(N))})


W = "PARTITION BY g ORDER BY t, i"
QUERY = (
    f"SELECT g, t, i, lag(x) OVER ({W}) AS prev, lead(x, 2) OVER ({W}) AS next2, "
    f"row_number() OVER ({W}) AS rn, "
    f"sum(x) OVER ({W} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s3, "
    f"avg(x) OVER ({W} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS m3, "
    f"max(x) OVER ({W} ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS hi5, "
    f"count(x) OVER ({W} ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS n5, "
    f"sum(x) OVER ({W} ROWS UNBOUNDED PRECEDING) AS cs, count(x) OVER ({W} ROWS UNBOUNDED PRECEDING) AS cn "
    "FROM data ORDER BY g, t, i"
)


def _oracle(table: pa.Table) -> dict[str, list]:
    rows = sorted(table.to_pylist(), key=lambda r: (r["g"], r["t"], r["i"]))
    out: dict[str, list] = {k: [] for k in ["g", "t", "i", "prev", "next2", "rn", "s3", "m3", "hi5", "n5", "cs", "cn"]}
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end]["g"] == rows[start]["g"]:
            end += 1
        part = rows[start:end]
        xs = [r["x"] for r in part]
        for j, r in enumerate(part):
            out["g"].append(r["g"])
            out["t"].append(r["t"])
            out["i"].append(r["i"])
            out["prev"].append(xs[j - 1] if j >= 1 else None)
            out["next2"].append(xs[j + 2] if j + 2 < len(xs) else None)
            out["rn"].append(j + 1)
            w3 = [v for v in xs[max(0, j - 2) : j + 1] if v is not None]
            out["s3"].append(sum(w3) if w3 else None)
            out["m3"].append(sum(w3) / len(w3) if w3 else None)
            w5 = [v for v in xs[max(0, j - 4) : j + 1] if v is not None]
            out["hi5"].append(max(w5) if w5 else None)
            out["n5"].append(len(w5))
            so_far = [v for v in xs[: j + 1] if v is not None]
            out["cs"].append(sum(so_far) if so_far else None)
            out["cn"].append(len(so_far))
        start = end
    return out


def _close(a: dict[str, list], b: dict[str, list]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert len(a[k]) == len(b[k]), k
        for j, (u, v) in enumerate(zip(a[k], b[k])):
            if isinstance(u, float) and isinstance(v, float):
                assert u == pytest.approx(v, rel=1e-12, abs=1e-9), (k, j, u, v)
            else:
                assert u == v, (k, j, u, v)


def _context(planner: bool, table: pa.Table, declared: bool, pieces: int) -> datafusion.SessionContext:
    ctx = ltseq.register(
        datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(3)), planner=planner
    )
    if declared:
        ltseq.register_ordered(
            ctx, "data", table.sort_by([("g", "ascending"), ("t", "ascending"), ("i", "ascending")]), ["g", "t", "i"]
        )
    else:
        step = max(1, -(-table.num_rows // pieces))
        batches = table.to_batches(max_chunksize=step)
        if batches:
            ctx.register_record_batches("data", [[b] for b in batches])
        else:
            ctx.from_arrow(table, name="data")
    return ctx


@pytest.mark.parametrize(("declared", "pieces"), [(False, 1), (False, 4), (True, 1)])
def test_standard_windows_run_on_the_operator_with_the_same_rows(declared: bool, pieces: int) -> None:
    table = _data()
    expected = _oracle(table)
    ours = _context(True, table, declared, pieces)
    _close(ours.sql(QUERY).to_pydict(), expected)
    plan = ours.sql(QUERY).execution_plan().display_indent()
    assert "LtseqWindowExec" in plan and "BoundedWindowAggExec" not in plan, plan
    if declared:  # the declared order is used: no sort below the operator
        assert "SortExec" not in plan, plan
    stock = _context(False, table, declared, pieces)
    _close(stock.sql(QUERY).to_pydict(), expected)


def test_empty_and_single_row_tables() -> None:
    for rows in (0, 1):
        table = _data().slice(0, rows)
        ours = _context(True, table, False, 2)
        _close(ours.sql(QUERY).to_pydict(), _oracle(table))


def test_windows_the_operator_does_not_compute_stay_with_datafusion() -> None:
    table = _data()
    ctx = _context(True, table, False, 2)
    for call in [
        "first_value(x) OVER (PARTITION BY g ORDER BY t, i)",
        "rank() OVER (PARTITION BY g ORDER BY t)",
        "sum(x) OVER (PARTITION BY g ORDER BY t)",  # RANGE frame: peers depend on ties
        "lag(x) IGNORE NULLS OVER (PARTITION BY g ORDER BY t, i)",
        "max(x) OVER (PARTITION BY g ORDER BY t, i ROWS UNBOUNDED PRECEDING)",
        "sum(x) OVER (PARTITION BY g ORDER BY t, i ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
    ]:
        sql = f"SELECT g, t, i, {call} AS v FROM data ORDER BY g, t, i"
        plan = ctx.sql(sql).execution_plan().display_indent()
        assert "LtseqWindowExec" not in plan, (call, plan)
        stock = _context(False, table, False, 2)
        assert ctx.sql(sql).to_pydict() == stock.sql(sql).to_pydict(), call


def test_a_nan_that_left_the_frame_no_longer_counts() -> None:
    """The documented difference: DataFusion's sliding sum stays NaN after a NaN leaves the
    frame; ltseq's is the frame's."""
    ctx = ltseq.register(datafusion.SessionContext(), planner=True)
    ltseq.register_ordered(ctx, "v", pa.table({"t": [1, 2, 3, 4], "v": [1.0, float("nan"), 2.0, 3.0]}), ["t"])
    got = ctx.sql("SELECT sum(v) OVER (ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM v ORDER BY t")
    s = got.to_pydict()["s"]
    assert s[0] == 1.0 and s[1] != s[1] and s[2] != s[2] and s[3] == 5.0
