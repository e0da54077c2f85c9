"""Every script in examples/ runs to the end and prints its tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path):
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "+--" in proc.stdout  # at least one table was printed


def test_the_showcase_finds_the_rising_stretches():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "rising_stocks.py")], capture_output=True, text=True, cwd=ROOT
    )
    assert "| AAA    | 2024-01-03 | 2024-01-09 | 5     | 7.44    |" in proc.stdout
    assert "| CCC    | 2024-01-05 | 2024-01-11 | 5     | 1.43    |" in proc.stdout
