"""Ordered search on ltseq's Pattern operator: ``t.search_first(...)``, ``t.search_pattern(...)``
and ``t.search_pattern_count(...)``. Each step is a condition; a match starts at row ``i`` when
step 1 holds at row ``i``, step 2 at row ``i + 1``, ... (within one ``partition_by`` partition).
The steps are computed as BOOLEAN columns of the operator's input; the matching is the
operator's (``planner-ext/src/pattern``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _native
from ._expr import Expr, _wrap
from ._operators import ordered_input, register_operator, stage
from ._relation import T, new_name, require_order
from ._sql import quote_ident

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq


def _partition_names(t: LTSeq, what: str, partition_by: Any) -> list[str]:
    if partition_by is None:
        return []
    if isinstance(partition_by, str):
        parts = [partition_by]
    elif isinstance(partition_by, (list, tuple)):
        parts = list(partition_by)
    else:
        raise TypeError(f"{what}: partition_by takes a column name or a list of them")
    for p in parts:
        t._column(p, f"{what} partition_by")
    return parts


def _operator(
    t: LTSeq, what: str, steps: list[Callable[[Any], Any]], partition_by: Any, fetch: int | None, count: bool
) -> tuple[str, Any]:
    """The query of the Pattern operator over ``t``, and what keeps it registered."""
    if not steps:
        raise ValueError(f"{what} needs at least one step, e.g. lambda r: r.url == '/home'")
    require_order(t._rel, what)
    exprs: list[Expr] = []
    for i, step in enumerate(steps):
        e = _wrap(t._capture(step, what))
        if e.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"{what}: step {i + 1} must be a condition, but {e!r} is {e.dtype}")
        exprs.append(e)
    parts = _partition_names(t, what, partition_by)
    base, staged, sources = stage(t, exprs)
    step_names = [new_name("s") for _ in staged]
    extra = [f"({e.to_sql()}) AS {quote_ident(n)}" for e, n in zip(staged, step_names)]
    inp = ordered_input(t._ctx, t._rel, base, extra, None)

    def make(view: str, schema: pa.Schema) -> Any:
        return _native.pattern_table(view, schema, step_names, parts, inp.ordinal, count, fetch)

    query, source = register_operator(t._ctx, "pattern", make, inp)
    return query, (source, *sources)


def search_rows(
    t: LTSeq, what: str, steps: list[Callable[[Any], Any]], partition_by: Any, fetch: int | None = None
) -> LTSeq:
    """The rows of ``t`` where the steps match (at most ``fetch``), in order."""
    query, sources = _operator(t, what, steps, partition_by, fetch, count=False)
    cols = ", ".join(quote_ident(c) for c in [*t.columns, *t._rel.hidden])
    sql = f"SELECT {cols} FROM ({query}) AS {T}"
    if fetch is not None:
        sql = f"SELECT * FROM ({sql} LIMIT {int(fetch)}) AS {T}"
    return t._with(replace(t._rel, sql=sql, sources=sources))


def search_count(t: LTSeq, steps: list[Callable[[Any], Any]], partition_by: Any) -> int:
    """The number of matches of the steps in ``t``, counted without materializing rows."""
    query, sources = _operator(t, "search_pattern_count()", steps, partition_by, None, count=True)
    # one count per partition of the operator (partitions are matched in parallel)
    sql = f"SELECT CAST(coalesce(sum({quote_ident('count')}), 0) AS BIGINT) FROM ({query}) AS {T}"
    table = t._execute(t._run(sql))
    del sources  # the registered operator and view go when the query is done
    return int(table.column(0)[0].as_py())
