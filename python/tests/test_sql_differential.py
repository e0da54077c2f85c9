"""SQL differential tests (issue 18): random window queries over ltseq's functions in a stock
`datafusion.SessionContext` (4 partitions, tiny batches) against the same windows written in
standard SQL and run by DuckDB, on random data with NULLs, NaN, ties and many or few partitions.
The clauses ltseq cannot honour (frames, DISTINCT, IGNORE NULLS) are checked to be errors."""

from __future__ import annotations

import math
import random

import datafusion
import duckdb
import pyarrow as pa
import pytest

import ltseq


def table(rng: random.Random) -> pa.Table:
    n = rng.choice([0, 1, 5, 60, 300])
    groups = rng.choice([1, 3, 40])
    rows = []
    for i in range(n):
        v = (
            None
            if rng.random() < 0.15
            else rng.choice([math.nan, 0.0, -0.0, 2.5])
            if rng.random() < 0.1
            else round(rng.gauss(0, 50), 2)
        )
        rows.append(
            {"ts": i, "g": rng.randrange(groups), "v": v, "w": None if rng.random() < 0.1 else rng.randrange(-9, 9)}
        )
    schema = pa.schema([("ts", pa.int64()), ("g", pa.int64()), ("v", pa.float64()), ("w", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema)


def pair(rng: random.Random) -> tuple[str, str]:
    """An ltseq window call and its standard-SQL equivalent (same PARTITION BY / ORDER BY)."""
    over = "PARTITION BY g ORDER BY ts" if rng.random() < 0.7 else "ORDER BY ts"
    w = rng.choice([1, 2, 3, 7, 1000])
    col = rng.choice(["v", "w"])
    frame = f"OVER ({over} ROWS BETWEEN {w - 1} PRECEDING AND CURRENT ROW)"
    kind = rng.choice(["sum", "avg", "min", "max", "count", "stddev", "var", "cum_sum", "cum_max", "diff"])
    if kind == "cum_sum":
        return f"cum_sum({col}) OVER ({over})", f"sum({col}) OVER ({over} ROWS UNBOUNDED PRECEDING)"
    if kind == "cum_max":
        return f"cum_max({col}) OVER ({over})", f"max({col}) OVER ({over} ROWS UNBOUNDED PRECEDING)"
    if kind == "diff":
        return f"diff({col}) OVER ({over})", f"{col} - lag({col}) OVER ({over})"
    if kind == "stddev":
        return f"rolling_std({col}, {w}) OVER ({over})", f"stddev_samp({col}) {frame}"
    if kind == "var":
        return f"rolling_var({col}, {w}) OVER ({over})", f"var_samp({col}) {frame}"
    if kind == "count":
        return f"rolling_count({col}, {w}) OVER ({over})", f"count({col}) {frame}"
    return f"rolling_{kind}({col}, {w}) OVER ({over})", f"{kind}({col}) {frame}"


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


@pytest.mark.parametrize("seed", range(60))
def test_window_functions_match_duckdb(seed):
    rng = random.Random(seed)
    data = table(rng)
    ctx = ltseq.register(
        datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4).with_batch_size(7))
    )
    ctx.from_arrow(
        pa.Table.from_batches(data.to_batches(max_chunksize=11), data.schema) if data.num_rows else data, name="t"
    )
    con = duckdb.connect()
    con.register("t", data)
    for _ in range(8):
        ours, theirs = pair(rng)
        got = ctx.sql(f"SELECT ts, {ours} AS x FROM t").to_pydict()
        want = con.sql(f"SELECT ts, {theirs} AS x FROM t").to_arrow_table().to_pydict()
        got_by_ts = dict(zip(got["ts"], got["x"]))
        want_by_ts = dict(zip(want["ts"], want["x"]))
        assert got_by_ts.keys() == want_by_ts.keys()
        bad = [ts for ts in want_by_ts if not close(got_by_ts[ts], want_by_ts[ts])]
        assert not bad, (
            f"{ours} vs {theirs}: at ts {bad[:5]}: "
            f"{[got_by_ts[t] for t in bad[:5]]} != {[want_by_ts[t] for t in bad[:5]]}"
        )


@pytest.mark.parametrize(
    "call",
    [
        "rolling_sum(v, 3) OVER (ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
        "cum_sum(v) OVER (ORDER BY ts RANGE BETWEEN 1 PRECEDING AND CURRENT ROW)",
        "rolling_avg(DISTINCT v, 3) OVER (ORDER BY ts)",
        "diff(v) IGNORE NULLS OVER (ORDER BY ts)",
        "run_id(v) OVER (ORDER BY ts ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)",
    ],
)
def test_clauses_ltseq_cannot_honour_are_errors(call):
    ctx = ltseq.register(datafusion.SessionContext())
    ctx.from_pydict({"ts": [1, 2, 3], "v": [1.0, 1.0, 2.0]}, name="t")
    with pytest.raises(Exception, match="does not take"):
        ctx.sql(f"SELECT {call} FROM t").collect()
