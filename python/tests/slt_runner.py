"""A sqllogictest runner for a stock ``datafusion.SessionContext``.

It runs the same ``sql-tests/slt/*.slt`` files that ``cargo test`` runs against a Rust
context, with the same value rendering (see ``sql-tests/src/lib.rs``: ``format_value``), so
both worlds are held to one specification. It supports the subset those files use:
``statement ok|error <regex>``, ``query <types> [nosort|rowsort|valuesort]`` with ``----``
results, ``query error <regex>``, ``skipif``/``onlyif`` labels (this runner's label is
``python``), ``halt``, comments, and ``<slt:ignore>`` fragments in expected output.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

LABEL = "python"
IGNORE = "<slt:ignore>"


def format_float(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    rounded = float(f"{v:.11e}")
    text = format(Decimal(repr(rounded)), "f")
    return text[:-2] if text.endswith(".0") else text


def format_value(v: Any, t: pa.DataType) -> str:
    if v is None:
        return "NULL"
    if pa.types.is_floating(t):
        return format_float(float(v))
    if pa.types.is_boolean(t):
        return "true" if v else "false"
    if isinstance(v, str):
        return v if v != "" else "(empty)"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep="T")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return str(v)


@dataclass
class Record:
    kind: str  # statement | query
    sql: str
    line: int
    expect_error: str | None = None
    sort_mode: str = "nosort"
    expected: list[str] = field(default_factory=list)
    conditions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> list[Record]:
    lines = text.split("\n")
    records: list[Record] = []
    conditions: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        words = stripped.split()
        head = words[0]
        if head in ("skipif", "onlyif"):
            conditions.append((head, words[1]))
            i += 1
            continue
        if head == "halt":
            records.append(Record("halt", "", i + 1, conditions=conditions))
            break
        if head in ("hash-threshold", "control", "sleep"):
            i += 1
            continue
        start = i + 1
        if head == "statement":
            rec = Record("statement", "", start, conditions=conditions)
            if words[1] == "error":
                rec.expect_error = stripped.split(None, 2)[2] if len(words) > 2 else ""
            elif words[1] != "ok":
                raise ValueError(f"line {start}: unsupported statement kind {words[1]!r}")
        elif head == "query":
            rec = Record("query", "", start, conditions=conditions)
            if len(words) > 1 and words[1] == "error":
                rec.expect_error = stripped.split(None, 2)[2] if len(words) > 2 else ""
            elif len(words) > 2 and words[2] in ("nosort", "rowsort", "valuesort"):
                rec.sort_mode = words[2]
        else:
            raise ValueError(f"line {start}: unsupported record {stripped!r}")
        conditions = []
        i += 1
        sql_lines = []
        while i < len(lines) and lines[i].strip() != "" and lines[i].strip() != "----":
            sql_lines.append(lines[i])
            i += 1
        rec.sql = "\n".join(sql_lines)
        if i < len(lines) and lines[i].strip() == "----":
            i += 1
            while i < len(lines) and lines[i].strip() != "":
                rec.expected.append(lines[i])
                i += 1
        records.append(rec)
    return records


def _normalize(s: str) -> str:
    return " ".join(s.split())


def _matches(actual: list[list[str]], expected: list[str]) -> bool:
    if any(IGNORE in line for line in expected):
        snapshot = "\n".join(" ".join(row) for row in actual)
        pos = 0
        for frag in "\n".join(expected).split(IGNORE):
            if not frag:
                continue
            found = snapshot.find(frag, pos)
            if found < 0:
                return False
            pos = found + len(frag)
        return True
    return [" ".join(_normalize(v) for v in row) for row in actual] == [_normalize(e) for e in expected]


def run_file(path: Path, make_ctx: Callable[[], Any]) -> list[str]:
    """Runs one file; returns the failures (empty when every record passed)."""
    ctx = make_ctx()
    failures: list[str] = []
    for rec in parse(path.read_text()):
        skip = any(
            (kind == "skipif" and label == LABEL) or (kind == "onlyif" and label != LABEL)
            for kind, label in rec.conditions
        )
        if skip:
            continue
        if rec.kind == "halt":
            break
        where = f"{path.name}:{rec.line}"
        try:
            df = ctx.sql(rec.sql)
            batches = df.collect()
            schema = df.schema()
            error = None
        except Exception as e:  # noqa: BLE001 - the error text is what is being tested
            error = str(e)
        if rec.expect_error is not None:
            if error is None:
                failures.append(f"{where}: expected an error matching {rec.expect_error!r}, the query succeeded")
            elif not re.search(rec.expect_error, error):
                failures.append(f"{where}: error {error!r} does not match {rec.expect_error!r}")
            continue
        if error is not None:
            failures.append(f"{where}: unexpected error: {error}\n{rec.sql}")
            continue
        if rec.kind == "statement":
            continue
        rows: list[list[str]] = []
        for batch in batches:
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for r in range(batch.num_rows):
                rows.append([format_value(columns[c][r], schema.field(c).type) for c in range(batch.num_columns)])
        if rec.sort_mode == "rowsort":
            rows.sort(key=lambda row: " ".join(row))
        elif rec.sort_mode == "valuesort":
            rows = [[v] for v in sorted(v for row in rows for v in row)]
        if not _matches(rows, rec.expected):
            shown = "\n".join(" ".join(r) for r in rows)
            expected = "\n".join(rec.expected)
            failures.append(f"{where}: result mismatch\n{rec.sql}\n--- expected\n{expected}\n--- actual\n{shown}")
    return failures
