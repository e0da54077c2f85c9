"""``g.col`` inside an aggregate lambda: the values of one column, or of any row expression
built from such columns (``g.quantity * g.price``), over the rows of a group, waiting to be
aggregated (``(g.quantity * g.price).sum()``).

Shared by keyed aggregation (``agg`` / ``group_by``) and by the groups of consecutive rows
(``NestedTable``): the vocabulary and the checks live here once; each front end says how an
aggregate is built (``Make``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._expr import Alias, Expr
from ._types import NUMERIC
from .window import contains_window


class Aggregate(Expr):
    """Marks an expression node that is an aggregate over a group's rows."""

    __slots__ = ()


def contains_aggregate(e: Expr) -> bool:
    if isinstance(e, Aggregate):
        return True
    return any(contains_aggregate(c) for c in e._children())


# (function, the rows' expression, the result's type) -> the aggregate node. Functions:
# count (non-NULL values), sum, mean, min, max, median, std, var, n_unique, first, last.
Make = Callable[[str, Expr, str], Expr]


def numeric(what: str, e: Expr) -> Expr:
    """``e`` as numbers: booleans count as 1 and 0 (``(g.ms > 100).sum()`` counts, ``.mean()``
    is a fraction, as in Polars); other types are an error."""
    if e.dtype == "bool":
        return e.cast("int64")
    if e.dtype not in NUMERIC | {"null", "unknown"}:
        raise TypeError(f"{what} needs numbers, but {e!r} is {e.dtype}")
    return e


def sum_type(e: Expr) -> str:
    return "float64" if e.dtype == "float64" else ("decimal" if e.dtype == "decimal" else "int64")


def _unwrap(value: Any) -> Any:
    """An operand of a rows' expression: the expression of ``GroupValues``; a constant as it is.
    An aggregate (``g.price.sum()``) mixed with the rows' values is an error: it is one value
    per group, not per row."""
    if isinstance(value, GroupValues):
        return object.__getattribute__(value, "_e")
    if isinstance(value, _Lifted):
        return object.__getattribute__(value, "_obj")
    if isinstance(value, Expr) and contains_aggregate(value):
        raise TypeError(
            f"{value!r} is one value per group; it cannot be combined with a group's row values "
            "inside an aggregate (aggregate first: g.a.sum() / g.b.sum())"
        )
    return value


def _lift(value: Any, make: Make) -> Any:
    if isinstance(value, Expr):
        return GroupValues(value, make)
    if value is None or isinstance(value, (str, bytes, int, float, bool, tuple, list, dict)):
        return value
    return _Lifted(value, make)  # a method, an accessor (.s, .dt) or a builder (rolling)


class _Lifted:
    """A method or accessor (``g.name.s``, ``g.price.round``) of a rows' expression: calling it,
    or reading its attributes, gives ``GroupValues`` again."""

    __slots__ = ("_obj", "_make")

    def __init__(self, obj: Any, make: Make) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_make", make)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        obj = object.__getattribute__(self, "_obj")
        result = obj(*[_unwrap(a) for a in args], **{k: _unwrap(v) for k, v in kwargs.items()})
        return _lift(result, object.__getattribute__(self, "_make"))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = getattr(object.__getattribute__(self, "_obj"), name)
        return _lift(value, object.__getattribute__(self, "_make"))


class GroupValues:
    """The values of a row expression over a group's rows. Build them from ``g.col`` with
    operators and expression methods (``(g.q * g.p)``, ``g.name.s.len()``,
    ``g.x.fill_null(0)``), then aggregate: ``count`` (non-NULL values), ``sum``,
    ``mean``/``avg``, ``min``, ``max``, ``median``, ``std``, ``var``, ``n_unique``, ``first``,
    ``last`` (in the table's order)."""

    __slots__ = ("_e", "_make")

    def __init__(self, e: Expr, make: Make) -> None:
        object.__setattr__(self, "_e", e)
        object.__setattr__(self, "_make", make)

    def _agg(self, func: str, arg: Expr, dtype: str) -> Expr:
        while isinstance(arg, Alias):  # the aggregate is named by agg(); a name here means nothing
            arg = arg.operand
        if contains_window(arg):
            raise TypeError(
                f"{func}() of {arg!r}: window expressions (shift, diff, rolling, ...) inside an aggregate "
                "are not supported; derive them on the rows first, then aggregate the column"
            )
        return object.__getattribute__(self, "_make")(func, arg, dtype)

    @property
    def _expr(self) -> Expr:
        e: Expr = object.__getattribute__(self, "_e")
        return e

    # --- aggregates ------------------------------------------------------------------------
    def count(self) -> Expr:
        """The number of non-NULL values."""
        return self._agg("count", self._expr, "int64")

    def sum(self) -> Expr:
        """The sum (NULLs skipped; NULL when all are NULL)."""
        e = numeric("sum()", self._expr)
        return self._agg("sum", e, sum_type(e))

    def mean(self) -> Expr:
        """The mean of the non-NULL values."""
        return self._agg("mean", numeric("mean()", self._expr), "float64")

    avg = mean

    def min(self) -> Expr:
        return self._agg("min", self._expr, self._expr.dtype)

    def max(self) -> Expr:
        return self._agg("max", self._expr, self._expr.dtype)

    def median(self) -> Expr:
        """The exact median (interpolated between the two middle values)."""
        return self._agg("median", numeric("median()", self._expr), "float64")

    def std(self) -> Expr:
        """The sample standard deviation (NULL for one value)."""
        return self._agg("std", numeric("std()", self._expr), "float64")

    def var(self) -> Expr:
        """The sample variance (NULL for one value)."""
        return self._agg("var", numeric("var()", self._expr), "float64")

    def n_unique(self) -> Expr:
        """The number of distinct non-NULL values."""
        return self._agg("n_unique", self._expr, "int64")

    def first(self) -> Expr:
        """The value at the group's first row in the table's order (NULL if that value is)."""
        return self._agg("first", self._expr, self._expr.dtype)

    def last(self) -> Expr:
        """The value at the group's last row in the table's order."""
        return self._agg("last", self._expr, self._expr.dtype)

    # --- building row expressions ------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _lift(getattr(self._expr, name), object.__getattribute__(self, "_make"))

    def __bool__(self) -> bool:
        return bool(self._expr)  # raises the expression's own message

    def __repr__(self) -> str:
        return f"<values of {self._expr!r} in a group>"

    __hash__ = object.__hash__


def _operator(name: str) -> Callable[..., Any]:
    def op(self: GroupValues, *other: Any) -> Any:
        result = getattr(self._expr, name)(*[_unwrap(o) for o in other])
        return _lift(result, object.__getattribute__(self, "_make"))

    op.__name__ = name
    return op


for _name in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__ "
    "__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __neg__ __pos__ __abs__ __eq__ __ne__ __lt__ "
    "__le__ __gt__ __ge__ __and__ __rand__ __or__ __ror__ __invert__"
).split():
    setattr(GroupValues, _name, _operator(_name))
