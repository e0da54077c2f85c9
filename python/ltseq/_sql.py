"""SQL text building blocks. Every identifier is quoted and every literal escaped here; no other
module formats user text into SQL."""

from __future__ import annotations

import datetime as _dt
import decimal
import math
from typing import Any

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_U64_MAX = 2**64 - 1


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier: case and every character kept, `"` doubled."""
    if not isinstance(name, str):
        raise TypeError(f"a column name must be a string, not {type(name).__name__}")
    if name == "":
        raise ValueError("a column name cannot be empty")
    if "\x00" in name:
        raise ValueError(f"column name {name!r} contains a NUL character, which the Arrow C interface cannot carry")
    _check_encodable(name, "column name")
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    """A single-quoted SQL string literal, `'` doubled (no backslash escapes exist in it)."""
    _check_encodable(value, "string")
    return "'" + value.replace("'", "''") + "'"


def _check_encodable(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"{what} {value!r} is not valid Unicode text ({e.reason})") from None


def literal_dtype(value: Any) -> str:
    """ltseq's type name of a Python literal."""
    value = _unwrap_numpy(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, decimal.Decimal):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (bytes, bytearray)):
        return "binary"
    if isinstance(value, _dt.datetime):
        return "timestamp"
    if isinstance(value, _dt.date):
        return "date32"
    if isinstance(value, _dt.time):
        return "time"
    if isinstance(value, _dt.timedelta):
        return "duration"
    raise TypeError(
        f"unsupported literal of type {type(value).__name__}: use None, bool, int, float, "
        "decimal.Decimal, str, bytes, datetime.date, datetime.datetime, datetime.time or datetime.timedelta"
    )


def _micros(value: _dt.timedelta) -> int:
    """A timedelta in whole microseconds (its resolution), exactly."""
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def interval_literal(value: _dt.timedelta) -> str:
    """A timedelta as a SQL interval: what DataFusion adds to a date (a duration it does not)."""
    return f"INTERVAL '{_micros(value)} microseconds'"


def time_literal(text: str, dtype: str) -> str | None:
    """The SQL literal of an ISO date or timestamp string compared with (or added to) a
    ``dtype`` column, parsed by Python (``"2024-01-02T22:00"``, ``"2024-01-02 22:00:05Z"``,
    ``"2024-01-02"``), as DataFusion's cast needs seconds; ``None`` when it is not one."""
    try:
        if dtype == "date32":
            return sql_literal(_dt.date.fromisoformat(text))
        if dtype == "timestamp":
            return sql_literal(_dt.datetime.fromisoformat(text))
    except ValueError:
        return None
    return None


def _unwrap_numpy(value: Any) -> Any:
    # numpy scalars (np.int64, np.float32, np.bool_, ...) become the Python value they hold.
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    return value


def sql_literal(value: Any) -> str:
    """The SQL text of a Python literal."""
    value = _unwrap_numpy(value)
    literal_dtype(value)  # validates the type
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        if _I64_MAX < value <= _U64_MAX:
            return f"arrow_cast({value}, 'UInt64')"  # an unsigned 64-bit literal
        if not _I64_MIN <= value <= _I64_MAX:
            raise ValueError(
                f"integer literal {value} does not fit in 64 bits (-2**63 to 2**64 - 1); "
                "use a float or decimal.Decimal literal"
            )
        return str(value) if value >= 0 else f"({value})"
    if isinstance(value, float):
        if math.isnan(value):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(value):
            return "CAST('inf' AS DOUBLE)" if value > 0 else "CAST('-inf' AS DOUBLE)"
        text = repr(value)
        return f"CAST({text} AS DOUBLE)" if value >= 0 else f"CAST(({text}) AS DOUBLE)"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"decimal literal {value} is not finite")
        sign, digits, exponent = value.as_tuple()
        scale = max(-int(exponent), 0)
        precision = max(len(digits) + max(int(exponent), 0), scale + 1)
        if precision > 38:
            raise ValueError(f"decimal literal {value} has more than 38 digits")
        return f"CAST({quote_string(format(value, 'f'))} AS DECIMAL({precision}, {scale}))"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (bytes, bytearray)):
        return "X'" + bytes(value).hex().upper() + "'"
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            # an instant: a UTC timestamp, which DataFusion compares with a zoned column as an
            # instant (a naive CAST would be read as wall time in the column's zone)
            utc = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
            text = quote_string(utc.isoformat(sep="T") + "Z")
            return f"arrow_cast({text}, 'Timestamp(Microsecond, Some(\"UTC\"))')"
        return f"CAST({quote_string(value.isoformat(sep='T'))} AS TIMESTAMP)"
    if isinstance(value, _dt.date):
        return f"CAST({quote_string(value.isoformat())} AS DATE)"
    if isinstance(value, _dt.time):
        return f"CAST({quote_string(value.isoformat())} AS TIME)"
    if isinstance(value, _dt.timedelta):
        return f"arrow_cast({_micros(value)}, 'Duration(Microsecond)')"
    raise AssertionError("unreachable")  # pragma: no cover
