"""docs/sql-reference.md is generated from the Rust Documentation of every function: it must be
in sync, and every registered function must be documented."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import ltseq

ROOT = Path(__file__).resolve().parents[2]


def test_sql_reference_is_in_sync():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_sql_reference.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (ROOT / "docs" / "sql-reference.md").read_text()
    assert current == gen.render(), "docs/sql-reference.md is stale: run python scripts/gen_sql_reference.py"


def test_every_function_is_documented():
    text = (ROOT / "docs" / "sql-reference.md").read_text()
    for name in ltseq.sql_functions():
        assert f"### `{name}`" in text
