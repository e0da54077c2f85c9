"""The pipeline fuzzer (`pipeline_fuzz.py`) in CI: random DSL pipelines in both routes of
`register()`, with 1, 2 and 8 target partitions, checked row by row against the reference
interpreter. Each worker is a subprocess, so an abort is a failure naming its seed, not a dead
suite. `LTSEQ_FUZZ_PIPELINES` sets the number of pipelines (default 4000, half per route on
average); `LTSEQ_FUZZ_START` the first seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_worker(start: int, stop: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "pipeline_fuzz.py"), "--seeds", f"{start}:{stop}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def findings(output: str, returncode: int) -> list[str]:
    lines = output.splitlines()
    found = [line for line in lines if line.startswith(("MISMATCH", "ERROR"))]
    started = [line for line in lines if line.startswith("START ")]
    last_done = bool(lines) and not lines[-1].startswith("START ")
    if returncode not in (0, 1) or (started and not last_done):
        seed = started[-1].split()[1] if started else "?"
        tail = "\n".join(lines[-15:])
        found.append(f"ABORT at seed {seed} (exit code {returncode}):\n{tail}")
    return found


def test_random_pipelines_match_the_reference():
    total = int(os.environ.get("LTSEQ_FUZZ_PIPELINES", "4000"))
    start = int(os.environ.get("LTSEQ_FUZZ_START", "0"))
    workers = 2
    step = (total + workers - 1) // workers
    procs = [run_worker(start + w * step, min(start + (w + 1) * step, start + total)) for w in range(workers)]
    problems: list[str] = []
    ran = 0
    for p in procs:
        out, _ = p.communicate()
        ran += out.count("\nSTART ") + out.startswith("START ")
        problems += findings(out, p.returncode)
    assert ran == total, f"{ran} of {total} pipelines ran"
    assert not problems, f"{len(problems)} of {total} pipelines failed:\n" + "\n".join(problems[:10])
