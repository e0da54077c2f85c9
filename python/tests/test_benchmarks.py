"""The benchmark suite runs end to end at a tiny size (no timing checks), so it never rots:
every engine loads the data, runs every workload, and all engines agree on every result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_suite_runs_and_engines_agree(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "python" / "benchmarks" / "run.py"),
            "--rows",
            "10000",
            "--repeat",
            "1",
            "--data",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all engines returned the same results" in proc.stdout
    for engine in ("ltseq_dsl", "ltseq_sql", "ltseq_sql_ordered", "datafusion", "duckdb", "polars", "pandas"):
        assert engine in proc.stdout


def test_join_benchmark_runs_and_engines_agree(tmp_path: Path):
    script = ROOT / "python" / "benchmarks" / "joins.py"
    cmd = [sys.executable, str(script), "--rows", "20000", "--repeat", "1", "--data", str(tmp_path / "j")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| asof_join |" in proc.stdout and "| join |" in proc.stdout


def test_generator_is_deterministic(tmp_path: Path):
    sys.path.insert(0, str(ROOT / "python" / "benchmarks"))
    import pyarrow.parquet as pq
    from generate import generate

    a = generate(3000, tmp_path / "a")
    b = generate(3000, tmp_path / "b")
    for name in ("stocks", "clicks", "orders", "products"):
        assert pq.read_table(a / f"{name}.parquet").equals(pq.read_table(b / f"{name}.parquet"))
    stocks = pq.read_table(a / "stocks.parquet").to_pandas()
    assert len(stocks) == 3000
    assert stocks.equals(stocks.sort_values(["symbol", "day"], kind="stable"))
