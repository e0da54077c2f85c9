"""ltseq's operators over relations: registering an operator's table over an ordered input
(the table-provider route), and staging the windows and lookups of expressions as hidden
columns (on the Window and Link operators) under a relation.

Every operator over one ordered input (Window, GroupOrdered, Pattern) gets its input the same
way (:func:`ordered_input`): a table in stored order is read by the operator itself in ordinal
order (the native side decides how: partition by partition, or in parallel); any other order
becomes a view ending in ``ORDER BY``, which the host sorts once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _native
from . import window as _window
from ._expr import Column, Expr, Literal
from ._relation import ORDINAL, Rel, Source, T, message, new_name, order_sql, register_view, table_read
from ._sql import quote_ident
from .exceptions import QueryError
from .link import contains_lookup, find_lookups, replace_lookups
from .window import Window, WindowContext, contains_window, stage_windows

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq


@dataclass(frozen=True)
class OrderedInput:
    """The table an operator reads, and how it is in order."""

    view: str  # the table's name in the context
    ordinal: str | None  # stored order: the operator reads it in this ordinal's order itself
    registered: tuple[str, ...]  # what this registered (kept alive with the operator)


def ordered_input(ctx: Any, rel: Rel, base: str, extra: list[str], partition: list[str] | None) -> OrderedInput:
    """The input of an operator over ``base`` (a query on ``rel``) plus the ``extra`` columns
    (SQL ``expr AS name``), in ``rel``'s order, with the runs of equal ``partition`` columns
    contiguous (``None``: the operator needs no contiguous partitions). A table in stored order
    whose partitions lead its declared sort keys is read as it is, else a view is ordered."""
    keys = rel.sort_keys or ()
    contiguous = partition is None or set(partition) == {k for k, _ in keys[: len(partition)]}
    if contiguous and rel.stored_order:
        order, ordinal = None, ORDINAL
    else:
        first = [] if contiguous or partition is None else [f"{quote_ident(p)} ASC NULLS LAST" for p in partition]
        order, ordinal = ", ".join([*first, order_sql(rel.order)]), None
    plain = table_read(base)
    if plain is not None and not extra and order is None:
        return OrderedInput(plain, ordinal, ())
    sql = f"SELECT {', '.join([f'{T}.*', *extra])} FROM ({base}) AS {T}"
    if order is not None and _native.memory_limit(ctx.session_id()) is not None:
        # Under a memory limit ltseq sorts, with a sort that spills within the limit (the
        # host's sort, run across the FFI, would not see the host's limit): the Output
        # operator over the unsorted rows.
        view = register_view(ctx, sql)
        firsts = [] if contiguous or partition is None else [(p, False, False) for p in partition]
        by = [*firsts, *((name, desc, desc) for name, desc in rel.order)]
        table = new_name("output")
        ctx.register_table(table, _native.output_table(view, ctx.table(view).schema(), by, None, 0, None))
        return OrderedInput(table, None, (view, table))
    if order is not None:
        sql += f" ORDER BY {order}"
    view = register_view(ctx, sql)
    return OrderedInput(view, ordinal, (view,))


def register_operator(
    ctx: Any, kind: str, make: Callable[[str, pa.Schema], Any], inp: OrderedInput
) -> tuple[str, Source]:
    """Registers the operator table ``make(input name, input schema)`` over ``inp``; returns
    the query reading it and the source that keeps it (and its input) registered."""
    table = new_name(kind)
    try:
        source = Source(ctx, table, *inp.registered)
        ctx.register_table(table, make(inp.view, ctx.table(inp.view).schema()))
    except Exception as e:
        raise QueryError(message(e)) from e
    return f"SELECT * FROM {quote_ident(table)}", source


def window_operator(
    t: LTSeq, sql: str, windows: list[Window], partition: tuple[str, ...]
) -> tuple[str, dict[int, str], Source]:
    """Evaluates ``windows`` (all partitioned by ``partition``) with ltseq's Window operator
    over ``sql``, a query on ``t``'s relation."""
    extra: list[str] = []
    calls = []
    names: dict[int, str] = {}
    for w in windows:
        args: list[tuple[str, Any]] = []
        for a in w.args:
            if isinstance(a, Literal):
                args.append(("literal", a.value))
            elif isinstance(a, Column):
                args.append(("column", a.name))
            else:  # an expression: computed as a column of the input
                name = new_name("a")
                extra.append(f"{a.to_sql()} AS {quote_ident(name)}")
                args.append(("column", name))
        names[id(w)] = new_name("w")
        calls.append((w.func, args, names[id(w)]))
    inp = ordered_input(t._ctx, t._rel, sql, extra, list(partition))

    def make(view: str, schema: pa.Schema) -> Any:
        return _native.window_table(view, schema, list(partition), calls, inp.ordinal)

    query, source = register_operator(t._ctx, "window", make, inp)
    return query, names, source


def link_operator(
    t: LTSeq, base_sql: str, target: LTSeq, keys: tuple[list[str], list[str]], prefix: str, join: str
) -> tuple[str, Source]:
    """Registers ``base_sql`` and ``target`` (its visible columns) as views and ltseq's Link
    operator over them as a table; returns ``SELECT * FROM`` that table and its source. The
    table's columns: ``base_sql``'s, then each target column as ``prefix + name``."""
    ctx = t._ctx
    cols = ", ".join(f"{T}.{quote_ident(c)}" for c in target.columns)
    view = register_view(ctx, base_sql)
    target_view = register_view(ctx, f"SELECT {cols} FROM ({target._rel.sql}) AS {T}")
    table = new_name("link")
    try:
        source = Source(ctx, table, view, target_view)
        operator = _native.link_table(
            view, ctx.table(view).schema(), target_view, ctx.table(target_view).schema(), *keys, prefix, join
        )
        ctx.register_table(table, operator)
    except Exception as e:
        raise QueryError(message(e)) from e
    return f"SELECT * FROM {quote_ident(table)}", source


def output(
    t: LTSeq, limit: int | None = None, hidden: bool = False, slice_: tuple[int, int | None] | None = None
) -> tuple[str, Source]:
    """The query of ``t``'s visible columns (and with ``hidden`` its hidden ones) in its order
    (at most ``limit`` rows), read by ltseq's Output operator: rows already in order are read
    as they are (a SQL ``ORDER BY`` would make the host sort them again), others are merged or
    sorted; and the source that keeps its tables registered. ``slice_`` (offset, length): only
    those rows of the order, cut by the Output operator itself (a SQL ``LIMIT``/``OFFSET``
    without ``ORDER BY`` lets DataFusion keep any rows, and it does when a later query pushes a
    sort below it)."""
    rel = t._rel
    names = [*rel.schema.names, *rel.hidden] if hidden else rel.schema.names
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    skip, fetch = slice_ if slice_ is not None else (0, None)
    if rel.in_order and slice_ is None:
        # one partition in order already (a slice): the host keeps it through a projection
        picked = ", ".join(quote_ident(c) for c in names)
        return f"SELECT {picked} FROM ({rel.sql}) AS {T}{tail}", Source(t._ctx)
    plain = table_read(rel.sql)
    inp = OrderedInput(plain, None, ()) if plain is not None else _view(t._ctx, rel.sql)
    keys = [(name, desc, desc) for name, desc in rel.order]  # descending: NULLs first
    # Rows in stored order are in order (or merged); others may need a sort, which the host
    # does best (in parallel): the same rows sorted, read only when they are not in order.
    sorted_view = None
    if not rel.stored_order:
        sorted_view = register_view(t._ctx, f"SELECT * FROM {quote_ident(inp.view)} ORDER BY {order_sql(rel.order)}")
        inp = OrderedInput(inp.view, None, (*inp.registered, sorted_view))

    def make(view: str, schema: pa.Schema) -> Any:
        return _native.output_table(view, schema, keys, sorted_view, skip, fetch)

    query, source = register_operator(t._ctx, "output", make, inp)
    return f"SELECT {', '.join(quote_ident(c) for c in names)} FROM ({query}) AS {T}{tail}", source


def _view(ctx: Any, sql: str) -> OrderedInput:
    view = register_view(ctx, sql)
    return OrderedInput(view, None, (view,))


def stage(t: LTSeq, exprs: list[Expr]) -> tuple[str, list[Expr], tuple[Any, ...]]:
    """The base query for ``exprs`` over ``t``: its query, plus a hidden column for each lookup
    and window expression in them (computed first, so they also work inside ``filter``);
    ``exprs`` reading those columns; and the sources the new query reads."""
    base, sources = t._rel.sql, t._rel.sources
    if any(contains_lookup(e) for e in exprs):
        base, exprs, sources = _stage_lookups(t, exprs)
    if not any(contains_window(e) for e in exprs):
        return base, exprs, sources

    def operator(sql: str, windows: list[Window], partition: tuple[str, ...]) -> tuple[str, dict[int, str], Any]:
        return window_operator(t, sql, windows, partition)

    keys = t._rel.sort_keys
    ctx = WindowContext(
        order_sql=order_sql(t._rel.order),
        sort_keys_sql=order_sql(keys) if keys else None,
        column=t._resolve,
    )
    use = operator if _window.use_operator else None
    sql, exprs, keep = stage_windows(exprs, base, ctx, T, lambda: new_name("w"), use)
    return sql, exprs, sources + tuple(keep)


def _stage_lookups(t: LTSeq, exprs: list[Expr]) -> tuple[str, list[Expr], tuple[Any, ...]]:
    """``t``'s query with each lookup in ``exprs`` evaluated by a link (a hidden column per
    lookup), and ``exprs`` reading those columns."""
    found: list[Any] = []
    for e in exprs:
        find_lookups(e, found)
    base, sources = t._rel.sql, t._rel.sources
    done: dict[int, Column] = {}
    for lk in found:
        if lk.target._ctx is not t._ctx:
            raise ValueError("lookup(): the target must live on the same SessionContext as the table")
        key = replace_lookups(lk.key, done)
        if isinstance(key, Column):
            key_name = key.name
        else:  # a computed key: a hidden column of the input first
            key_name = new_name("k")
            base = f"SELECT {T}.*, {key.to_sql()} AS {quote_ident(key_name)} FROM ({base}) AS {T}"
        target = lk.target.select(*dict.fromkeys([lk.on, lk.column]))
        prefix = new_name("lk") + "_"
        base, source = link_operator(t, base, target, ([key_name], [lk.on]), prefix, "left")
        sources = sources + (source,) + target._rel.sources
        done[id(lk)] = Column(prefix + lk.column, lk.dtype)
    return base, [replace_lookups(e, done) for e in exprs], sources
