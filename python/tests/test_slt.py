"""Runs every sql-tests/slt/*.slt file against a stock datafusion SessionContext after
ltseq.register(ctx): the same files cargo test runs against a Rust context."""

from __future__ import annotations

from pathlib import Path

import datafusion
import pytest

import ltseq
from slt_runner import format_float, run_file

SLT_DIR = Path(__file__).resolve().parents[2] / "sql-tests" / "slt"
FILES = sorted(SLT_DIR.glob("*.slt"))


def make_ctx():
    ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(4))
    ltseq.register(ctx)
    return ctx


def test_there_are_slt_files():
    assert FILES, f"no .slt files in {SLT_DIR}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_slt_file(path: Path, monkeypatch: pytest.MonkeyPatch):
    # relative paths in the files are relative to sql-tests/, as for cargo test
    monkeypatch.chdir(SLT_DIR.parent)
    failures = run_file(path, make_ctx)
    assert not failures, "\n\n".join(failures)


def test_float_rendering_matches_the_rust_runner():
    # Same cases as sql-tests/src/lib.rs::floats_render_like_the_python_runner.
    assert format_float(1.0) == "1"
    assert format_float(-0.0) == "0"
    assert format_float(0.1 + 0.2) == "0.3"
    assert format_float(1e20) == "100000000000000000000"
    assert format_float(1e-7) == "0.0000001"
    assert format_float(2.5) == "2.5"
    assert format_float(float("nan")) == "NaN"
    assert format_float(float("-inf")) == "-inf"
    assert format_float(7.0710678118654755) == "7.07106781187"
