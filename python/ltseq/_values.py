"""``g.col`` inside an aggregate lambda: the values of one column, or of any row expression
built from such columns (``g.quantity * g.price``), over the rows of a group, waiting to be
aggregated (``(g.quantity * g.price).sum()``).

Shared by keyed aggregation (``agg`` / ``group_by``) and by the groups of consecutive rows
(``NestedTable``): the vocabulary and the checks live here once; each front end says how an
aggregate is built (``Make``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._expr import Alias, Column, Expr, _wrap
from ._types import NUMERIC
from .window import contains_window


class Aggregate(Expr):
    """Marks an expression node that is an aggregate over a group's rows."""

    __slots__ = ()


def contains_aggregate(e: Expr) -> bool:
    if isinstance(e, Aggregate):
        return True
    return any(contains_aggregate(c) for c in e._children())


# (function, the rows' expression (None: count the rows), the result's type, a parameter) ->
# the aggregate node. Functions: count (non-NULL values; rows without an expression), sum,
# mean, min, max, median, std, var, n_unique, first, last, percentile (the parameter p), all,
# any, none (of a condition: a NULL counts as false).
Make = Callable[[str, "Expr | None", str, "float | None"], Expr]


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

    def _agg(self, func: str, arg: Expr, dtype: str, param: float | None = None) -> Expr:
        while isinstance(arg, Alias):  # the aggregate is named by agg(); a name here means nothing
            arg = arg.operand
        if contains_window(arg):
            raise TypeError(
                f"{func}() of {arg!r}: window expressions (shift, diff, rolling, ...) inside an aggregate "
                "are not supported; derive them on the rows first, then aggregate the column"
            )
        return object.__getattribute__(self, "_make")(func, arg, dtype, param)

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

    def percentile(self, p: float) -> Expr:
        """The exact ``p`` quantile (0 <= p <= 1), interpolated (``percentile_cont``)."""
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"percentile(): p must be a number from 0 to 1, got {p!r}")
        return self._agg("percentile", numeric("percentile()", self._expr), "float64", float(p))

    quantile = percentile

    def _pair(self, what: str, other: Any) -> Expr:
        o = _unwrap(other)
        if callable(o) and not isinstance(o, Expr):
            raise TypeError(f"{what}() takes another column of the group, e.g. g.x.{what}(g.y)")
        a, b = numeric(f"{what}()", self._expr), numeric(f"{what}()", _wrap(o))
        return Args([a.cast("float64"), b.cast("float64")])

    def corr(self, other: Any) -> Expr:
        """The Pearson correlation with ``other`` (``g.x.corr(g.y)``) over the rows where both
        are not NULL."""
        return self._agg("corr", self._pair("corr", other), "float64")

    def cov(self, other: Any) -> Expr:
        """The sample covariance with ``other`` over the rows where both are not NULL."""
        return self._agg("cov", self._pair("cov", other), "float64")

    def string_agg(self, sep: str = ",") -> Expr:
        """The strings joined with ``sep``, in the table's order (NULLs skipped)."""
        if not isinstance(sep, str):
            raise TypeError(f"string_agg() takes a separator string, not {type(sep).__name__}")
        e = self._expr
        if e.dtype not in ("string", "null", "unknown"):
            e = e.cast("string")
        return self._agg("string_agg", Args([e, _wrap(sep)]), "string")

    def _quantifier(self, which: str) -> Expr:
        e = self._expr
        if e.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"{which}() needs a condition, but {e!r} is {e.dtype}")
        return self._agg(which, e, "bool")

    def all(self) -> Expr:
        """Whether the condition holds on every row (a NULL counts as false)."""
        return self._quantifier("all")

    def any(self) -> Expr:
        """Whether the condition holds on some row."""
        return self._quantifier("any")

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


class Args(Expr):
    """The arguments of an aggregate that takes several (``corr(a, b)``): ``a, b`` in SQL."""

    __slots__ = ("items",)

    def __init__(self, items: list[Expr]) -> None:
        self.items = items

    @property
    def dtype(self) -> str:
        return self.items[0].dtype

    def to_sql(self) -> str:
        return ", ".join(e.to_sql() for e in self.items)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "args", "items": [e.to_dict() for e in self.items]}

    def _children(self) -> list[Expr]:
        return list(self.items)

    def _with_children(self, children: list[Expr]) -> Expr:
        return Args(children)

    def __repr__(self) -> str:
        return ", ".join(repr(e) for e in self.items)


class When(Expr):
    """``CASE WHEN cond THEN value [ELSE otherwise] END`` (no ELSE: NULL)."""

    __slots__ = ("cond", "value", "otherwise")

    def __init__(self, cond: Expr, value: Expr, otherwise: Expr | None = None) -> None:
        self.cond, self.value, self.otherwise = cond, value, otherwise

    @property
    def dtype(self) -> str:
        return self.value.dtype

    def to_sql(self) -> str:
        tail = f" ELSE {self.otherwise.to_sql()}" if self.otherwise is not None else ""
        return f"CASE WHEN {self.cond.to_sql()} THEN {self.value.to_sql()}{tail} END"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "when", "cond": self.cond.to_dict(), "value": self.value.to_dict()}

    def _children(self) -> list[Expr]:
        return [self.cond, self.value] + ([self.otherwise] if self.otherwise is not None else [])

    def _with_children(self, children: list[Expr]) -> Expr:
        return When(children[0], children[1], children[2] if len(children) > 2 else None)

    def __repr__(self) -> str:
        return f"when({self.cond!r}, {self.value!r})"


class GroupVocabulary:
    """The one vocabulary of every group proxy ``g`` (keyed ``agg``/``group_by().agg``, and
    the groups of consecutive rows of ``group_ordered``/``NestedTable``): ``g.col`` (or
    ``g["col"]``) is a column's values in the group, aggregated by its methods
    (``g.price.mean()``, ``(g.q * g.p).sum()``); the same aggregates as methods of ``g`` taking
    a column name, a row lambda or ``g.col`` (``g.mean("price")``, ``g.sum(lambda r: r.q *
    r.p)``); ``g.count()`` counts rows; ``g.first()``/``g.last()`` is the group's first or last
    row (``g.first().price``); ``count_if``/``sum_if``/``avg_if`` and ``all``/``any``/``none``
    aggregate under a row condition. Each proxy says how an aggregate is built (``_maker``)."""

    __slots__ = ()

    def _rows(self) -> Any:
        raise NotImplementedError  # pragma: no cover - every proxy provides it

    def _maker(self) -> Make:
        raise NotImplementedError  # pragma: no cover - every proxy provides it

    def _values(self, what: str, col: Any) -> GroupValues:
        rows = self._rows()
        if isinstance(col, GroupValues):
            value: Any = object.__getattribute__(col, "_e")
        elif isinstance(col, str):
            value = rows[col]
        elif isinstance(col, Expr):
            value = col
        elif callable(col):
            value = col(rows)
        else:
            raise TypeError(f"g.{what}() takes a column name or a row lambda, not {type(col).__name__}")
        if not isinstance(value, Expr):
            raise TypeError(f"g.{what}(): {value!r} is not a column or expression")
        return GroupValues(_wrap(value), self._maker())

    def _cond(self, what: str, pred: Any) -> Expr:
        if not callable(pred):
            raise TypeError(f"g.{what}() takes a row lambda as its condition, e.g. lambda r: r.x > 0")
        cond = _wrap(pred(self._rows()))
        if cond.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"g.{what}() needs a condition, but {cond!r} is {cond.dtype}")
        return cond

    def __getattr__(self, name: str) -> GroupValues:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> GroupValues:
        value = self._rows()[name]
        if not isinstance(value, Column):
            raise TypeError(f"g.{name} is a linked row; aggregate one of its columns, e.g. g['{name}_col']")
        return GroupValues(value, self._maker())

    def count(self, col: Any = None) -> Expr:
        """The number of rows in the group (of non-NULL values with a column)."""
        if col is not None:
            return self._values("count", col).count()
        return self._maker()("count", None, "int64", None)

    def sum(self, col: Any) -> Expr:
        return self._values("sum", col).sum()

    def mean(self, col: Any) -> Expr:
        return self._values("mean", col).mean()

    avg = mean

    def min(self, col: Any) -> Expr:
        return self._values("min", col).min()

    def max(self, col: Any) -> Expr:
        return self._values("max", col).max()

    def median(self, col: Any) -> Expr:
        return self._values("median", col).median()

    def std(self, col: Any) -> Expr:
        """The sample standard deviation (NULL for a one-row group)."""
        return self._values("std", col).std()

    def var(self, col: Any) -> Expr:
        """The sample variance (NULL for a one-row group)."""
        return self._values("var", col).var()

    def n_unique(self, col: Any) -> Expr:
        return self._values("n_unique", col).n_unique()

    def percentile(self, col: Any, p: float) -> Expr:
        """The exact ``p`` quantile (0 <= p <= 1), interpolated (``percentile_cont``)."""
        return self._values("percentile", col).percentile(p)

    quantile = percentile

    def first(self, col: Any = None) -> Any:
        """The group's first row in the table's order (``g.first().col``), or with a column its
        value there."""
        return _RowRef(self, "first") if col is None else self._values("first", col).first()

    def last(self, col: Any = None) -> Any:
        """The group's last row (``g.last().col``), or with a column its value there."""
        return _RowRef(self, "last") if col is None else self._values("last", col).last()

    def count_if(self, pred: Callable[[Any], Any]) -> Expr:
        """The number of rows where ``pred`` is true."""
        return self._maker()("count", When(self._cond("count_if", pred), _wrap(1)), "int64", None)

    def sum_if(self, pred: Callable[[Any], Any], col: Any) -> Expr:
        """The sum of ``col`` over the rows where ``pred`` is true (0 when there are none)."""
        value = numeric("sum_if()", self._values("sum_if", col)._expr)
        cond = self._cond("sum_if", pred)
        return self._maker()("sum", When(cond, value, _wrap(0)), sum_type(value), None)

    def avg_if(self, pred: Callable[[Any], Any], col: Any) -> Expr:
        """The mean of ``col`` over the rows where ``pred`` is true (NULL when there are none)."""
        value = numeric("avg_if()", self._values("avg_if", col)._expr)
        return self._maker()("mean", When(self._cond("avg_if", pred), value), "float64", None)

    mean_if = avg_if

    def min_if(self, pred: Callable[[Any], Any], col: Any) -> Expr:
        """The least ``col`` over the rows where ``pred`` is true (NULL when there are none)."""
        value = self._values("min_if", col)._expr
        return self._maker()("min", When(self._cond("min_if", pred), value), value.dtype, None)

    def max_if(self, pred: Callable[[Any], Any], col: Any) -> Expr:
        """The greatest ``col`` over the rows where ``pred`` is true (NULL when there are none)."""
        value = self._values("max_if", col)._expr
        return self._maker()("max", When(self._cond("max_if", pred), value), value.dtype, None)

    def corr(self, a: Any, b: Any) -> Expr:
        """The Pearson correlation of two columns (names, lambdas or ``g.col``)."""
        return self._values("corr", a).corr(self._values("corr", b))

    def cov(self, a: Any, b: Any) -> Expr:
        """The sample covariance of two columns."""
        return self._values("cov", a).cov(self._values("cov", b))

    def string_agg(self, col: Any, sep: str = ",") -> Expr:
        """A column's strings joined with ``sep``, in the table's order."""
        return self._values("string_agg", col).string_agg(sep)

    def all(self, pred: Callable[[Any], Any]) -> Expr:
        """Whether ``pred`` holds on every row of the group (a NULL counts as false)."""
        return self._maker()("all", self._cond("all", pred), "bool", None)

    def any(self, pred: Callable[[Any], Any]) -> Expr:
        """Whether ``pred`` holds on some row of the group."""
        return self._maker()("any", self._cond("any", pred), "bool", None)

    def none(self, pred: Callable[[Any], Any]) -> Expr:
        """Whether ``pred`` holds on no row of the group."""
        return self._maker()("none", self._cond("none", pred), "bool", None)


class _RowRef:
    """``g.first()`` / ``g.last()``: its attributes are that row's columns' values."""

    __slots__ = ("_group", "_which")

    def __init__(self, group: GroupVocabulary, which: str) -> None:
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_which", which)

    def __getattr__(self, name: str) -> Expr:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> Expr:
        group: GroupVocabulary = object.__getattribute__(self, "_group")
        which = object.__getattribute__(self, "_which")
        values = group[name]
        return values.first() if which == "first" else values.last()
