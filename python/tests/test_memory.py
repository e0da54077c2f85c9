"""Memory limits: ltseq's operators account what they hold in the session's pool, sort within
it (spilling) and fail with ResourcesExhausted rather than grow past it (issue 18, item 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import datafusion
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ltseq
from ltseq import _native
from ltseq.register import share_memory_limit

SCRIPT = Path(__file__).with_name("memory_limits.py")
WORKLOADS = ["sort", "window", "group_ordered", "search", "link"]


def test_register_reads_the_hosts_memory_limit():
    runtime = datafusion.RuntimeEnvBuilder().with_fair_spill_pool(300 << 20)
    ctx = ltseq.register(datafusion.SessionContext(datafusion.SessionConfig(), runtime))
    assert _native.memory_limit(ctx.session_id()) == 300 << 20
    # reading it left information_schema as it was (off)
    with pytest.raises(Exception, match="information_schema"):
        ctx.sql("SHOW datafusion.runtime.memory_limit").collect()
    ctx.sql("SET datafusion.runtime.memory_limit = '1G'").collect()
    assert share_memory_limit(ctx) == 1 << 30
    assert _native.memory_limit(ctx.session_id()) == 1 << 30
    plain = ltseq.register(datafusion.SessionContext())
    assert _native.memory_limit(plain.session_id()) is None


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    n = 4_000_000
    rng = np.random.default_rng(7)
    k = rng.integers(0, 50_000, n)
    table = pa.table(
        {"k": k, "ts": np.arange(n, dtype=np.int64), "v": rng.random(n), "s": pa.array([f"url/{x}" for x in k])}
    )
    path = tmp_path_factory.mktemp("mem") / "data.parquet"
    pq.write_table(table, path, row_group_size=200_000)
    return path, table.nbytes


def run(path: Path, pool: int, workload: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(path), str(pool), workload], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{workload} under a pool of {pool}: exit {done.returncode}\n{done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("workload", WORKLOADS)
def test_every_operator_under_a_pool_of_a_quarter_of_the_data(data, workload):
    path, size = data
    pool = size // 4
    free = run(path, 0, workload)
    assert free["status"] == "ok", free
    limited = run(path, pool, workload)
    # succeeds (by spilling or streaming) with the same result, or fails cleanly
    assert limited["status"] in ("ok", "exhausted"), limited
    if limited["status"] == "ok":
        assert limited["digest"] == free["digest"]
    # the process stays near the pool: 1.5x it, plus the input and the result it hands out
    assert limited["peak_over_start"] <= 1.5 * pool + 2 * size, limited


def test_the_planner_route_runs_the_whole_plan_in_the_sessions_pool(data):
    path, size = data
    # (DataFusion's own sort of two partitions needs about 70 MB of merge buffers here)
    runtime = datafusion.RuntimeEnvBuilder().with_fair_spill_pool(size // 2).with_disk_manager_os()
    config = datafusion.SessionConfig().with_target_partitions(2)
    ctx = ltseq.register(datafusion.SessionContext(config, runtime), planner=True)
    ctx.register_parquet("d", str(path))
    df = ctx.sql("SELECT k, ts FROM d ORDER BY s, ts")
    assert "LtseqSessionMemory" in df.execution_plan().display_indent()
    got = pa.Table.from_batches([b.to_pyarrow() for b in df.execute_stream()])
    want = pq.read_table(path, columns=["k", "ts", "s"]).sort_by([("s", "ascending"), ("ts", "ascending")])
    assert got.column("ts").to_pylist() == want.column("ts").to_pylist()
    # without a limit the plan is the host's as before
    plain = ltseq.register(datafusion.SessionContext(config), planner=True)
    plain.register_parquet("d", str(path))
    assert "LtseqSessionMemory" not in plain.sql("SELECT k FROM d ORDER BY s").execution_plan().display_indent()
