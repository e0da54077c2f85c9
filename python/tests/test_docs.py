"""docs/sql-reference.md is generated from the Rust Documentation of every function: it must be
in sync, and every registered function must be documented."""

from __future__ import annotations

import contextlib
import importlib.util
import io
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


def python_blocks(path: Path) -> list[tuple[str, str | None]]:
    """The ```python blocks of a document, each with the ```text block right after it (its
    expected output), if there is one."""
    lines = path.read_text().splitlines()
    blocks: list[tuple[str, str | None]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```python":
            i += 1
            continue
        end = lines.index("```", i + 1)
        code = "\n".join(lines[i + 1 : end])
        j = end + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        expected = None
        if j < len(lines) and lines[j].strip() == "```text":
            stop = lines.index("```", j + 1)
            expected = "\n".join(lines[j + 1 : stop])
            end = stop
        blocks.append((code, expected))
        i = end + 1
    return blocks


def test_python_examples_in_the_docs_run(monkeypatch):
    """Every ```python block of the README and the DSL guide runs, from the repository root;
    where a ```text block follows it, that is exactly what it prints."""
    monkeypatch.chdir(ROOT)
    count = checked = 0
    for doc in ("README.md", "docs/dsl.md"):
        namespace: dict = {}
        for code, expected in python_blocks(ROOT / doc):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{doc} example", "exec"), namespace)  # noqa: S102 - our own docs
            count += 1
            if expected is not None:
                got = [line.rstrip() for line in out.getvalue().strip().splitlines()]
                assert got == [line.rstrip() for line in expected.strip().splitlines()], f"{doc}:\n{code}"
                checked += 1
    assert count >= 4
    assert checked >= 5


def test_the_package_is_typed():
    from importlib.resources import files

    assert (files("ltseq") / "py.typed").is_file()
