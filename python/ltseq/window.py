"""Window expressions: ``shift``, ``diff``, ``pct_change``, ``rolling(...)``, ``cum_*`` and the
ranking functions.

A window expression is a node of the expression tree like any other, so it composes with
arithmetic, comparisons and ``if_else``. Its ``OVER`` clause depends on the table it runs on
(the table's order), so it is compiled by the table (``LTSeq.derive``, ``select``, ``filter``,
``sort``): each window is computed first, as a hidden column, then the expression around it
reads that column. Windows nested in windows are computed innermost first.

The functions themselves are ltseq's SQL window functions (``rolling_sum``, ``cum_sum``,
``diff``, ...; see ``docs/sql-reference.md``) and DataFusion's ``lag``, ``lead``,
``row_number``, ``rank``, ``dense_rank`` and ``ntile``: nothing is computed in Python, and
their argument checks and result types are the functions' own (``ltseq._functions``). The
methods ``r.x.shift(...)``, ``.rolling(...)``, ``.cum_sum()``, ... are added to every
expression here (``WindowMethods``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _sql
from ._expr import Column, Expr, IfElse, IsNull, Literal, _wrap, extend
from ._functions import window_call
from .exceptions import SortRequiredError

# How a window's ORDER BY is formed when no explicit order_by is given:
#   "sequence": the table's full row order (sort keys, then the stable tie-break), required
#   "rank":     the declared sort keys only, so ties share a rank
#   "number":   the table's full row order, so numbering is deterministic
_SEQUENCE, _RANK, _NUMBER = "sequence", "rank", "number"


def _int_arg(what: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an integer, got {value!r}")
    return value


def _partition_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("partition_by needs at least one column or expression")
        return list(value)
    return [value]


@dataclass(frozen=True)
class WindowContext:
    """What a window needs from the table it runs on (built by ``LTSeq``)."""

    order_sql: str  # the table's full row order, as an ORDER BY list
    sort_keys_sql: str | None  # the declared sort keys, or None when no order is declared
    column: Callable[[str], Expr]  # resolves a column name (raises ColumnNotFoundError)


class Window(Expr):
    """A window function call: ``func(args) OVER (PARTITION BY ... ORDER BY ...)``."""

    __slots__ = ("func", "args", "partition_by", "order_by", "descending", "kind", "label", "_dtype", "operator")

    def __init__(
        self,
        func: str,
        args: list[Expr],
        label: str,
        *,
        kind: str = _SEQUENCE,
        partition_by: list[Any] | None = None,
        order_by: list[Any] | None = None,
        descending: list[bool] | None = None,
    ) -> None:
        # The function itself checks the arguments and gives the result type (in Rust).
        info = window_call(label, func, [_argument(a) for a in args])
        self.func, self.args, self._dtype, self.label, self.kind = func, args, info.dtype, label, kind
        self.operator = info.operator  # whether ltseq's Window operator evaluates the function
        self.partition_by = partition_by or []
        self.order_by = order_by or []
        self.descending = descending or [False] * len(self.order_by)

    @property
    def dtype(self) -> str:
        return self._dtype

    def over(
        self,
        partition_by: Any = None,
        order_by: Any = None,
        descending: bool | Sequence[bool] | None = None,
        desc: bool | Sequence[bool] | None = None,
    ) -> Window:
        """This window restricted to partitions (``partition_by``: column names or
        expressions) and/or ordered by ``order_by`` (names or expressions; ``descending`` is one
        bool or one per key) instead of the table's order. NULLs sort as in ``sort()``: last
        ascending, first descending."""
        parts = _partition_list(partition_by)
        if parts and self.partition_by:
            raise ValueError(f"{self.label}: partition_by is given twice (in the call and in .over()); give it once")
        if descending is None:
            descending = desc if desc is not None else False
        keys = [] if order_by is None else (list(order_by) if isinstance(order_by, (list, tuple)) else [order_by])
        if order_by is not None and not keys:
            raise ValueError(f"{self.label}.over(): order_by needs at least one key")
        if keys and self.order_by:
            raise ValueError(f"{self.label}: order_by is given twice; give it once")
        if isinstance(descending, bool):
            flags = [descending] * len(keys)
        else:
            flags = list(descending)
            if len(flags) != len(keys) or not all(isinstance(f, bool) for f in flags):
                raise ValueError(f"{self.label}.over(): descending must be a bool or a list of {len(keys)} bools")
        return Window(
            self.func,
            self.args,
            self.label,
            kind=self.kind,
            partition_by=parts or self.partition_by,
            order_by=keys or self.order_by,
            descending=flags if keys else self.descending,
        )

    # --- tree plumbing ------------------------------------------------------------------------
    def _exprs(self) -> list[Any]:
        return [*self.args, *self.partition_by, *self.order_by]

    def _children(self) -> list[Expr]:
        return [e for e in self._exprs() if isinstance(e, Expr)]

    def _with_children(self, children: list[Expr]) -> Expr:
        it = iter(children)
        new = [next(it) if isinstance(e, Expr) else e for e in self._exprs()]
        a, p = len(self.args), len(self.partition_by)
        return Window(
            self.func,
            new[:a],
            self.label,
            kind=self.kind,
            partition_by=new[a : a + p],
            order_by=new[a + p :],
            descending=self.descending,
        )

    def compile(self, ctx: WindowContext) -> str:
        """The SQL of this window on a table described by ``ctx``."""
        args = ", ".join(a.to_sql() for a in self.args)
        parts = [self._key(ctx, p).to_sql() for p in self.partition_by]
        order: list[str] = []
        for key, d in zip(self.order_by, self.descending):
            order.append(f"{self._key(ctx, key).to_sql()} {'DESC NULLS FIRST' if d else 'ASC NULLS LAST'}")
        if not order:
            if ctx.sort_keys_sql is None:
                raise SortRequiredError(
                    f"{self.label} needs an order, and this table has none declared: call .sort(...) first "
                    "(or .assume_sorted(...) for data already in order), or give .over(order_by=...). "
                    "A sort by computed keys (lambdas) does not declare an order."
                )
            order.append(ctx.sort_keys_sql if self.kind == _RANK else ctx.order_sql)
        elif self.kind != _RANK:
            order.append(ctx.order_sql)  # a deterministic tie-break: the table's order
        over = []
        if parts:
            over.append("PARTITION BY " + ", ".join(parts))
        over.append("ORDER BY " + ", ".join(order))
        return f"{self.func}({args}) OVER ({' '.join(over)})"

    @staticmethod
    def _key(ctx: WindowContext, key: Any) -> Expr:
        if isinstance(key, str):
            return ctx.column(key)
        if isinstance(key, Expr):
            return key
        raise TypeError(f"partition_by and order_by take column names or expressions, not {type(key).__name__}")

    def to_sql(self) -> str:
        raise TypeError(
            f"{self.label} is a window expression: it has SQL only inside a table's derive, select, filter "
            "or sort, where the table's order is known"
        )

    def to_dict(self) -> dict[str, Any]:
        def part(e: Any) -> Any:
            return e.to_dict() if isinstance(e, Expr) else {"type": "column", "name": e}

        return {
            "type": "window",
            "function": self.func,
            "args": [a.to_dict() for a in self.args],
            "partition_by": [part(p) for p in self.partition_by],
            "order_by": [{"key": part(k), "descending": d} for k, d in zip(self.order_by, self.descending)],
        }

    def __repr__(self) -> str:
        return self.label


def _argument(e: Expr) -> tuple[str, Any, bool]:
    """A call argument as the function checks it: its type, and its value when constant."""
    if isinstance(e, Literal):
        return e.dtype, e.value, True
    return e.dtype, None, False


def contains_window(e: Expr) -> bool:
    if isinstance(e, Window):
        return True
    return any(contains_window(c) for c in e._children())


def innermost_windows(e: Expr, out: list[Window]) -> None:
    """Collects the windows of ``e`` that contain no window themselves."""
    if isinstance(e, Window) and not any(contains_window(c) for c in e._children()):
        out.append(e)
        return
    for c in e._children():
        innermost_windows(c, out)


def replace_nodes(e: Expr, mapping: dict[int, Expr]) -> Expr:
    """``e`` with every node whose ``id`` is in ``mapping`` replaced."""
    if id(e) in mapping:
        return mapping[id(e)]
    children = e._children()
    if not children:
        return e
    new = [replace_nodes(c, mapping) for c in children]
    if all(a is b for a, b in zip(new, children)):
        return e
    return e._with_children(new)


# --- the expression methods (added to Expr with extend) ----------------------------------------


def shift(x: Expr, n: int = 1, default: Any = None, *, partition_by: Any = None) -> Expr:
    label = f"{x!r}.shift({n})"
    n = _int_arg("shift(): n", n)
    parts = _partition_list(partition_by)
    if n == 0:
        return x
    func = "lag" if n > 0 else "lead"
    offset = Literal(abs(n))
    if default is None:
        return Window(func, [x, offset], label, partition_by=parts)
    d = _wrap(default)
    if isinstance(d, Literal) and (d.dtype == x.dtype or (x.dtype == "float64" and d.dtype == "int64")):
        return Window(func, [x, offset, d], label, partition_by=parts)
    # Any other default (an expression, or a literal of another type) goes through CASE, so the
    # result takes the common type instead of casting the default to x's type.
    partner = Window(func, [Literal(1), offset], label, partition_by=parts)
    value = Window(func, [x, offset], label, partition_by=parts)
    return IfElse(IsNull(partner, negated=False), d, value)


def cumulative(x: Expr, which: str, *, partition_by: Any = None) -> Expr:
    return Window(f"cum_{which}", [x], f"{x!r}.cum_{which}()", partition_by=_partition_list(partition_by))


@extend
class WindowMethods:
    """The window methods of every expression (see :class:`Expr`)."""

    def shift(self: Any, n: int = 1, default: Any = None, *, fill_value: Any = None, partition_by: Any = None) -> Expr:
        """The value ``n`` rows earlier in the table's order (``n < 0``: ``-n`` rows later);
        ``fill_value`` (Polars' name) or ``default`` (a value or an expression; NULL if not
        given) where there is no such row."""
        if fill_value is not None:
            if default is not None:
                raise TypeError("shift() takes fill_value or default (the same thing), not both")
            default = fill_value
        return shift(self, n, default, partition_by=partition_by)

    def diff(self: Any, n: int = 1, *, partition_by: Any = None) -> Expr:
        """The value minus the value ``n`` rows earlier (NULL where there is none)."""
        n = _int_arg("diff(): n", n)
        return Window("diff", [self, Literal(n)], f"{self!r}.diff({n})", partition_by=_partition_list(partition_by))

    def pct_change(self: Any, n: int = 1, *, partition_by: Any = None) -> Expr:
        """``(x - prev) / prev`` where ``prev`` is the value ``n`` rows earlier, as a float."""
        n = _int_arg("pct_change(): n", n)
        label = f"{self!r}.pct_change({n})"
        return Window("pct_change", [self, Literal(n)], label, partition_by=_partition_list(partition_by))

    def rolling(self: Any, w: int, min_periods: int = 1, partition_by: Any = None) -> Rolling:
        """A rolling window of the ``w`` rows ending at each row; finish with ``.sum()``,
        ``.mean()``, ``.min()``, ``.max()``, ``.count()``, ``.std()`` or ``.var()``. A window
        with fewer than ``min_periods`` non-NULL values gives NULL (default 1: partial windows
        at the start aggregate the rows available)."""
        return Rolling(self, w, min_periods, partition_by)

    def cum_sum(self: Any, *, partition_by: Any = None) -> Expr:
        """The running sum from the first row (NULLs skipped; NULL until the first value)."""
        return cumulative(self, "sum", partition_by=partition_by)

    def cum_prod(self: Any, *, partition_by: Any = None) -> Expr:
        """The running product from the first row (NULLs skipped)."""
        return cumulative(self, "prod", partition_by=partition_by)

    def cum_min(self: Any, *, partition_by: Any = None) -> Expr:
        """The running minimum from the first row (NULLs skipped)."""
        return cumulative(self, "min", partition_by=partition_by)

    def cum_max(self: Any, *, partition_by: Any = None) -> Expr:
        """The running maximum from the first row (NULLs skipped)."""
        return cumulative(self, "max", partition_by=partition_by)

    def cum_count(self: Any, *, partition_by: Any = None) -> Expr:
        """The number of non-NULL values from the first row to this one."""
        return cumulative(self, "count", partition_by=partition_by)


class Rolling:
    """``r.x.rolling(w, min_periods=1, partition_by=None)``: pick the aggregate with ``.sum()``,
    ``.mean()``, ``.min()``, ``.max()``, ``.count()``, ``.std()`` or ``.var()``. The function
    checks ``w`` and ``min_periods``."""

    __slots__ = ("x", "w", "min_periods", "partition_by")

    def __init__(self, x: Expr, w: Any, min_periods: Any = 1, partition_by: Any = None) -> None:
        self.x, self.w, self.min_periods = x, w, min_periods
        self.partition_by = _partition_list(partition_by)

    def _make(self, which: str, func: str) -> Window:
        mp = "" if self.min_periods == 1 else f", min_periods={self.min_periods!r}"
        label = f"{self.x!r}.rolling({self.w!r}{mp}).{which}()"
        args = [self.x, _wrap(self.w), _wrap(self.min_periods)]
        return Window(func, args, label, partition_by=self.partition_by)

    def sum(self) -> Expr:
        """The sum of the non-NULL values in the window (integer for integer input)."""
        return self._make("sum", "rolling_sum")

    def mean(self) -> Expr:
        """The mean of the non-NULL values in the window."""
        return self._make("mean", "rolling_avg")

    avg = mean

    def min(self) -> Expr:
        """The smallest non-NULL value in the window."""
        return self._make("min", "rolling_min")

    def max(self) -> Expr:
        """The largest non-NULL value in the window."""
        return self._make("max", "rolling_max")

    def count(self) -> Expr:
        """The number of non-NULL values in the window."""
        return self._make("count", "rolling_count")

    def std(self) -> Expr:
        """The sample standard deviation of the non-NULL values in the window."""
        return self._make("std", "rolling_std")

    def var(self) -> Expr:
        """The sample variance of the non-NULL values in the window."""
        return self._make("var", "rolling_var")

    def __repr__(self) -> str:
        return f"{self.x!r}.rolling({self.w!r})"


# --- ranking -----------------------------------------------------------------------------------


def row_number() -> Window:
    """1, 2, 3, ... in the table's order (or ``.over(order_by=...)``), restarting in each
    ``.over(partition_by=...)`` partition."""
    return Window("row_number", [], "row_number()", kind=_NUMBER)


def rank() -> Window:
    """The rank by the sort keys (or ``.over(order_by=...)``): ties share a rank, and the next
    rank skips (1, 1, 3)."""
    return Window("rank", [], "rank()", kind=_RANK)


def dense_rank() -> Window:
    """Like :func:`rank` without gaps (1, 1, 2)."""
    return Window("dense_rank", [], "dense_rank()", kind=_RANK)


def ntile(n: int) -> Window:
    """The bucket number, 1 to ``n``, splitting the rows (in order) into ``n`` near-equal parts."""
    return Window("ntile", [_wrap(n)], f"ntile({n!r})", kind=_NUMBER)


# Whether window expressions may run on ltseq's Window operator (off: always SQL windows).
# Both give the same results; tests run both.
use_operator = True


def operator_partition(w: Window) -> tuple[str, ...] | None:
    """The partition columns when ``w`` can run on the Window operator, else None."""
    if not w.operator or w.order_by:
        return None
    names = []
    for p in w.partition_by:
        if isinstance(p, str):
            names.append(p)
        elif isinstance(p, Column):
            names.append(p.name)
        else:
            return None
    return tuple(names)


# operator(sql, windows, partition columns) -> (new sql, {id(window): column name}, keep-alive)
Operator = Callable[[str, list[Window], tuple[str, ...]], tuple[str, dict[int, str], Any]]


def stage_windows(
    exprs: list[Expr],
    base_sql: str,
    ctx: WindowContext,
    alias: str,
    name_of: Callable[[], str],
    operator: Operator | None = None,
) -> tuple[str, list[Expr], list[Any]]:
    """Computes the windows of ``exprs`` as extra columns over ``base_sql``, innermost first.
    Returns the new base query (the base's columns, then the window columns), ``exprs`` with
    each window replaced by a reference to its column, and the objects that must stay alive
    while the query is in use (tables registered for the Window operator).

    Windows that the Window operator can evaluate go to ``operator``, one call per set of
    partition columns; the others become SQL window calls."""
    sql = base_sql
    keep: list[Any] = []
    while True:
        found: list[Window] = []
        for e in exprs:
            innermost_windows(e, found)
        if not found:
            return sql, exprs, keep
        mapping: dict[int, Expr] = {}
        select: list[str] = []
        groups: dict[tuple[str, ...], list[Window]] = {}
        seen: set[int] = set()
        # the same window written twice (two lambdas, or twice in one) is computed once
        same: dict[str, Window] = {}
        twins: list[tuple[Window, Window]] = []
        for w in found:
            if id(w) in seen:
                continue
            seen.add(id(w))
            text = w.compile(ctx)  # validates: order present, columns known
            if text in same:
                twins.append((w, same[text]))
                continue
            same[text] = w
            part = operator_partition(w) if operator is not None else None
            if part is not None:
                for name in part:
                    ctx.column(name)
                groups.setdefault(part, []).append(w)
                continue
            name = name_of()
            select.append(f"{w.compile(ctx)} AS {_sql.quote_ident(name)}")
            mapping[id(w)] = Column(name, w.dtype)
        if select:
            sql = f"SELECT {alias}.*, {', '.join(select)} FROM ({sql}) AS {alias}"
        for part, windows in groups.items():
            assert operator is not None
            sql, names, alive = operator(sql, windows, part)
            keep.append(alive)
            for w in windows:
                mapping[id(w)] = Column(names[id(w)], w.dtype)
        for w, first in twins:
            mapping[id(w)] = mapping[id(first)]
        exprs = [replace_nodes(e, mapping) for e in exprs]


__all__ = ["Window", "Rolling", "row_number", "rank", "dense_rank", "ntile"]
