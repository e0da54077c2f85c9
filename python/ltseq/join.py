"""Combining tables: joins (``join``, ``semi_join``, ``anti_join``) and set operations
(``union``/``concat``, ``intersect``, ``except_``), each with a stated row order.

A join's rows come in the left table's order, a left row's matches in the right table's order;
``right``/``full`` joins then add the right rows that matched nothing, in the right's order. A
union gives every row of the first table, then every row of the second. The order is carried as
hidden columns (each side's order columns, renamed), so the output reads it like any other
order; NULL keys never match. Every operation here is SQL that DataFusion plans (hash joins,
``UNION ALL``); ltseq adds only the order.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _native
from ._operators import output
from ._relation import Rel, Source, T, message, new_name, plan_schema, register_view
from ._sql import quote_ident, quote_string
from .accessors import duration_ns
from .exceptions import ColumnNotFoundError, QueryError, SchemaMismatchError, SortRequiredError
from .link import key_pairs

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq

HOW = ("inner", "left", "right", "full", "semi", "anti", "cross")
_SQL_JOIN = {
    "inner": "JOIN",
    "left": "LEFT JOIN",
    "right": "RIGHT JOIN",
    "full": "FULL JOIN",
    "semi": "LEFT SEMI JOIN",
    "anti": "LEFT ANTI JOIN",
    "cross": "CROSS JOIN",
}
_L, _R = '"__ltseq_l"', '"__ltseq_r"'


def _same_context(t: LTSeq, other: Any, who: str) -> None:
    if not hasattr(other, "_rel") or not hasattr(other, "_ctx"):
        raise TypeError(f"{who} takes another LTSeq, not {type(other).__name__}")
    if other._ctx is not t._ctx:
        raise ValueError(f"{who}: both tables must live on the same SessionContext (create the other with ctx=...)")


def _names(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(f"{what} must be a column name or a non-empty list of names, not {value!r}")


def join_keys(t: LTSeq, other: LTSeq, on: Any, left_on: Any, right_on: Any, who: str) -> tuple[list[str], list[str]]:
    """The (left, right) key columns of a join: ``on`` (a name, a list of names, or a lambda of
    both rows comparing columns with ``==``, joined by ``&``), or ``left_on`` with ``right_on``."""
    if on is not None:
        if left_on is not None or right_on is not None:
            raise ValueError(f"{who}: give on= or left_on=/right_on=, not both")
        if callable(on) and not isinstance(on, str):
            return key_pairs(on, t._types(), other._types(), who)
        left = right = _names(on, f"{who} on=")
    elif left_on is not None and right_on is not None:
        left, right = _names(left_on, f"{who} left_on="), _names(right_on, f"{who} right_on=")
        if len(left) != len(right):
            raise ValueError(f"{who}: left_on= and right_on= need as many columns each, got {left} and {right}")
    elif left_on is not None or right_on is not None:
        raise ValueError(f"{who}: left_on= and right_on= go together")
    else:
        raise ValueError(f"{who} needs keys: on='k', on=['k1', 'k2'], on=lambda a, b: a.k == b.k, or left_on/right_on")
    for k in left:
        if k not in t.columns:
            raise ColumnNotFoundError(k, t.columns, where="the left table")
    for k in right:
        if k not in other.columns:
            raise ColumnNotFoundError(k, other.columns, where="the right table")
    return left, right


def _hidden_order(rel: Rel, alias: str) -> tuple[list[str], list[tuple[str, bool]]]:
    """``rel``'s order columns read through ``alias`` under new hidden names: the select items
    and the new order."""
    items, order = [], []
    for name, desc in rel.order:
        new = new_name("jo")
        items.append(f"{alias}.{quote_ident(name)} AS {quote_ident(new)}")
        order.append((new, desc))
    return items, order


def _right_names(t: LTSeq, other: LTSeq, shared: set[str], suffix: str) -> list[tuple[str, str]]:
    """The right columns a join brings (not the keys named as their left key) and their names
    (``suffix`` on a name the left has)."""
    taken = set(t.columns)
    out = []
    for c in other.columns:
        if c in shared:
            continue
        name = c
        if name in taken:
            name = c + suffix
            if name in taken or name in other.columns:
                raise ValueError(f"join(): the right column {c!r} clashes, and so does {name!r}; choose a suffix=")
        taken.add(name)
        out.append((c, name))
    return out


def _two_input_operator(t: LTSeq, other: LTSeq, kind: str, make: Any) -> tuple[str, list[str], tuple[Any, ...]]:
    """Registers the operator ``make(left, left schema, right, right schema)`` over ``t``'s
    relation (hidden columns included) and ``other``'s rows in its order (its output); returns
    the operator table's name and columns, and the sources that keep it registered."""
    ctx = t._ctx
    left_view = register_view(ctx, t._rel.sql)
    right_sql, right_source = output(other)
    right_view = register_view(ctx, right_sql)
    table = new_name(kind)
    try:
        source = Source(ctx, table, left_view, right_view)
        operator = make(left_view, ctx.table(left_view).schema(), right_view, ctx.table(right_view).schema())
        ctx.register_table(table, operator)
    except Exception as e:
        raise QueryError(f"{kind}: {message(e)}") from e
    names = ctx.table(table).schema().names
    return table, names, t._rel.sources + (source, right_source) + other._rel.sources


def _operator_join(
    t: LTSeq, other: LTSeq, kind: str, left_keys: list[str], right_keys: list[str], suffix: str
) -> LTSeq:
    """An inner, left, semi or anti join on ltseq's Join operator: the left streams in its
    order, each left row's matches in the right's order (the right read through its ordered
    output); an ordinal column of the operator orders a left row's matches."""
    ctx = t._ctx
    fetches = kind in ("inner", "left")
    pairs = _right_names(t, other, {a for a, b in zip(left_keys, right_keys) if a == b}, suffix) if fetches else []
    ordinal = new_name("jn") if fetches else None
    fetch, out = [c for c, _ in pairs], [n for _, n in pairs]

    def make(left: str, left_schema: Any, right: str, right_schema: Any) -> Any:
        args = (left_keys, right_keys, kind, fetch, out, ordinal)
        return _native.join_table(left, left_schema, right, right_schema, *args)

    table, _, sources = _two_input_operator(t, other, "join()", make)
    names = [n for _, n in pairs]
    hidden = list(t._rel.hidden) + ([ordinal] if ordinal else [])
    select = [quote_ident(c) for c in [*t.columns, *names, *hidden]]
    sql = f"SELECT {', '.join(select)} FROM {quote_ident(table)}"
    schema = plan_schema(ctx, sql)
    visible = pa.schema([schema.field(i) for i in range(len(t.columns) + len(names))])
    order = t._rel.order + (((ordinal, False),) if ordinal else ())
    return t._with(Rel(sql, visible, tuple(hidden), order, t._rel.sort_keys, sources))


def join(t: LTSeq, other: LTSeq, on: Any, how: str, left_on: Any, right_on: Any, suffix: str) -> LTSeq:
    """``t`` joined with ``other`` (see :meth:`LTSeq.join`)."""
    who = "join()" if how not in ("semi", "anti") else f"{how}_join()"
    _same_context(t, other, who)
    kind = how.lower() if isinstance(how, str) else how
    if kind not in HOW:
        raise ValueError(f"join(): how must be one of {', '.join(HOW)}; got {how!r}")
    if not isinstance(suffix, str) or not suffix:
        raise ValueError(f"join(): suffix must be a non-empty string, got {suffix!r}")
    if kind == "cross":
        if on is not None or left_on is not None or right_on is not None:
            raise ValueError("join(how='cross') takes no keys: every left row meets every right row")
        left_keys: list[str] = []
        right_keys: list[str] = []
    else:
        left_keys, right_keys = join_keys(t, other, on, left_on, right_on, who)
    if kind in ("inner", "left", "semi", "anti"):
        return _operator_join(t, other, kind, left_keys, right_keys, suffix)
    cond = " AND ".join(f"{_L}.{quote_ident(a)} = {_R}.{quote_ident(b)}" for a, b in zip(left_keys, right_keys))
    left_sql = t._rel.sql
    marker = None
    if kind in ("right", "full"):  # a column that is NULL exactly on the right rows without a match
        marker = new_name("jm")
        left_sql = f"SELECT {T}.*, 0 AS {quote_ident(marker)} FROM ({left_sql}) AS {T}"
    l_items, l_order = _hidden_order(t._rel, _L)
    select = []
    if kind in ("semi", "anti"):
        select = [f"{_L}.{quote_ident(c)} AS {quote_ident(c)}" for c in t.columns]
        r_items: list[str] = []
        r_order: list[tuple[str, bool]] = []
    else:
        shared = {a for a, b in zip(left_keys, right_keys) if a == b}
        coalesce = kind in ("right", "full")
        for c in t.columns:
            col = f"{_L}.{quote_ident(c)}"
            if coalesce and c in shared:  # the key of a right row without a match is the right's
                col = f"coalesce({col}, {_R}.{quote_ident(c)})"
            select.append(f"{col} AS {quote_ident(c)}")
        for c, name in _right_names(t, other, shared, suffix):
            select.append(f"{_R}.{quote_ident(c)} AS {quote_ident(name)}")
        r_items, r_order = _hidden_order(other._rel, _R)
    hidden = [f"{_L}.{quote_ident(marker)} AS {quote_ident(marker)}"] if marker else []
    on_sql = f" ON {cond}" if cond else ""
    sql = (
        f"SELECT {', '.join(select + hidden + l_items + r_items)} FROM ({left_sql}) AS {_L} "
        f"{_SQL_JOIN[kind]} ({other._rel.sql}) AS {_R}{on_sql}"
    )
    schema = plan_schema(t._ctx, sql)
    width = len(select)
    visible = pa.schema([schema.field(i) for i in range(width)])
    order = ([(marker, False)] if marker else []) + l_order + r_order
    keeps_left = kind not in ("right", "full")
    sources = t._rel.sources + other._rel.sources
    rel = Rel(
        sql,
        visible,
        tuple(name for name, _ in order),
        tuple(order),
        t._rel.sort_keys if keeps_left else None,
        sources,
    )
    return t._with(rel)


_UNITS = {"s": "Second", "ms": "Millisecond", "us": "Microsecond", "ns": "Nanosecond"}
_SIMPLE = {
    **{f"int{b}": f"Int{b}" for b in (8, 16, 32, 64)},
    **{f"uint{b}": f"UInt{b}" for b in (8, 16, 32, 64)},
    "halffloat": "Float16",
    "float": "Float32",
    "double": "Float64",
    "bool": "Boolean",
    "string": "Utf8",
    "large_string": "LargeUtf8",
    "string_view": "Utf8View",
    "binary": "Binary",
    "large_binary": "LargeBinary",
    "date32[day]": "Date32",
    "date64[ms]": "Date64",
}


def _typed_null(own: str, t: pa.DataType, salt: int) -> str:
    """A NULL of type ``t`` that DataFusion's optimizer cannot fold into a constant (``own`` is
    a column of the same branch): a literal NULL filler in a ``UNION ALL`` branch makes
    DataFusion 55 push the output sort into the branches and then reject its own plan
    (SanityCheckPlan: the union's order cannot be derived from constants that differ per
    branch), and two equal fillers (which it would think equal columns) do the same: each
    filler gets its own ``salt``."""
    if pa.types.is_timestamp(t):
        zone = "None" if t.tz is None else f'Some("{t.tz}")'
        name = f"Timestamp({_UNITS[t.unit]}, {zone})"
    elif pa.types.is_duration(t):
        name = f"Duration({_UNITS[t.unit]})"
    elif pa.types.is_decimal(t):
        name = f"Decimal{t.bit_width}({t.precision}, {t.scale})"
    else:
        name = _SIMPLE.get(str(t), "")
    if not name or '"' in name.replace(f'"{getattr(t, "tz", "")}"', ""):
        return "NULL"
    text = f"concat(CAST({own} AS VARCHAR), '{int(salt)}')"
    null = f"nullif({text}, {text})"
    if pa.types.is_duration(t):  # no cast from text to a duration: through an integer
        null = f"arrow_cast({null}, 'Int64')"
    return f"arrow_cast({null}, {quote_string(name)})"


def union(t: LTSeq, others: Sequence[Any], who: str = "union()") -> LTSeq:
    """Every row of ``t``, then every row of each of ``others`` (columns matched by name)."""
    for o in others:
        _same_context(t, o, who)
        if set(o.columns) != set(t.columns):
            missing = [c for c in t.columns if c not in o.columns]
            extra = [c for c in o.columns if c not in t.columns]
            raise SchemaMismatchError(
                f"{who}: the tables need the same columns; the other table lacks {missing} and has {extra} "
                f"in addition (columns: {t.columns} and {o.columns})"
            )
    tables = [t, *others]
    side = new_name("us")
    orders = [_hidden_order(x._rel, T)[1] for x in tables]
    types = [plan_schema(t._ctx, x._rel.sql) for x in tables]
    branches = []
    for i, x in enumerate(tables):
        own = f"{T}.{quote_ident(x._rel.order[0][0])}"
        items = [f"{T}.{quote_ident(c)} AS {quote_ident(c)}" for c in t.columns]
        items.append(f"CAST({i} AS BIGINT) AS {quote_ident(side)}")
        for j, order in enumerate(orders):
            if i == j:
                items += [
                    f"{T}.{quote_ident(old)} AS {quote_ident(new)}" for (new, _), (old, _) in zip(order, x._rel.order)
                ]
            else:
                olds = [old for old, _ in tables[j]._rel.order]
                fill = [_typed_null(own, types[j].field(old).type, len(items) + k) for k, old in enumerate(olds)]
                items += [f"{f} AS {quote_ident(new)}" for f, (new, _) in zip(fill, order)]
        branches.append(f"SELECT {', '.join(items)} FROM ({x._rel.sql}) AS {T}")
    sql = " UNION ALL ".join(branches)
    schema = plan_schema(t._ctx, sql)
    visible = pa.schema([schema.field(i) for i in range(len(t.columns))])
    order = [(side, False)] + [o for order in orders for o in order]
    sources = tuple(s for x in tables for s in x._rel.sources)
    return t._with(Rel(sql, visible, tuple(n for n, _ in order), tuple(order), None, sources))


def membership(t: LTSeq, other: Any, on: Any, keep: bool, who: str) -> LTSeq:
    """The rows of ``t`` (in its order, duplicates kept) whose key is (``keep``) or is not in
    ``other``: ``on`` names the key columns (default every column of ``t``); NULL never matches."""
    _same_context(t, other, who)
    if on is None:
        keys = list(t.columns)
    elif callable(on) and not isinstance(on, str):
        return join(t, other, on, "semi" if keep else "anti", None, None, "_right")
    else:
        keys = _names(on, f"{who} on=")
    for k in keys:
        if k not in t.columns:
            raise ColumnNotFoundError(k, t.columns, where="the table")
        if k not in other.columns:
            raise ColumnNotFoundError(k, other.columns, where=f"the other table of {who}")
    return join(t, other, keys, "semi" if keep else "anti", None, None, "_right")


STRATEGIES = ("backward", "forward", "nearest")


def _check_order(t: LTSeq, on: str, by: list[str], side: str) -> None:
    """``t`` must declare an order by ``on`` (after the ``by`` columns, in any order of them)."""
    keys = [k for k, _ in t._rel.sort_keys or ()]
    if keys[:1] == [on] or (by and set(keys[: len(by)]) == set(by) and keys[len(by) : len(by) + 1] == [on]):
        return
    want = f"{on!r}" if not by else f"{on!r} (or {by} then {on!r})"
    raise SortRequiredError(
        f"asof_join(): the {side} table must be sorted by {want}, and its declared order is "
        f"{keys or 'none'}: call .sort({on!r}) first (or .assume_sorted({on!r}) for data already in order)"
    )


def _tolerance(value: Any) -> tuple[str, float] | None:
    if value is None:
        return None
    if isinstance(value, (str, _dt.timedelta)):
        return ("nanos", float(duration_ns("asof_join() tolerance", value)))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(
            f"asof_join(): tolerance must be a number >= 0, a duration such as '5s', or a timedelta; got {value!r}"
        )
    return ("number", float(value))


def asof_join(
    t: LTSeq,
    other: LTSeq,
    on: Any,
    by: Any,
    strategy: str,
    tolerance: Any,
    left_on: Any,
    right_on: Any,
    suffix: str,
) -> LTSeq:
    """``t`` as-of joined with ``other`` (see :meth:`LTSeq.asof_join`), on ltseq's AsOf operator."""
    who = "asof_join()"
    _same_context(t, other, who)
    if strategy not in STRATEGIES:
        raise ValueError(f"{who}: strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    if not isinstance(suffix, str) or not suffix:
        raise ValueError(f"{who}: suffix must be a non-empty string, got {suffix!r}")
    if on is not None:
        if left_on is not None or right_on is not None:
            raise ValueError(f"{who}: give on= or left_on=/right_on=, not both")
        left_on = right_on = on
    if not isinstance(left_on, str) or not isinstance(right_on, str):
        raise TypeError(f"{who} needs on='column' (or left_on= and right_on=), one column name each")
    by_cols = [] if by is None else _names(by, f"{who} by=")
    for k in [left_on, *by_cols]:
        if k not in t.columns:
            raise ColumnNotFoundError(k, t.columns, where="the left table")
    for k in [right_on, *by_cols]:
        if k not in other.columns:
            raise ColumnNotFoundError(k, other.columns, where="the right table")
    _check_order(t, left_on, by_cols, "left")
    _check_order(other, right_on, by_cols, "right")
    tol = _tolerance(tolerance)
    ctx = t._ctx

    def make(left: str, left_schema: Any, right: str, right_schema: Any) -> Any:
        args = (left_on, right_on, by_cols, by_cols, strategy, tol, suffix)
        return _native.asof_table(left, left_schema, right, right_schema, *args)

    # the right's rows in its order: equal times are taken in that order
    table, names, sources = _two_input_operator(t, other, who, make)
    width = len(t.columns) + len(t._rel.hidden)
    fetched = names[width:]
    select = [quote_ident(c) for c in [*t.columns, *fetched, *t._rel.hidden]]
    sql = f"SELECT {', '.join(select)} FROM {quote_ident(table)}"
    schema = plan_schema(ctx, sql)
    visible = pa.schema([schema.field(i) for i in range(len(t.columns) + len(fetched))])
    rel = Rel(
        sql,
        visible,
        t._rel.hidden,
        t._rel.order,
        t._rel.sort_keys,
        sources,
    )
    return t._with(rel)


class _TableOrInstance:
    """``concat``: ``LTSeq.concat([t1, t2, ...])`` on the class, ``t.concat(other)`` (``union``)
    on a table."""

    def __get__(self, obj: Any, cls: Any) -> Any:
        if obj is None:

            def concat_tables(tables: Sequence[Any]) -> Any:
                """Every row of each table in ``tables``, one table after another."""
                items = list(tables) if isinstance(tables, Sequence) and not isinstance(tables, str) else None
                if not items:
                    raise ValueError("LTSeq.concat() takes a non-empty list of tables")
                _same_context(items[0], items[0], "LTSeq.concat()")
                return union(items[0], items[1:], "LTSeq.concat()") if len(items) > 1 else items[0]

            return concat_tables

        def concat(*others: Any) -> Any:
            """Every row of this table, then every row of each of ``others`` (as ``union``)."""
            return union(obj, list(others), "concat()")

        return concat


class Combining:
    """The joins and set operations of ``LTSeq`` (mixed into it)."""

    __slots__ = ()

    def join(
        self: Any,
        other: Any,
        on: Any = None,
        how: str = "inner",
        *,
        left_on: Any = None,
        right_on: Any = None,
        suffix: str = "_right",
    ) -> Any:
        """Joins ``other`` on equal keys: ``on`` is a column name, a list of names, or a lambda
        ``lambda a, b: (a.k == b.k) & (a.d == b.d)``; or ``left_on=``/``right_on=``. ``how``:
        ``inner``, ``left``, ``right``, ``full``, ``semi``, ``anti`` or ``cross``. NULL keys
        never match.

        Columns: the left's, then the right's without the keys that have the same name on both
        sides (in ``right``/``full`` joins those keys are the right's where the left has no
        row); a right column whose name the left has gets ``suffix``. Order: the left's rows in
        the left's order, each left row's matches in the right's order; ``right``/``full`` then
        add the right rows that matched nothing, in the right's order. ``inner``, ``left``,
        ``semi``, ``anti`` and ``cross`` keep the left's declared sort keys."""
        return join(self, other, on, how, left_on, right_on, suffix)

    def semi_join(self: Any, other: Any, on: Any = None, *, left_on: Any = None, right_on: Any = None) -> Any:
        """The rows of this table that have a match in ``other`` (each once, in order)."""
        return join(self, other, on, "semi", left_on, right_on, "_right")

    def anti_join(self: Any, other: Any, on: Any = None, *, left_on: Any = None, right_on: Any = None) -> Any:
        """The rows of this table that have no match in ``other`` (in order; a NULL key has
        none)."""
        return join(self, other, on, "anti", left_on, right_on, "_right")

    def union(self: Any, *others: Any) -> Any:
        """Every row of this table, then every row of each of ``others``; columns are matched
        by name (the result has this table's column order), and a table with other columns is a
        ``SchemaMismatchError``. The result declares no sort keys."""
        if not others:
            raise ValueError("union() needs at least one other table")
        return union(self, list(others))

    concat = _TableOrInstance()

    def intersect(self: Any, other: Any, on: Any = None) -> Any:
        """The rows of this table whose key (``on``: a name or list of names; default every
        column) occurs in ``other``, in this table's order, duplicates kept (``distinct()``
        removes them). NULL never matches."""
        return membership(self, other, on, True, "intersect()")

    def except_(self: Any, other: Any, on: Any = None) -> Any:
        """The rows of this table whose key (as in ``intersect``) does not occur in ``other``,
        in this table's order, duplicates kept."""
        return membership(self, other, on, False, "except_()")

    subtract = except_

    def asof_join(
        self: Any,
        other: Any,
        on: Any = None,
        by: Any = None,
        strategy: str = "backward",
        tolerance: Any = None,
        *,
        left_on: Any = None,
        right_on: Any = None,
        suffix: str = "_right",
    ) -> Any:
        """For each row, the one row of ``other`` with equal ``by`` columns (a name or a list)
        that is the last with ``other.on <= on`` (``strategy="backward"``), the first with
        ``>=`` (``"forward"``), or the nearest (``"nearest"``; at equal distance the later
        one). With ``tolerance`` (a number, or for times a duration: ``"5s"``, ``"2m"``, a
        ``timedelta``) a row further away is not taken. Every row of this table appears once,
        in its order, with NULLs where it takes no row. Both tables must be sorted by ``on``
        (or by the ``by`` columns, then ``on``), else ``SortRequiredError``.

        Columns: this table's, then the other's except the ``by`` columns; a name this table
        has gets ``suffix`` (so the matched time comes as ``ts_right``). Runs on ltseq's AsOf
        operator: the other table is indexed once, each row finds its match by bisection."""
        return asof_join(self, other, on, by, strategy, tolerance, left_on, right_on, suffix)
