"""Benchmark of combining tables: an as-of join of trades against quotes by symbol, and an
equi-join of a large table with a small one, in ltseq (the DSL, and SQL in a stock context),
Polars, DuckDB, pandas and stock DataFusion. Each engine runs in its own process (its peak RSS
is its own), all in one run; the results are cross-checked (a checksum of the joined values).

    python python/benchmarks/joins.py                       # 10M trades x 1M quotes, 10M x 100k join
    python python/benchmarks/joins.py --rows 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

THREADS = 2
ENGINES = ["ltseq_dsl", "ltseq_sql", "polars", "duckdb", "pandas", "datafusion"]
WORKLOADS = ["asof_join", "join"]


def generate(folder: Path, rows: int) -> None:
    """trades(ts, sym, qty), quotes(ts, sym, bid): sorted by ts, 1,000 symbols, quotes a tenth
    of the trades; facts(k, v) with 100k-row dims(k, w) for the join."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if (folder / "done").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    n, m = rows, max(rows // 10, 1)
    trades = pa.table(
        {
            "ts": np.sort(rng.integers(0, 10 * n, n)),
            "sym": rng.integers(0, 1000, n),
            "qty": rng.integers(1, 100, n),
        }
    )
    quotes = pa.table(
        # distinct quote times: engines break ties between equal times differently (DuckDB
        # arbitrarily), and the cross-check compares values
        {"ts": np.sort(rng.choice(10 * n, m, replace=False)), "sym": rng.integers(0, 1000, m), "bid": rng.random(m)}
    )
    d = max(rows // 100, 1)
    facts = pa.table({"k": rng.integers(0, d, n), "v": rng.random(n)})
    dims = pa.table({"k": np.arange(d), "w": rng.random(d)})
    for name, t in (("trades", trades), ("quotes", quotes), ("facts", facts), ("dims", dims)):
        pq.write_table(t, folder / f"{name}.parquet")
    (folder / "done").write_text("ok")


def _tables(folder: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    return {n: pq.read_table(folder / f"{n}.parquet") for n in ("trades", "quotes", "facts", "dims")}


def _checksum(values: Any) -> float:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    return float(pc.sum(pc.fill_null(arr, 0.0)).as_py() or 0.0)


def engine(name: str, folder: Path) -> dict[str, Callable[[], float]]:
    t = _tables(folder)
    if name in ("ltseq_dsl", "ltseq_sql", "datafusion"):
        import datafusion

        import ltseq
        from ltseq import LTSeq

        ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(THREADS))
        ltseq.register(ctx)
        if name == "ltseq_dsl":
            trades = LTSeq.from_arrow(t["trades"], ctx=ctx).assume_sorted("ts")
            quotes = LTSeq.from_arrow(t["quotes"], ctx=ctx).assume_sorted("ts")
            facts, dims = LTSeq.from_arrow(t["facts"], ctx=ctx), LTSeq.from_arrow(t["dims"], ctx=ctx)
            return {
                "asof_join": lambda: _checksum(trades.asof_join(quotes, on="ts", by="sym").to_arrow().column("bid")),
                "join": lambda: _checksum(facts.join(dims, on="k").to_arrow().column("w")),
            }
        for n in t:
            ctx.register_record_batches(n, [t[n].to_batches()])
        sql = {
            "asof_join": "SELECT bid FROM ltseq_asof_join('trades', 'quotes', 'ts', 'sym')",
            "join": "SELECT w FROM facts JOIN dims ON facts.k = dims.k",
        }
        if name == "datafusion":
            sql.pop("asof_join")  # DataFusion has no as-of join
        return {w: (lambda q=q: _checksum(ctx.sql(q).to_arrow_table().column(0))) for w, q in sql.items()}
    if name == "polars":
        import polars as pl

        p = {n: pl.from_arrow(v) for n, v in t.items()}
        return {
            "asof_join": lambda: float(p["trades"].join_asof(p["quotes"], on="ts", by="sym")["bid"].fill_null(0).sum()),
            "join": lambda: float(p["facts"].join(p["dims"], on="k")["w"].sum()),
        }
    if name == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads = {THREADS}")
        for n in t:  # DuckDB's own tables, as its users load them
            path = str(folder / f"{n}.parquet").replace("'", "''")
            con.execute(f"CREATE TABLE {n} AS SELECT * FROM read_parquet('{path}')")
        q = {
            "asof_join": "SELECT bid FROM trades ASOF LEFT JOIN quotes "
            "ON trades.sym = quotes.sym AND trades.ts >= quotes.ts",
            "join": "SELECT w FROM facts JOIN dims ON facts.k = dims.k",
        }
        return {w: (lambda s=s: _checksum(con.execute(s).to_arrow_table().column(0))) for w, s in q.items()}
    if name == "pandas":
        import pandas as pd

        d = {n: v.to_pandas() for n, v in t.items()}
        return {
            "asof_join": lambda: float(
                pd.merge_asof(d["trades"], d["quotes"], on="ts", by="sym")["bid"].fillna(0).sum()
            ),
            "join": lambda: float(d["facts"].merge(d["dims"], on="k")["w"].sum()),
        }
    raise SystemExit(f"unknown engine {name}")


def child(name: str, folder: Path, repeat: int) -> None:
    fns = engine(name, folder)
    out: dict[str, Any] = {}
    for w, fn in fns.items():
        times, value = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - start)
        out[w] = {"median_s": sorted(times)[len(times) // 2], "checksum": value}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"workloads": out, "peak_rss_mb": rss}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--child", default=None)
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    folder = Path(args.data) if args.data else Path(__file__).resolve().parents[2] / "bench-data" / f"joins-{args.rows}"
    if args.child:
        child(args.child, folder, args.repeat)
        return
    generate(folder, args.rows)
    env = dict(os.environ, POLARS_MAX_THREADS=str(THREADS))
    results = {}
    for e in args.engines.split(","):
        cmd = [sys.executable, __file__, "--child", e, "--data", str(folder), "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"engine {e} failed:\n{proc.stderr}")
        results[e] = json.loads(proc.stdout.strip().splitlines()[-1])
    for w in WORKLOADS:
        sums = {e: r["workloads"][w]["checksum"] for e, r in results.items() if w in r["workloads"]}
        first = next(iter(sums.values()))
        for e, v in sums.items():
            if not math.isclose(v, first, rel_tol=1e-9):
                raise SystemExit(f"{w}: {e} gives {v}, the first engine {first}")
    print(f"rows={args.rows} threads={THREADS} repeat={args.repeat}")
    print("| workload | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for w in WORKLOADS:
        base = results["ltseq_dsl"]["workloads"][w]["median_s"] if "ltseq_dsl" in results else None
        cells = []
        for r in results.values():
            if w not in r["workloads"]:
                cells.append("-")
                continue
            s = r["workloads"][w]["median_s"]
            cells.append(f"{s:.3f}" + (f" ({s / base:.2f}x)" if base else ""))
        print(f"| {w} | " + " | ".join(cells) + " |")
    print("| peak RSS MB | " + " | ".join(f"{r['peak_rss_mb']:.0f}" for r in results.values()) + " |")


if __name__ == "__main__":
    main()
