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


def python_blocks(path: Path) -> list[str]:
    text = path.read_text()
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == "```python":
            inside, current = True, []
        elif inside and line.strip() == "```":
            inside = False
            blocks.append("\n".join(current))
        elif inside:
            current.append(line)
    return blocks


def test_python_examples_in_the_docs_run(monkeypatch, capsys):
    """Every ```python block of the README and the DSL guide runs, from the repository root."""
    monkeypatch.chdir(ROOT)
    count = 0
    for doc in ("README.md", "docs/dsl.md"):
        namespace: dict = {}
        for block in python_blocks(ROOT / doc):
            exec(compile(block, f"{doc} example", "exec"), namespace)  # noqa: S102 - our own docs
            count += 1
    assert count >= 4
    assert capsys.readouterr().out  # they print tables


def test_the_package_is_typed():
    from importlib.resources import files

    assert (files("ltseq") / "py.typed").is_file()
