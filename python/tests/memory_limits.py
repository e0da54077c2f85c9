"""One ordered pipeline under a memory pool, in a fresh process (run by test_memory.py).

Usage: python memory_limits.py PARQUET POOL_BYTES WORKLOAD. Prints one JSON line: the workload,
"ok" with a digest of the result or "exhausted" with the error, and the process's peak RSS
above its RSS after start-up (bytes)."""

from __future__ import annotations

import json
import resource
import sys


def peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    path, pool, workload = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    import datafusion
    import pyarrow.compute as pc

    import ltseq
    from ltseq import LTSeq
    from ltseq.exceptions import QueryError

    config = datafusion.SessionConfig().with_target_partitions(2)
    runtime = datafusion.RuntimeEnvBuilder()
    if pool > 0:
        runtime = runtime.with_fair_spill_pool(pool).with_disk_manager_os()
    ctx = ltseq.register(datafusion.SessionContext(config, runtime))
    t = LTSeq.read_parquet(path, ctx=ctx)
    t.count()
    base = peak()
    try:
        if workload == "sort":
            out = t.sort("k", "v").to_arrow()
            digest = [out.num_rows, pc.sum(out["v"]).as_py(), out["v"].slice(0, 5).to_pylist()]
        elif workload == "window":
            s = t.sort("k", "ts").derive(m=lambda r: r.v.rolling(20).mean().over(partition_by="k"))
            out = s.agg(n=lambda g: g.m.count(), s=lambda g: g.m.sum()).to_dicts()
            digest = [out[0]["n"], round(out[0]["s"], 3)]
        elif workload == "group_ordered":
            g = t.sort("k", "ts").group_ordered(lambda r: r.k)
            out = g.agg(n=lambda g: g.count(), s=lambda g: g.sum("v")).agg(n=lambda g: g.n.sum(), s=lambda g: g.s.sum())
            digest = list(out.to_dicts()[0].values())
        elif workload == "search":
            digest = [t.sort("k", "ts").search_pattern(lambda r: r.v > 0.9, lambda r: r.v < 0.1).count()]
        elif workload == "link":
            dim = LTSeq.read_parquet(path, ctx=ctx).select("ts", "v")
            linked = t.link(dim, on=lambda a, b: a.ts == b.ts, as_="d")
            out = linked.derive(w=lambda r: r.d.v).agg(s=lambda g: g.w.sum()).to_dicts()
            digest = [round(out[0]["s"], 3)]
        else:
            raise SystemExit(f"unknown workload {workload}")
        result = {"workload": workload, "status": "ok", "digest": digest}
    except QueryError as e:
        status = "exhausted" if "Resources exhausted" in str(e) else "error"
        result = {"workload": workload, "status": status, "error": str(e)[:300]}
    result["peak_over_start"] = peak() - base
    print(json.dumps(result))


if __name__ == "__main__":
    main()
