"""Type names: ltseq's short names for Arrow types, and cast targets."""

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
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int64"
    if pa.types.is_floating(t):
        return "float64"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or _is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_date(t):
        return "date32"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_duration(t):
        return "duration"
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_dictionary(t):
        return dtype_name(t.value_type)
    return str(t).lower()


def _is_string_view(t: pa.DataType) -> bool:
    f = getattr(pa.types, "is_string_view", None)
    return bool(f and f(t))


_CAST_TARGETS = {
    "int8": "TINYINT",
    "i8": "TINYINT",
    "int16": "SMALLINT",
    "i16": "SMALLINT",
    "int32": "INT",
    "i32": "INT",
    "int": "BIGINT",
    "int64": "BIGINT",
    "i64": "BIGINT",
    "bigint": "BIGINT",
    "float32": "REAL",
    "f32": "REAL",
    "float": "DOUBLE",
    "float64": "DOUBLE",
    "f64": "DOUBLE",
    "double": "DOUBLE",
    "str": "VARCHAR",
    "string": "VARCHAR",
    "utf8": "VARCHAR",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "date32": "DATE",
    "timestamp": "TIMESTAMP",
    "datetime": "TIMESTAMP",
    "time": "TIME",
}

_RESULT_DTYPE = {
    "TINYINT": "int64",
    "SMALLINT": "int64",
    "INT": "int64",
    "BIGINT": "int64",
    "REAL": "float64",
    "DOUBLE": "float64",
    "VARCHAR": "string",
    "BOOLEAN": "bool",
    "DATE": "date32",
    "TIMESTAMP": "timestamp",
    "TIME": "time",
}

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
        for name, sql in (
            ("int64", "BIGINT"),
            ("int32", "INT"),
            ("float64", "DOUBLE"),
            ("float32", "REAL"),
            ("string", "VARCHAR"),
            ("bool", "BOOLEAN"),
            ("date32", "DATE"),
        ):
            if target == pa.type_for_alias(name):
                return sql, _RESULT_DTYPE[sql]
        if pa.types.is_timestamp(target):
            return "TIMESTAMP", "timestamp"
        if pa.types.is_decimal(target):
            return f"DECIMAL({target.precision}, {target.scale})", "decimal"
        raise TypeError(f"cannot cast to {target}")
    if isinstance(target, str):
        key = target.strip().lower()
        if key in _CAST_TARGETS:
            sql = _CAST_TARGETS[key]
            return sql, _RESULT_DTYPE[sql]
        m = _DECIMAL.match(key)
        if m:
            precision, scale = int(m.group(1)), int(m.group(2))
            if not 1 <= precision <= 38 or scale > precision:
                raise ValueError(f"invalid decimal type {target!r}: need 1 <= scale <= precision <= 38")
            return f"DECIMAL({precision}, {scale})", "decimal"
    names = ", ".join(sorted(_CAST_TARGETS)) + ", decimal(p, s)"
    raise ValueError(f"unknown cast target {target!r}; use one of: {names}")
