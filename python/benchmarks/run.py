"""Runs the benchmark: generates the data (once per size), runs every engine in its own process,
cross-checks that all engines return the same results (and fails loudly when one does not),
and prints a table of median times with the ratio of each peer to ltseq.

    python python/benchmarks/run.py                     # 10 million rows, every engine
    python python/benchmarks/run.py --rows 10000 --repeat 1   # the tiny run CI does
    python python/benchmarks/run.py --engines ltseq_dsl,polars --workloads rolling_mean_20
    python python/benchmarks/run.py --source parquet --rows 50000000 --workloads sessions,funnel
        # read from the files at every query, each workload in its own process (its peak RSS)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engines import ENGINES, SOURCES, THREADS, WORKLOADS  # noqa: E402
from generate import generate  # noqa: E402

LTSEQ = ("ltseq_dsl", "ltseq_natural", "ltseq_sql", "ltseq_sql_ordered", "ltseq_std_sql")


def same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def run_engine(engine: str, data: Path, workloads: list[str], repeat: int, source: str) -> dict[str, Any]:
    if source == "parquet":
        # one process per workload: its peak RSS is the workload's, with nothing loaded before
        out: dict[str, Any] = {"engine": engine, "load_s": 0.0, "workloads": {}, "peak_rss_mb": 0.0}
        for w in workloads:
            one = _run_process(engine, data, [w], repeat, source)
            out["workloads"][w] = dict(one["workloads"][w], peak_rss_mb=one["peak_rss_mb"])
            out["load_s"] = max(out["load_s"], one["load_s"])
            out["peak_rss_mb"] = max(out["peak_rss_mb"], one["peak_rss_mb"])
        return out
    return _run_process(engine, data, workloads, repeat, source)


def _run_process(engine: str, data: Path, workloads: list[str], repeat: int, source: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(HERE / "engines.py"),
        "--engine",
        engine,
        "--data",
        str(data),
        "--workloads",
        ",".join(workloads),
        "--repeat",
        str(repeat),
        "--source",
        source,
    ]
    env = dict(os.environ, POLARS_MAX_THREADS=str(THREADS))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"engine {engine} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: dict[str, dict[str, Any]], workloads: list[str]) -> str:
    engines = list(results)
    lines = ["| workload | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    for w in workloads:
        cells = [f"{results[e]['workloads'][w]['median_s']:.3f}" for e in engines]
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    lines.append("| load (s) | " + " | ".join(f"{results[e]['load_s']:.2f}" for e in engines) + " |")
    lines.append("| peak RSS (MB) | " + " | ".join(f"{results[e]['peak_rss_mb']:.0f}" for e in engines) + " |")
    if all("peak_rss_mb" in results[e]["workloads"][w] for e in engines for w in workloads):
        for w in workloads:
            cells = [f"{results[e]['workloads'][w]['peak_rss_mb']:.0f}" for e in engines]
            lines.append(f"| peak RSS of {w} (MB) | " + " | ".join(cells) + " |")
    ours = [e for e in engines if e in LTSEQ]
    peers = [e for e in engines if e not in LTSEQ]
    if ours and peers:
        lines += ["", "Ratio: the fastest peer's time / ltseq's time (above 1: ltseq is faster), and that peer.", ""]
        lines.append("| workload | " + " | ".join(f"fastest peer / {o}" for o in ours) + " | fastest peer |")
        lines.append("|---|" + "---:|" * len(ours) + "---|")
        for w in workloads:
            best = min(peers, key=lambda p: results[p]["workloads"][w]["median_s"])
            fastest = results[best]["workloads"][w]["median_s"]
            cells = [f"{fastest / results[o]['workloads'][w]['median_s']:.2f}" for o in ours]
            lines.append(f"| {w} | " + " | ".join(cells) + f" | {best} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None, help="data directory (default bench-data/<rows>)")
    parser.add_argument("--engines", default=None, help="default: every engine (no pandas with --source parquet)")
    parser.add_argument("--source", choices=SOURCES, default="memory")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    args = parser.parse_args()
    default = [e for e in ENGINES if args.source == "memory" or e != "pandas"]
    engines = args.engines.split(",") if args.engines else default
    workloads = args.workloads.split(",")
    data = generate(args.rows, args.data or Path("bench-data") / str(args.rows))
    results: dict[str, dict[str, Any]] = {}
    for e in engines:
        print(f"running {e} ...", file=sys.stderr, flush=True)
        results[e] = run_engine(e, data, workloads, args.repeat, args.source)
    # cross-check: every engine must agree with the first on every workload
    wrong = []
    for w in workloads:
        ref_engine = engines[0]
        ref = results[ref_engine]["workloads"][w]["result"]
        for e in engines[1:]:
            got = results[e]["workloads"][w]["result"]
            if not same(ref, got):
                wrong.append(f"{w}: {e} returned {got!r}, {ref_engine} returned {ref!r}")
    where = "read from Parquet at every query" if args.source == "parquet" else "in memory"
    print(f"{args.rows} rows ({where}), {THREADS} threads, median of {args.repeat} runs after one warm-up, seconds")
    print(f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()})\n")
    print(table(results, workloads))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))
    if wrong:
        raise SystemExit("RESULTS DISAGREE:\n" + "\n".join(wrong))
    print("\nall engines returned the same results")


if __name__ == "__main__":
    main()
