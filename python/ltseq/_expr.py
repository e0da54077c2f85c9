"""Expressions: the trees that lambdas build (the core nodes), and the helpers that make them.

A lambda given to ``filter``, ``derive``, ``select`` or ``sort`` runs once, against a row proxy
``r``; every operation on ``r.col`` builds a node instead of computing a value. The tree
compiles to SQL (``to_sql()``) and can be shown as a plain dict (``to_dict()``).

Semantics follow Python where SQL would surprise a Python user: ``/`` is true division
(a float), ``//`` and ``%`` floor like Python's, ``x == None`` means ``x.is_null()``. NULLs
follow SQL: a comparison with NULL is NULL, and ``filter`` keeps only rows where the predicate
is true.

The window, string/time and link methods of expressions (``r.x.shift(1)``, ``r.x.s.lower()``,
``r.x.lookup(...)``) are defined in their own modules (``ltseq.window``, ``ltseq.accessors``,
``ltseq.link``), which add them to :class:`Expr` with :func:`extend`: this module imports none
of them. The public names are re-exported by ``ltseq.expr``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from . import _sql
from ._types import NUMERIC, TEMPORAL, cast_target

if TYPE_CHECKING:  # pragma: no cover
    from .accessors import DateTimeAccessor, StringAccessor
    from .window import Rolling

_ARITH = {"+", "-", "*", "/", "//", "%", "**"}
_COMPARE = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_LOGIC = {"&": "AND", "|": "OR"}


def _wrap(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if callable(value):
        raise TypeError(
            f"got a function ({value!r}) where an expression or literal was expected; "
            "did you forget to call a method, e.g. r.x.abs() instead of r.x.abs?"
        )
    return Literal(value)


def _compatible(a: str, b: str) -> bool:
    if "unknown" in (a, b) or "null" in (a, b) or a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    temporal = TEMPORAL | {"string"}
    if {a, b} <= temporal and (a in TEMPORAL or b in TEMPORAL):
        return True
    return False


class Expr:
    """An expression node. Build them with the row proxy (``r.col``), literals and operators."""

    __slots__ = ()

    # --- what every node provides -----------------------------------------------------------
    @property
    def dtype(self) -> str:
        """ltseq's type name of the result (``unknown`` where ltseq does not model it)."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def to_sql(self) -> str:
        """The SQL text of this expression."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def to_dict(self) -> dict[str, Any]:
        """The tree as plain dicts, lists and Python values."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def _children(self) -> list[Expr]:
        """The sub-expressions (for tree rewrites)."""
        return []

    def _with_children(self, children: list[Expr]) -> Expr:
        """This node with its sub-expressions replaced (same order as ``_children``)."""
        return self

    def _default_name(self) -> str:
        text = repr(self)
        return text[1:-1] if text.startswith("(") and text.endswith(")") else text

    # --- Python truthiness is not an expression ----------------------------------------------
    def __bool__(self) -> bool:
        raise TypeError(
            "an ltseq expression has no truth value: use & for 'and', | for 'or', ~ for 'not' "
            "(with parentheses: (r.a > 1) & (r.b < 2)), and write a < b < c as (a < b) & (b < c)"
        )

    __hash__ = object.__hash__

    # --- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> Expr:
        return BinaryOp("+", self, _wrap(other))

    def __radd__(self, other: Any) -> Expr:
        return BinaryOp("+", _wrap(other), self)

    def __sub__(self, other: Any) -> Expr:
        return BinaryOp("-", self, _wrap(other))

    def __rsub__(self, other: Any) -> Expr:
        return BinaryOp("-", _wrap(other), self)

    def __mul__(self, other: Any) -> Expr:
        return BinaryOp("*", self, _wrap(other))

    def __rmul__(self, other: Any) -> Expr:
        return BinaryOp("*", _wrap(other), self)

    def __truediv__(self, other: Any) -> Expr:
        return BinaryOp("/", self, _wrap(other))

    def __rtruediv__(self, other: Any) -> Expr:
        return BinaryOp("/", _wrap(other), self)

    def __floordiv__(self, other: Any) -> Expr:
        return BinaryOp("//", self, _wrap(other))

    def __rfloordiv__(self, other: Any) -> Expr:
        return BinaryOp("//", _wrap(other), self)

    def __mod__(self, other: Any) -> Expr:
        return BinaryOp("%", self, _wrap(other))

    def __rmod__(self, other: Any) -> Expr:
        return BinaryOp("%", _wrap(other), self)

    def __pow__(self, other: Any) -> Expr:
        return BinaryOp("**", self, _wrap(other))

    def __rpow__(self, other: Any) -> Expr:
        return BinaryOp("**", _wrap(other), self)

    def __neg__(self) -> Expr:
        return UnaryOp("-", self)

    def __pos__(self) -> Expr:
        return self

    def __abs__(self) -> Expr:
        return self.abs()

    # --- comparisons ------------------------------------------------------------------------
    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, negated=False)
        return BinaryOp("==", self, _wrap(other))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, negated=True)
        return BinaryOp("!=", self, _wrap(other))

    def __lt__(self, other: Any) -> Expr:
        return BinaryOp("<", self, _wrap(other))

    def __le__(self, other: Any) -> Expr:
        return BinaryOp("<=", self, _wrap(other))

    def __gt__(self, other: Any) -> Expr:
        return BinaryOp(">", self, _wrap(other))

    def __ge__(self, other: Any) -> Expr:
        return BinaryOp(">=", self, _wrap(other))

    # --- logic ------------------------------------------------------------------------------
    def __and__(self, other: Any) -> Expr:
        return BinaryOp("&", self, _wrap(other))

    def __rand__(self, other: Any) -> Expr:
        return BinaryOp("&", _wrap(other), self)

    def __or__(self, other: Any) -> Expr:
        return BinaryOp("|", self, _wrap(other))

    def __ror__(self, other: Any) -> Expr:
        return BinaryOp("|", _wrap(other), self)

    def __invert__(self) -> Expr:
        return UnaryOp("~", self)

    # --- methods ----------------------------------------------------------------------------
    def is_null(self) -> Expr:
        """True where the value is NULL."""
        return IsNull(self, negated=False)

    def is_not_null(self) -> Expr:
        """True where the value is not NULL."""
        return IsNull(self, negated=True)

    def fill_null(self, value: Any) -> Expr:
        """The value, or ``value`` where it is NULL (``COALESCE``)."""
        return Func("coalesce", [self, _wrap(value)], _merge_dtype(self.dtype, _wrap(value).dtype))

    def is_in(self, values: Iterable[Any]) -> Expr:
        """True where the value equals one of ``values`` (an empty list matches nothing)."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError("is_in() takes a list (or other iterable) of values")
        items = [_wrap(v) for v in values]
        return InList(self, items)

    def between(self, low: Any, high: Any) -> Expr:
        """True where ``low <= value <= high`` (both ends included)."""
        return Between(self, _wrap(low), _wrap(high))

    def cast(self, target: Any) -> Expr:
        """The value converted to ``target``: ``"int64"``, ``"float64"``, ``"string"``,
        ``"bool"``, ``"date"``, ``"timestamp"``, ``"decimal(p, s)"``, ``int``, ``float``,
        ``str``, ``bool`` or a ``pyarrow.DataType``. Strings holding ISO dates or timestamps
        cast to ``"date"`` / ``"timestamp"``."""
        sql_type, dtype = cast_target(target)
        return Cast(self, sql_type, dtype)

    def abs(self) -> Expr:
        """The absolute value."""
        _require_numeric("abs()", self)
        return Func("abs", [self], self.dtype)

    def round(self, decimals: int = 0) -> Expr:
        """The value rounded to ``decimals`` places (halves away from zero)."""
        if not isinstance(decimals, int) or isinstance(decimals, bool):
            raise TypeError("round() takes an integer number of decimals")
        _require_numeric("round()", self)
        return Func("round", [self, Literal(decimals)], "float64" if self.dtype != "int64" else "int64")

    def floor(self) -> Expr:
        """The largest integer not above the value."""
        _require_numeric("floor()", self)
        return Func("floor", [self], self.dtype)

    def ceil(self) -> Expr:
        """The smallest integer not below the value."""
        _require_numeric("ceil()", self)
        return Func("ceil", [self], self.dtype)

    def alias(self, name: str) -> Expr:
        """This expression, named ``name`` in ``select`` output."""
        if not isinstance(name, str) or not name:
            raise TypeError("alias() takes a non-empty column name")
        return Alias(self, name)

    if TYPE_CHECKING:  # pragma: no cover - added by ltseq.window, ltseq.accessors, ltseq.link

        def shift(self, n: int = 1, default: Any = None, *, partition_by: Any = None) -> Expr: ...
        def diff(self, n: int = 1, *, partition_by: Any = None) -> Expr: ...
        def pct_change(self, n: int = 1, *, partition_by: Any = None) -> Expr: ...
        def rolling(self, w: int, min_periods: int = 1, partition_by: Any = None) -> Rolling: ...
        def cum_sum(self, *, partition_by: Any = None) -> Expr: ...
        def cum_prod(self, *, partition_by: Any = None) -> Expr: ...
        def cum_min(self, *, partition_by: Any = None) -> Expr: ...
        def cum_max(self, *, partition_by: Any = None) -> Expr: ...
        def cum_count(self, *, partition_by: Any = None) -> Expr: ...
        def lookup(self, target: Any, column: str, on: str | None = None) -> Expr: ...
        @property
        def s(self) -> StringAccessor: ...
        @property
        def dt(self) -> DateTimeAccessor: ...


_Mixin = TypeVar("_Mixin", bound=type)


def extend(mixin: _Mixin) -> _Mixin:
    """Adds the methods and properties of the class ``mixin`` to :class:`Expr` (how the window,
    accessor and link modules give every expression their methods without this module
    importing them)."""
    for name, member in vars(mixin).items():
        if not (name.startswith("__") and name.endswith("__")):
            setattr(Expr, name, member)
    return mixin


def _merge_dtype(a: str, b: str) -> str:
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if a in NUMERIC and b in NUMERIC:
        return "float64" if "float64" in (a, b) else ("decimal" if "decimal" in (a, b) else "int64")
    return "unknown"


def _require_numeric(what: str, e: Expr) -> None:
    if e.dtype not in NUMERIC | {"null", "unknown"}:
        raise TypeError(f"{what} needs a number, but {e!r} is {e.dtype}")


class Column(Expr):
    """A column of the table a lambda runs against."""

    __slots__ = ("name", "_dtype", "zone")

    def __init__(self, name: str, dtype: str = "unknown", zone: str | None = None) -> None:
        self.name = name
        self._dtype = dtype
        self.zone = zone  # a timestamp column's time zone

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        return _sql.quote_ident(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "column", "name": self.name}

    def _default_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"r.{self.name}" if self.name.isidentifier() else f"r[{self.name!r}]"


class Literal(Expr):
    """A constant."""

    __slots__ = ("value", "_dtype")

    def __init__(self, value: Any) -> None:
        self._dtype = _sql.literal_dtype(value)
        self.value = _sql._unwrap_numpy(value)
        _sql.sql_literal(self.value)  # fail now, not at compile time

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        return _sql.sql_literal(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "literal", "value": self.value, "dtype": self._dtype}

    def __repr__(self) -> str:
        return repr(self.value)


def _check_zones(side: Expr, other: Expr) -> None:
    """A naive time (a ``datetime`` without ``tzinfo``, an ISO string without an offset)
    compared with a time-zoned column is an error, as in Polars: which instant it means is not
    something ltseq guesses."""
    zone = other.zone if isinstance(other, Column) else None
    if zone is None or not isinstance(side, Literal):
        return
    value = side.value
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value)
        except ValueError:
            return
    if isinstance(value, _dt.datetime) and value.utcoffset() is None:
        raise TypeError(
            f"cannot compare {other!r} (a timestamp in time zone {zone}) with the naive time {side.value!r}: "
            "give it a zone (datetime(..., tzinfo=timezone.utc), or an ISO string with an offset such as "
            "'2024-01-02T12:00+01:00')"
        )


class BinaryOp(Expr):
    """``left op right`` for arithmetic, comparison and logic."""

    __slots__ = ("op", "left", "right", "_dtype")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right
        self._dtype = self._infer()

    def _infer(self) -> str:
        op, a, b = self.op, self.left.dtype, self.right.dtype
        if op in _COMPARE:
            if not _compatible(a, b):
                raise TypeError(
                    f"cannot compare {self.left!r} ({a}) with {self.right!r} ({b}); convert one side with .cast(...)"
                )
            for side, other in ((self.left, self.right), (self.right, self.left)):
                _check_zones(side, other)
                if (
                    isinstance(side, Literal)
                    and isinstance(side.value, str)
                    and other.dtype in ("date32", "timestamp")
                    and _sql.time_literal(side.value, other.dtype) is None
                ):
                    what, examples = (
                        ("date", "'2024-01-02'")
                        if other.dtype == "date32"
                        else ("timestamp", "'2024-01-02T22:00', '2024-01-02 22:00:05+01:00'")
                    )
                    raise ValueError(
                        f"cannot read {side.value!r} as a {what} to compare with {other!r}: "
                        f"write an ISO 8601 {what} ({examples}) or a datetime object"
                    )
            return "bool"
        if op in _LOGIC:
            for side in (self.left, self.right):
                if side.dtype not in ("bool", "null", "unknown"):
                    raise TypeError(
                        f"{op} combines conditions, but {side!r} is {side.dtype}; compare it first, e.g. (r.x > 0)"
                    )
            return "bool"
        # arithmetic
        if op == "+" and a == "string" and b in ("string", "null"):
            return "string"
        if op == "+" and b == "string" and a == "null":
            return "string"
        for side in (self.left, self.right):
            if side.dtype in ("string", "bool", "binary"):
                raise TypeError(
                    f"cannot apply {op} to {self.left!r} ({a}) and {self.right!r} ({b})"
                    + ("; strings only support + (concatenation)" if side.dtype == "string" else "")
                )
        if op in ("/", "**"):
            return "float64"
        if a in TEMPORAL or b in TEMPORAL or "unknown" in (a, b):
            return "unknown"
        return _merge_dtype(a, b)

    @property
    def dtype(self) -> str:
        return self._dtype

    def _chain(self) -> str | None:
        """The operator of a left-associative chain this node continues (``a + b - c``,
        ``a * b``, ``a AND b AND c``), written without inner parentheses, so that a long sum
        nests no deeper in SQL than a short one (DataFusion's parser stops at 50 levels)."""
        if self.op in _LOGIC:
            return _LOGIC[self.op]
        if self.op == "+" and self._dtype == "string":
            return "||"
        if self.op in ("+", "-"):
            return "+-"
        return "*" if self.op == "*" else None

    def _operand(self) -> str:
        """The left operand's SQL: bare when it is a link of the same chain."""
        left = self.left
        if isinstance(left, BinaryOp) and left._chain() is not None and left._chain() == self._chain():
            return left.to_sql()[1:-1]
        return left.to_sql()

    def _side(self, side: Expr, other: Expr) -> str | None:
        """A literal's SQL typed by the other operand where DataFusion needs it: a timedelta
        added to a date is an interval; an ISO string against a date or timestamp is parsed
        here (DataFusion's cast needs the seconds)."""
        if not isinstance(side, Literal):
            return None
        if isinstance(side.value, _dt.timedelta) and other.dtype == "date32" and self.op in ("+", "-"):
            return _sql.interval_literal(side.value)
        if isinstance(side.value, str) and (self.op in _COMPARE or self.op in ("+", "-")):
            return _sql.time_literal(side.value, other.dtype)
        return None

    def to_sql(self) -> str:
        op = self.op
        if self._chain() is not None:
            left, right = self._operand(), self._side(self.right, self.left) or self.right.to_sql()
            sym = _LOGIC.get(op) or ("||" if self._chain() == "||" else op)
            return f"({left} {sym} {right})"
        left = self._side(self.left, self.right) or self.left.to_sql()
        right = self._side(self.right, self.left) or self.right.to_sql()
        if op in _COMPARE:
            return f"({left} {_COMPARE[op]} {right})"
        if op == "/":
            return f"(CAST({left} AS DOUBLE) / {right})"
        if op == "**":
            return f"power(CAST({left} AS DOUBLE), {right})"
        if op == "//":
            if self._dtype == "int64":
                # exact floor division on integers (SQL's / truncates toward zero)
                return (
                    f"(({left} / {right}) - CASE WHEN ({left} % {right} <> 0) AND "
                    f"(({left} < 0) <> ({right} < 0)) THEN 1 ELSE 0 END)"
                )
            return f"floor({left} / {right})"
        if op == "%":
            # Python's modulo takes the divisor's sign (SQL's takes the dividend's)
            return f"((({left} % {right}) + {right}) % {right})"
        return f"({left} {op} {right})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "binary", "op": self.op, "left": self.left.to_dict(), "right": self.right.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.left, self.right]

    def _with_children(self, children: list[Expr]) -> Expr:
        return BinaryOp(self.op, children[0], children[1])

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"


class UnaryOp(Expr):
    """``-x`` or ``~x``."""

    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Expr) -> None:
        self.op, self.operand = op, operand
        if op == "-":
            _require_numeric("unary -", operand)
        elif operand.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"~ negates a condition, but {operand!r} is {operand.dtype}")

    @property
    def dtype(self) -> str:
        return "bool" if self.op == "~" else self.operand.dtype

    def to_sql(self) -> str:
        inner = self.operand.to_sql()
        return f"(NOT {inner})" if self.op == "~" else f"(- {inner})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "unary", "op": self.op, "operand": self.operand.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.operand]

    def _with_children(self, children: list[Expr]) -> Expr:
        return UnaryOp(self.op, children[0])

    def __repr__(self) -> str:
        return f"{self.op}{self.operand!r}"


class Func(Expr):
    """A call of a DataFusion scalar function."""

    __slots__ = ("name", "args", "_dtype")

    def __init__(self, name: str, args: list[Expr], dtype: str = "unknown") -> None:
        self.name, self.args, self._dtype = name, args, dtype

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        return f"{self.name}({', '.join(a.to_sql() for a in self.args)})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "call", "function": self.name, "args": [a.to_dict() for a in self.args]}

    def _children(self) -> list[Expr]:
        return list(self.args)

    def _with_children(self, children: list[Expr]) -> Expr:
        return Func(self.name, children, self._dtype)

    def __repr__(self) -> str:
        if self.args:
            rest = ", ".join(repr(a) for a in self.args[1:])
            return f"{self.args[0]!r}.{self.name}({rest})"
        return f"{self.name}()"


class Cast(Expr):
    """``CAST(x AS type)``."""

    __slots__ = ("operand", "sql_type", "_dtype")

    def __init__(self, operand: Expr, sql_type: str, dtype: str) -> None:
        self.operand, self.sql_type, self._dtype = operand, sql_type, dtype

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        return f"CAST({self.operand.to_sql()} AS {self.sql_type})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "cast", "operand": self.operand.to_dict(), "to": self.sql_type}

    def _children(self) -> list[Expr]:
        return [self.operand]

    def _with_children(self, children: list[Expr]) -> Expr:
        return Cast(children[0], self.sql_type, self._dtype)

    def __repr__(self) -> str:
        return f"{self.operand!r}.cast({self._dtype!r})"


class IsNull(Expr):
    """``x IS NULL`` / ``x IS NOT NULL``."""

    __slots__ = ("operand", "negated")

    def __init__(self, operand: Expr, negated: bool) -> None:
        self.operand, self.negated = operand, negated

    @property
    def dtype(self) -> str:
        return "bool"

    def to_sql(self) -> str:
        return f"({self.operand.to_sql()} IS {'NOT ' if self.negated else ''}NULL)"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "is_not_null" if self.negated else "is_null", "operand": self.operand.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.operand]

    def _with_children(self, children: list[Expr]) -> Expr:
        return IsNull(children[0], self.negated)

    def __repr__(self) -> str:
        return f"{self.operand!r}.{'is_not_null' if self.negated else 'is_null'}()"


class InList(Expr):
    """``x IN (v1, v2, ...)``."""

    __slots__ = ("operand", "values")

    def __init__(self, operand: Expr, values: list[Expr]) -> None:
        self.operand, self.values = operand, values
        for v in values:
            if not _compatible(operand.dtype, v.dtype):
                raise TypeError(f"is_in(): {v!r} ({v.dtype}) cannot be compared with {operand!r} ({operand.dtype})")

    @property
    def dtype(self) -> str:
        return "bool"

    def to_sql(self) -> str:
        if not self.values:
            return "FALSE"
        return f"({self.operand.to_sql()} IN ({', '.join(v.to_sql() for v in self.values)}))"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "in", "operand": self.operand.to_dict(), "values": [v.to_dict() for v in self.values]}

    def _children(self) -> list[Expr]:
        return [self.operand, *self.values]

    def _with_children(self, children: list[Expr]) -> Expr:
        return InList(children[0], children[1:])

    def __repr__(self) -> str:
        return f"{self.operand!r}.is_in([{', '.join(repr(v) for v in self.values)}])"


class Between(Expr):
    """``x BETWEEN low AND high``."""

    __slots__ = ("operand", "low", "high")

    def __init__(self, operand: Expr, low: Expr, high: Expr) -> None:
        self.operand, self.low, self.high = operand, low, high
        for v in (low, high):
            if not _compatible(operand.dtype, v.dtype):
                raise TypeError(f"between(): {v!r} ({v.dtype}) cannot be compared with {operand!r} ({operand.dtype})")

    @property
    def dtype(self) -> str:
        return "bool"

    def to_sql(self) -> str:
        return f"({self.operand.to_sql()} BETWEEN {self.low.to_sql()} AND {self.high.to_sql()})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "between",
            "operand": self.operand.to_dict(),
            "low": self.low.to_dict(),
            "high": self.high.to_dict(),
        }

    def _children(self) -> list[Expr]:
        return [self.operand, self.low, self.high]

    def _with_children(self, children: list[Expr]) -> Expr:
        return Between(children[0], children[1], children[2])

    def __repr__(self) -> str:
        return f"{self.operand!r}.between({self.low!r}, {self.high!r})"


class IfElse(Expr):
    """``CASE WHEN cond THEN a ELSE b END`` (a NULL condition takes the else branch)."""

    __slots__ = ("cond", "then", "otherwise", "_dtype")

    def __init__(self, cond: Expr, then: Expr, otherwise: Expr) -> None:
        if cond.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"if_else() needs a condition, but {cond!r} is {cond.dtype}")
        self.cond, self.then, self.otherwise = cond, then, otherwise
        self._dtype = _merge_dtype(then.dtype, otherwise.dtype)

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        return f"CASE WHEN {self.cond.to_sql()} THEN {self.then.to_sql()} ELSE {self.otherwise.to_sql()} END"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "if_else",
            "cond": self.cond.to_dict(),
            "then": self.then.to_dict(),
            "else": self.otherwise.to_dict(),
        }

    def _children(self) -> list[Expr]:
        return [self.cond, self.then, self.otherwise]

    def _with_children(self, children: list[Expr]) -> Expr:
        return IfElse(children[0], children[1], children[2])

    def __repr__(self) -> str:
        return f"if_else({self.cond!r}, {self.then!r}, {self.otherwise!r})"


class Alias(Expr):
    """An expression with an output name (for ``select``)."""

    __slots__ = ("operand", "name")

    def __init__(self, operand: Expr, name: str) -> None:
        self.operand, self.name = operand, name

    @property
    def dtype(self) -> str:
        return self.operand.dtype

    def to_sql(self) -> str:
        return self.operand.to_sql()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "alias", "name": self.name, "operand": self.operand.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.operand]

    def _with_children(self, children: list[Expr]) -> Expr:
        return Alias(children[0], self.name)

    def _default_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{self.operand!r}.alias({self.name!r})"


def if_else(condition: Any, true_value: Any, false_value: Any) -> Expr:
    """``true_value`` where ``condition`` holds, else ``false_value`` (also where it is NULL)."""
    return IfElse(_wrap(condition), _wrap(true_value), _wrap(false_value))


def lit(value: Any) -> Expr:
    """A literal as an expression (rarely needed: plain Python values work in expressions)."""
    return Literal(value)


__all__ = ["Expr", "Column", "Literal", "if_else", "lit", "extend"]
