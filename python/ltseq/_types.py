"""Type names: ltseq's short names for Arrow types, the Arrow type each name stands for, and
cast targets."""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

NUMERIC = {"int64", "float64", "decimal"}
TEMPORAL = {"date32", "timestamp", "time", "duration"}


def dtype_name(t: pa.DataType) -> str:
    """ltseq's short type name: every integer width is ``int64``, every float ``float64``, every
    string kind ``string``; then ``bool``, ``date32``, ``timestamp``, ``time``, ``duration``,
    ``decimal``, ``binary``, ``null``; other types by their Arrow name."""
    if pa.types.is_dictionary(t):
        return dtype_name(t.value_type)
    for name, test in _TESTS:
        if test(t):
            return name
    return str(t).lower()


def _is_string(t: pa.DataType) -> bool:
    view = getattr(pa.types, "is_string_view", None)
    return pa.types.is_string(t) or pa.types.is_large_string(t) or bool(view and view(t))


def _is_binary(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)


_TESTS = (
    ("bool", pa.types.is_boolean),
    ("int64", pa.types.is_integer),
    ("float64", pa.types.is_floating),
    ("decimal", pa.types.is_decimal),
    ("string", _is_string),
    ("binary", _is_binary),
    ("date32", pa.types.is_date),
    ("timestamp", pa.types.is_timestamp),
    ("time", pa.types.is_time),
    ("duration", pa.types.is_duration),
    ("null", pa.types.is_null),
)

# The Arrow type each name stands for when ltseq asks DataFusion about a function call.
_ARROW = {
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "decimal": pa.decimal128(38, 10),
    "string": pa.string(),
    "binary": pa.binary(),
    "date32": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "time": pa.time64("us"),
    "duration": pa.duration("us"),
    "null": pa.null(),
}


def arrow_type(dtype: str) -> pa.DataType | None:
    """An Arrow type of ltseq's type name ``dtype`` (None for ``unknown`` and other names)."""
    return _ARROW.get(dtype)


# SQL type -> (ltseq's name of the result, the names a user may give for it)
_CASTS = {
    "TINYINT": ("int64", ("int8", "i8")),
    "SMALLINT": ("int64", ("int16", "i16")),
    "INT": ("int64", ("int32", "i32")),
    "BIGINT": ("int64", ("int", "int64", "i64", "bigint")),
    "REAL": ("float64", ("float32", "f32")),
    "DOUBLE": ("float64", ("float", "float64", "f64", "double")),
    "VARCHAR": ("string", ("str", "string", "utf8")),
    "BOOLEAN": ("bool", ("bool", "boolean")),
    "DATE": ("date32", ("date", "date32")),
    "TIMESTAMP": ("timestamp", ("timestamp", "datetime")),
    "TIME": ("time", ("time",)),
}
_CAST_TARGETS = {alias: sql for sql, (_, aliases) in _CASTS.items() for alias in aliases}

_DECIMAL = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


def cast_target(target: Any) -> tuple[str, str]:
    """The SQL type of a cast target and ltseq's name of the result type.

    Accepts a name (``"int64"``, ``"float64"``, ``"string"``, ``"bool"``, ``"date"``,
    ``"timestamp"``, ``"decimal(10, 2)"``, ...), a Python type (``int``, ``float``, ``str``,
    ``bool``) or a ``pyarrow.DataType``.
    """
    if isinstance(target, type):
        target = {int: "int64", float: "float64", str: "string", bool: "bool"}.get(target, target)
    if isinstance(target, pa.DataType):
        for name in ("int64", "int32", "float64", "float32", "string", "bool", "date32"):
            if target == pa.type_for_alias(name):
                sql = _CAST_TARGETS[name]
                return sql, _CASTS[sql][0]
        if pa.types.is_timestamp(target):
            return "TIMESTAMP", "timestamp"
        if pa.types.is_decimal(target):
            return f"DECIMAL({target.precision}, {target.scale})", "decimal"
        raise TypeError(f"cannot cast to {target}")
    if isinstance(target, str):
        key = target.strip().lower()
        if key in _CAST_TARGETS:
            sql = _CAST_TARGETS[key]
            return sql, _CASTS[sql][0]
        m = _DECIMAL.match(key)
        if m:
            precision, scale = int(m.group(1)), int(m.group(2))
            if not 1 <= precision <= 38 or scale > precision:
                raise ValueError(f"invalid decimal type {target!r}: need 1 <= scale <= precision <= 38")
            return f"DECIMAL({precision}, {scale})", "decimal"
    names = ", ".join(sorted(_CAST_TARGETS)) + ", decimal(p, s)"
    raise ValueError(f"unknown cast target {target!r}; use one of: {names}")
