"""The package's shape: its modules import one another in one direction (no cycle, counting
imports inside functions too; imports only for type checkers do not count), and no source file
of the project grows past 800 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "ltseq"
MAX_LINES = 800


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The package modules a module imports at run time (anywhere in it)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base == "ltseq" or base.startswith("ltseq."):
                target = base.removeprefix("ltseq").lstrip(".") if node.level == 0 else base
                if target:
                    found.add(target.split(".")[0])
                else:  # from . import a, b
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ltseq."):
                    found.add(alias.name.split(".")[1])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found & modules


def _graph() -> dict[str, set[str]]:
    files = {p.stem: p for p in PACKAGE.glob("*.py")}
    modules = set(files)
    return {name: _imports(ast.parse(path.read_text()), modules) - {name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return None


def test_the_package_has_no_import_cycle():
    graph = _graph()
    assert len(graph) > 10
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    tree = ast.parse("from . import x\ndef f():\n    from .y import z\nif TYPE_CHECKING:\n    from .w import v\n")
    assert _imports(tree, {"x", "y", "w"}) == {"x", "y"}


def test_the_layers():
    """The core expression module and the relation plumbing know no feature and no table."""
    graph = _graph()
    for low in ("_expr", "_relation", "_types", "_sql", "_functions"):
        assert graph[low] <= {"_sql", "_types", "exceptions", "_native"}, (low, graph[low])
    assert "table" not in set().union(*(deps for name, deps in graph.items() if name not in ("__init__",)))


@pytest.mark.parametrize("folder", ["udf", "planner-ext", "python"])
def test_no_source_file_is_over_800_lines(folder):
    long = []
    for path in (ROOT / folder).rglob("*"):
        if path.suffix in (".rs", ".py") and "target" not in path.parts:
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)}: {lines}")
    assert not long, long
