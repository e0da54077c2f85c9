"""The string (``r.x.s``) and time (``r.x.dt``) accessors. Each method is one DataFusion function
call (or a small expression of them); nothing is computed in Python."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from ._expr import BinaryOp, Cast, Expr, Func, IfElse, Literal, _wrap, extend


def _string(what: str, e: Expr) -> Expr:
    if e.dtype not in ("string", "null", "unknown"):
        raise TypeError(f".s.{what}() needs a string, but {e!r} is {e.dtype}; use .cast('string') first")
    return e


def _text(what: str, value: Any) -> Expr:
    e = _wrap(value)
    if e.dtype not in ("string", "null", "unknown"):
        raise TypeError(f".s.{what}(): {value!r} is not a string")
    return e


def _flag(what: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f".s.{what}(): {name} must be True or False, not {value!r}")
    return value


def _int(what: str, value: Any, minimum: int | None = None) -> Literal:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} takes an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return Literal(value)


def _char(what: str, value: Any) -> Literal:
    if not isinstance(value, str) or len(value) != 1:
        raise ValueError(f"{what} takes one character, got {value!r}")
    return Literal(value)


class StringAccessor:
    """String functions of an expression: ``r.name.s.lower()``. NULL in, NULL out."""

    __slots__ = ("_e",)

    def __init__(self, e: Expr) -> None:
        self._e = e

    def _call(self, what: str, fn: str, *args: Any, dtype: str = "string") -> Expr:
        return Func(fn, [_string(what, self._e), *args], dtype)

    def contains(self, pattern: Any, *, literal: bool = False) -> Expr:
        """True where ``pattern`` matches somewhere in the string: a regular expression (Rust
        ``regex`` syntax), as in Polars, or with ``literal=True`` plain text."""
        p = _text("contains", pattern)
        if _flag("contains", "literal", literal):
            return self._call("contains", "contains", p, dtype="bool")
        return self._call("contains", "regexp_like", p, dtype="bool")

    def starts_with(self, prefix: Any) -> Expr:
        """True where the string starts with ``prefix``."""
        return self._call("starts_with", "starts_with", _text("starts_with", prefix), dtype="bool")

    def ends_with(self, suffix: Any) -> Expr:
        """True where the string ends with ``suffix``."""
        return self._call("ends_with", "ends_with", _text("ends_with", suffix), dtype="bool")

    def lower(self) -> Expr:
        """Lower case."""
        return self._call("lower", "lower")

    def upper(self) -> Expr:
        """Upper case."""
        return self._call("upper", "upper")

    def strip(self, chars: str | None = None) -> Expr:
        """Without leading and trailing spaces (or any of ``chars``)."""
        extra = [_text("strip", chars)] if chars is not None else []
        return self._call("strip", "btrim", *extra)

    def lstrip(self, chars: str | None = None) -> Expr:
        """Without leading spaces (or any of ``chars``)."""
        extra = [_text("lstrip", chars)] if chars is not None else []
        return self._call("lstrip", "ltrim", *extra)

    def rstrip(self, chars: str | None = None) -> Expr:
        """Without trailing spaces (or any of ``chars``)."""
        extra = [_text("rstrip", chars)] if chars is not None else []
        return self._call("rstrip", "rtrim", *extra)

    def len(self) -> Expr:
        """The number of characters (not bytes)."""
        return Cast(self._call("len", "character_length", dtype="int64"), "BIGINT", "int64")

    def slice(self, start: int, length: int | None = None) -> Expr:
        """``length`` characters from ``start`` (0-based), or to the end."""
        begin = Literal(_int("s.slice(start)", start, 0).value + 1)
        if length is None:
            return self._call("slice", "substr", begin)
        return self._call("slice", "substr", begin, _int("s.slice(length)", length, 0))

    def replace(self, pattern: Any, value: Any, *, literal: bool = False, n: int = 1) -> Expr:
        """The first match of ``pattern`` replaced by ``value``, as in Polars: a regular
        expression (Rust ``regex`` syntax; ``$1`` in ``value`` is a group), or with
        ``literal=True`` plain text. ``n=-1`` (or :meth:`replace_all`) replaces every match."""
        if isinstance(n, bool) or n not in (1, -1):
            raise ValueError(f".s.replace(): n must be 1 (the first match) or -1 (every match), got {n!r}")
        if n == -1:
            return self.replace_all(pattern, value, literal=literal)
        p, v = _text("replace", pattern), _text("replace", value)
        if _flag("replace", "literal", literal):
            # the first occurrence, found by position (no regex: any text is itself)
            s = _string("replace", self._e)
            at = Func("strpos", [s, p], "int64")
            before = Func("substr", [s, Literal(1), at - 1], "string")
            after = Func("substr", [s, at + Func("character_length", [p], "int64")], "string")
            return IfElse(at > 0, Func("concat", [before, v, after], "string"), s)
        return self._call("replace", "regexp_replace", p, v)

    def replace_all(self, pattern: Any, value: Any, *, literal: bool = False) -> Expr:
        """Every match of ``pattern`` (a regular expression, or with ``literal=True`` plain
        text) replaced by ``value``."""
        p, v = _text("replace_all", pattern), _text("replace_all", value)
        if _flag("replace_all", "literal", literal):
            return self._call("replace_all", "replace", p, v)
        return self._call("replace_all", "regexp_replace", p, v, Literal("g"))

    def regex_match(self, pattern: str) -> Expr:
        """True where the (Rust ``regex`` syntax) pattern matches somewhere in the string."""
        if not isinstance(pattern, str):
            raise TypeError(f".s.regex_match() takes a pattern string, not {type(pattern).__name__}")
        return self._call("regex_match", "regexp_like", Literal(pattern), dtype="bool")

    def concat(self, *others: Any) -> Expr:
        """The string followed by ``others`` (strings, or values converted to strings); NULL
        if any part is NULL (like ``+`` on strings)."""
        out = _string("concat", self._e)
        for o in others:
            part = _wrap(o)
            if part.dtype not in ("string", "null"):
                part = Cast(part, "VARCHAR", "string")
            out = BinaryOp("+", out, part)
        return out

    def pad_left(self, width: int, char: str = " ") -> Expr:
        """Padded on the left with ``char`` to ``width`` characters (longer strings are cut)."""
        return self._call("pad_left", "lpad", _int("s.pad_left(width)", width, 0), _char("s.pad_left(char)", char))

    def pad_right(self, width: int, char: str = " ") -> Expr:
        """Padded on the right with ``char`` to ``width`` characters (longer strings are cut)."""
        return self._call("pad_right", "rpad", _int("s.pad_right(width)", width, 0), _char("s.pad_right(char)", char))

    def left(self, n: int) -> Expr:
        """The first ``n`` characters."""
        return self._call("left", "left", _int("s.left(n)", n, 0))

    def right(self, n: int) -> Expr:
        """The last ``n`` characters."""
        return self._call("right", "right", _int("s.right(n)", n, 0))

    def find(self, sub: Any) -> Expr:
        """The 0-based position of the first occurrence of ``sub`` (plain text), -1 when absent."""
        at = Func("strpos", [_string("find", self._e), _text("find", sub)], "int64")
        return Cast(at, "BIGINT", "int64") - 1

    def split_part(self, sep: str, index: int) -> Expr:
        """As :meth:`split`: the ``index``-th part (1-based) at ``sep``."""
        return self.split(sep, index)

    def split(self, sep: str, index: int) -> Expr:
        """The ``index``-th part (1-based) of the string split at ``sep``; ``""`` when there are
        fewer parts."""
        if not isinstance(sep, str) or not sep:
            raise ValueError(f".s.split() needs a non-empty separator, got {sep!r}")
        return self._call("split", "split_part", Literal(sep), _int("s.split(index)", index, 1))


_TEMPORAL = ("date32", "timestamp", "null", "unknown")


class DateTimeAccessor:
    """Date and time parts of a date or timestamp: ``r.day.dt.year()``. NULL in, NULL out.
    Strings holding ISO dates are cast first: ``r.s.cast("date").dt.month()``."""

    __slots__ = ("_e",)

    def __init__(self, e: Expr) -> None:
        self._e = e

    def _checked(self, what: str) -> Expr:
        if self._e.dtype not in _TEMPORAL:
            raise TypeError(
                f".dt.{what}() needs a date or timestamp, but {self._e!r} is {self._e.dtype}; "
                'cast strings with .cast("date") or .cast("timestamp")'
            )
        return self._e

    def _part(self, what: str, part: str) -> Expr:
        call = Func("date_part", [Literal(part), self._checked(what)], "int64")
        return Cast(call, "BIGINT", "int64")

    def year(self) -> Expr:
        return self._part("year", "year")

    def month(self) -> Expr:
        """1-12."""
        return self._part("month", "month")

    def day(self) -> Expr:
        """Day of the month, 1-31."""
        return self._part("day", "day")

    def hour(self) -> Expr:
        return self._part("hour", "hour")

    def minute(self) -> Expr:
        return self._part("minute", "minute")

    def second(self) -> Expr:
        """Whole seconds, 0-59."""
        return self._part("second", "second")

    def millisecond(self) -> Expr:
        """The milliseconds within the second, 0-999."""
        return BinaryOp("%", self._part("millisecond", "millisecond"), Literal(1000))

    def date(self) -> Expr:
        """The calendar date (of the wall time, for a zoned timestamp)."""
        return Cast(self._checked("date"), "DATE", "date32")

    def epoch(self, unit: str = "us") -> Expr:
        """The time since 1970-01-01 00:00 UTC as an integer in ``unit`` (``s``, ``ms``, ``us``
        or ``ns``), as Polars' ``dt.epoch``."""
        if unit not in _EPOCH:
            raise ValueError(f".dt.epoch(): unit must be one of {', '.join(_EPOCH)}, got {unit!r}")
        e = self._checked("epoch")
        if e.dtype == "date32":  # a date: whole days
            days = Cast(Cast(e, "INT", "int64"), "BIGINT", "int64")
            return days * _UNIT_NS["d"] // _UNIT_NS[unit]
        base = "ns" if unit == "ns" else "us"  # a cast to a coarser unit truncates toward zero
        ticks = Cast(
            Func("arrow_cast", [e, Literal(f"Timestamp({_EPOCH[base]}, None)")], "timestamp"), "BIGINT", "int64"
        )
        return ticks if unit == base else ticks // (_UNIT_NS[unit] // _UNIT_NS[base])  # floors, as Polars

    def truncate(self, every: Any) -> Expr:
        """The start of the ``every`` bucket the time falls in: a fixed duration (``"15m"``,
        ``"1h"``, ``"500ms"``, ``"1d"``, ``"1w"``, a ``timedelta``), counted from 1970-01-01
        (``date_bin``), or one calendar month or year (``"1mo"``, ``"1y"``: ``date_trunc``)."""
        e = self._checked("truncate")
        if every in ("1mo", "1y"):
            return Func("date_trunc", [Literal("month" if every == "1mo" else "year"), e], e.dtype)
        ns = duration_ns("dt.truncate()", every)
        origin = Literal(_dt.datetime(1970, 1, 1))
        stamp = e if e.dtype != "date32" else Cast(e, "TIMESTAMP", "timestamp")
        return Func("date_bin", [_Interval(0, 0, ns), stamp, origin], "timestamp")

    def weekday(self) -> Expr:
        """Day of the week, Monday = 0 ... Sunday = 6."""
        dow = self._part("weekday", "dow")  # Sunday = 0
        return BinaryOp("%", BinaryOp("+", dow, Literal(6)), Literal(7))

    def add(
        self,
        days: int = 0,
        months: int = 0,
        years: int = 0,
        *,
        weeks: int = 0,
        hours: int = 0,
        minutes: int = 0,
        seconds: int = 0,
        milliseconds: int = 0,
        microseconds: int = 0,
    ) -> Expr:
        """The date (or timestamp) moved by whole years, months, weeks, days, and (timestamps
        only) hours, minutes, seconds, milliseconds and microseconds; negative moves back.
        Adding months keeps the day where it exists, else ends at the month's last day."""
        e = self._checked("add")
        d = _int("dt.add(days)", days).value + 7 * _int("dt.add(weeks)", weeks).value
        m = _int("dt.add(months)", months).value + 12 * _int("dt.add(years)", years).value
        parts = {"hours": hours, "minutes": minutes, "seconds": seconds}
        parts.update(milliseconds=milliseconds, microseconds=microseconds)
        ns = sum(_int(f"dt.add({k})", v).value * _UNIT_NS[_ADD_UNIT[k]] for k, v in parts.items())
        if ns and e.dtype == "date32":
            raise TypeError('.dt.add(): a date moves by whole days; cast it with .cast("timestamp") to add hours')
        return _Plus(e, _Interval(m, d, ns))

    def diff(self, other: Any, unit: str = "d") -> Expr:
        """``self - other`` in ``unit`` (``d`` days, ``h``, ``m`` minutes, ``s``, ``ms``, ``us``)
        as a float (fractional for timestamps)."""
        if unit not in _DIFF_UNITS:
            raise ValueError(f".dt.diff(): unit must be one of {', '.join(_DIFF_UNITS)}, got {unit!r}")
        o = _wrap(other)
        if o.dtype not in _TEMPORAL:
            raise TypeError(f".dt.diff() needs a date or timestamp to subtract, but {o!r} is {o.dtype}")
        a = Func("date_part", [Literal("epoch"), self._checked("diff")], "float64")
        b = Func("date_part", [Literal("epoch"), o], "float64")
        return BinaryOp("/", BinaryOp("-", a, b), Literal(_UNIT_NS[unit] / 1e9))


_UNIT_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}
_UNIT_NS["w"] = 7 * _UNIT_NS["d"]
_ADD_UNIT = {"hours": "h", "minutes": "m", "seconds": "s", "milliseconds": "ms", "microseconds": "us"}
_DIFF_UNITS = ("d", "h", "m", "s", "ms", "us")
_EPOCH = {"s": "Second", "ms": "Millisecond", "us": "Microsecond", "ns": "Nanosecond"}


def duration_ns(what: str, every: Any) -> int:
    """A fixed duration in nanoseconds: ``"15m"``, ``"2h"``, ``"500ms"``, ``"1d"``, ``"1w"``
    (one number and a unit) or a ``timedelta``."""
    if isinstance(every, _dt.timedelta):
        ns = (every.days * 86400 + every.seconds) * 10**9 + every.microseconds * 1000
    elif isinstance(every, str):
        m = re.fullmatch(r"(\d+)(ns|us|ms|s|m|h|d|w)", every)
        if m is None:
            raise ValueError(
                f"{what}: {every!r} is not a duration; write a number and a unit "
                "(ns, us, ms, s, m, h, d, w; 1mo and 1y for calendar units), e.g. '15m'"
            )
        ns = int(m.group(1)) * _UNIT_NS[m.group(2)]
    else:
        raise TypeError(f"{what} takes a duration string such as '15m' or a timedelta, not {type(every).__name__}")
    if ns <= 0:
        raise ValueError(f"{what}: the duration must be positive, got {every!r}")
    if ns % 1000:
        raise ValueError(f"{what}: durations below a microsecond are not supported, got {every!r}")
    return ns


class _Interval(Expr):
    """``INTERVAL 'm months d days n nanoseconds'`` (integers only, formatted by ltseq)."""

    __slots__ = ("months", "days", "nanos")

    def __init__(self, months: int, days: int, nanos: int = 0) -> None:
        self.months, self.days, self.nanos = int(months), int(days), int(nanos)

    @property
    def dtype(self) -> str:
        return "interval"

    def to_sql(self) -> str:
        tail = f" {self.nanos} nanoseconds" if self.nanos else ""
        return f"INTERVAL '{self.months} months {self.days} days{tail}'"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "interval", "months": self.months, "days": self.days, "nanoseconds": self.nanos}

    def __repr__(self) -> str:
        return f"interval(months={self.months}, days={self.days}, nanoseconds={self.nanos})"


class _Plus(Expr):
    """``date + interval``: keeps the date's type."""

    __slots__ = ("left", "right")

    def __init__(self, left: Expr, right: Expr) -> None:
        self.left, self.right = left, right

    @property
    def dtype(self) -> str:
        return self.left.dtype

    def to_sql(self) -> str:
        return f"({self.left.to_sql()} + {self.right.to_sql()})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "add_interval", "operand": self.left.to_dict(), "interval": self.right.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.left, self.right]

    def _with_children(self, children: list[Expr]) -> Expr:
        return _Plus(children[0], children[1])

    def __repr__(self) -> str:
        return f"{self.left!r}.dt.add({self.right!r})"


@extend
class AccessorMethods:
    """The accessor properties of every expression (see :class:`Expr`)."""

    @property
    def s(self: Any) -> StringAccessor:
        """String functions: ``r.name.s.lower()``, ``.contains(..)``, ``.split(sep, i)``, ..."""
        return StringAccessor(self)

    @property
    def dt(self: Any) -> DateTimeAccessor:
        """Date and time functions: ``r.day.dt.year()``, ``.add(days=1)``, ``.diff(other)``, ..."""
        return DateTimeAccessor(self)

    # ``r.x.str`` is another name for ``r.x.s`` (pandas' spelling).
    str = s
