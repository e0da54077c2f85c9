"""Text and HTML rendering of a few rows, as Polars and pandas show a frame: a shape line, the
column names over their exact types, long values cut, and a wide table cut in the middle with
a marker column."""

from __future__ import annotations

import datetime as _dt
import html as _html
from typing import Any

import pyarrow as pa

MAX_WIDTH = 50  # characters of one value
MAX_COLUMNS = 12  # columns shown; a wider table shows the first and last halves
_CUT = "…"


def cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        text = repr(bytes(value))  # b'\x00ab': not to be read as a number
    else:
        text = str(value).replace("\n", "\\n").replace("\t", "\\t")
    if len(text) > MAX_WIDTH:
        text = text[: MAX_WIDTH - 1] + _CUT
    return text


def type_name(t: pa.DataType) -> str:
    """A column's exact type, in Arrow's words (``int32``, ``timestamp[us, tz=UTC]``,
    ``decimal128(10, 2)``, ``dictionary<int32, string>``; floats as ``float64``)."""
    if pa.types.is_dictionary(t):
        return f"dictionary<{t.index_type}, {type_name(t.value_type)}>"
    text = str(t)
    short = {
        "double": "float64",
        "float": "float32",
        "halffloat": "float16",
        "date32[day]": "date32",
        "date64[ms]": "date64",
    }
    return short.get(text, text)


def _shown(n: int) -> list[int | None]:
    """The indexes of the columns shown of ``n`` (``None``: the marker of those cut)."""
    if n <= MAX_COLUMNS:
        return list(range(n))
    left = MAX_COLUMNS // 2
    right = MAX_COLUMNS - left
    return [*range(left), None, *range(n - right, n)]


def _table(rows: pa.Table, schema: pa.Schema) -> tuple[list[str], list[str], list[list[str]]]:
    """The shown columns' names, types and values, as text."""
    picked = _shown(len(schema))
    names = [_CUT if i is None else cell(schema.field(i).name) for i in picked]
    types = ["" if i is None else type_name(schema.field(i).type) for i in picked]
    columns = [rows.column(i).to_pylist() if i is not None else None for i in picked]
    data = [[_CUT if col is None else cell(col[r]) for col in columns] for r in range(rows.num_rows)]
    return names, types, data


def shape(rows: int, columns: int, more: bool) -> str:
    return f"shape: ({'more than ' + str(rows) if more else rows}, {columns})"


def grid(rows: pa.Table, schema: pa.Schema, *, more: bool = False) -> str:
    names, types, data = _table(rows, schema)
    widths = [max(len(n), len(t), *(len(row[i]) for row in data)) for i, (n, t) in enumerate(zip(names, types))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [
        shape(rows.num_rows, len(schema), more),
        line,
        "| " + " | ".join(h.ljust(w) for h, w in zip(names, widths)) + " |",
        "| " + " | ".join(t.ljust(w) for t, w in zip(types, widths)) + " |",
        line,
    ]
    for row in data:
        out.append("| " + " | ".join(v.ljust(w) for v, w in zip(row, widths)) + " |")
    out.append(line)
    if more:
        out.append(f"(first {len(data)} rows shown)")
    return "\n".join(out)


def header(t: Any) -> str:
    keys = t.sort_keys
    order = ""
    if keys:
        order = " sorted by " + ", ".join(k + (" desc" if d else "") for k, d in keys)
    return f"LTSeq{order}"


_STYLE = (
    "<style>"
    ".ltseq-table table{border-collapse:collapse;font-size:12px;font-family:monospace}"
    ".ltseq-table th,.ltseq-table td{border:1px solid #ccc;padding:2px 6px;text-align:right;white-space:pre}"
    ".ltseq-table thead th{background:#f3f3f3}"
    ".ltseq-table .ltseq-type{color:#777;font-weight:normal;font-style:italic}"
    ".ltseq-table tbody tr:nth-child(even){background:#fafafa}"
    ".ltseq-table .ltseq-null{color:#999}"
    ".ltseq-table p{margin:2px 0;font-family:monospace;font-size:12px}"
    "</style>"
)


def html(rows: pa.Table, schema: pa.Schema, *, more: bool, header: str) -> str:
    names, types, data = _table(rows, schema)
    head = "".join(f"<th>{_html.escape(c)}</th>" for c in names)
    kinds = "".join(f'<th class="ltseq-type">{_html.escape(t)}</th>' for t in types)

    def td(v: str) -> str:
        cls = ' class="ltseq-null"' if v == "null" else ""
        return f"<td{cls}>{_html.escape(v)}</td>"

    body = "".join("<tr>" + "".join(td(v) for v in row) + "</tr>" for row in data)
    note = f"<p>first {rows.num_rows} rows shown</p>" if more else ""
    top = f"{_html.escape(header)} · {shape(rows.num_rows, len(schema), more)}"
    return (
        f'<div class="ltseq-table">{_STYLE}<p>{top}</p><table><thead><tr>{head}</tr><tr>{kinds}</tr></thead>'
        f"<tbody>{body}</tbody></table>{note}</div>"
    )
