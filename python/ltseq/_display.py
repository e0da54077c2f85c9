"""Text and HTML rendering of a few rows."""

from __future__ import annotations

import datetime as _dt
import html as _html
from typing import Any

import pyarrow as pa

_MAX_WIDTH = 50


def cell(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    text = str(value).replace("\n", "\\n").replace("\t", "\\t")
    if len(text) > _MAX_WIDTH:
        text = text[: _MAX_WIDTH - 3] + "..."
    return text


def grid(rows: pa.Table, columns: list[str], *, more: bool = False) -> str:
    data = [[cell(v) for v in row.values()] for row in rows.to_pylist()]
    heads = [cell(c) for c in columns]
    widths = [len(h) for h in heads]
    for row in data:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths)) + " |", line]
    for row in data:
        out.append("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    out.append(line)
    if more:
        out.append(f"(first {len(data)} rows shown)")
    return "\n".join(out)


def header(t: Any) -> str:
    cols = ", ".join(f"{name}: {dtype}" for name, dtype in t.schema.items())
    keys = t.sort_keys
    order = ""
    if keys:
        order = " sorted by " + ", ".join(k + (" desc" if d else "") for k, d in keys)
    return f"LTSeq [{cols}]{order}"


def html(rows: pa.Table, columns: list[str], *, more: bool, header: str) -> str:
    head = "".join(f"<th>{_html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_html.escape(cell(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows.to_pylist()
    )
    note = f"<p>first {rows.num_rows} rows shown</p>" if more else ""
    return (
        f"<div><p>{_html.escape(header)}</p><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>{note}</div>"
    )
