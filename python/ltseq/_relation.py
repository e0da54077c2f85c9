"""Relation plumbing: what an ``LTSeq`` is made of (a SQL relation, its schema, hidden columns
and order) and how it lives in a ``SessionContext`` (the tables it registers and reads, named
uniquely and removed when no table uses them)."""

from __future__ import annotations

import itertools
import uuid
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ._sql import quote_ident
from .exceptions import QueryError, SortRequiredError

HIDDEN_PREFIX = "__ltseq_"
ORDINAL = "__ltseq_rn"
T = '"__ltseq_t"'  # the alias of a relation inside the query built on it
_counter = itertools.count(1)


class TableBase:
    """The base class of ``LTSeq``: lets modules below the table layer recognise a table
    without importing it."""

    __slots__ = ()

    if TYPE_CHECKING:  # pragma: no cover - LTSeq defines them

        @property
        def columns(self) -> list[str]: ...

        @property
        def schema(self) -> dict[str, str]: ...


class Source:
    """Tables registered in a context for as long as any ``LTSeq`` reads them."""

    def __init__(self, ctx: Any, *names: str) -> None:
        self.names = names
        weakref.finalize(self, _deregister, ctx, names)


def _deregister(ctx: Any, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            ctx.deregister_table(name)
        except Exception:  # noqa: BLE001 - the context may already be gone at exit
            pass


def direction_flags(keys: tuple[Any, ...], desc: Any, descending: Any, who: str) -> list[bool]:
    """One direction per key from ``desc`` (or its Polars spelling ``descending``, which wins):
    a bool for every key, or a list of one bool per key."""
    if descending is not None:
        desc = descending
    if not keys:
        raise ValueError(f"{who} needs at least one key")
    if isinstance(desc, bool):
        return [desc] * len(keys)
    if isinstance(desc, Iterable) and not isinstance(desc, (str, bytes)):
        flags = list(desc)
        if len(flags) == len(keys) and all(isinstance(f, bool) for f in flags):
            return flags
        raise ValueError(f"{who}: desc must be a bool or a list of {len(keys)} bools")
    raise TypeError(f"{who}: desc must be a bool or a list of bools, not {type(desc).__name__}")


def new_name(kind: str) -> str:
    """A unique name for a table or hidden column ltseq creates."""
    return f"{HIDDEN_PREFIX}{kind}_{next(_counter)}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Rel:
    sql: str  # a query whose output is the visible columns, then the hidden ones
    schema: pa.Schema  # visible columns only
    hidden: tuple[str, ...]
    order: tuple[tuple[str, bool], ...]  # (hidden column, descending): the row order
    sort_keys: tuple[tuple[str, bool], ...] | None  # the declared order, by visible names
    sources: tuple[Any, ...]
    # The query when it is known to give its rows in ``order`` as one partition (a LIMIT over
    # the Output operator); a different ``sql`` (any later transform) does not inherit it.
    ordered_sql: str | None = None

    @property
    def in_order(self) -> bool:
        """Whether ``sql`` itself gives the rows in order (reading it needs no Output operator)."""
        return self.ordered_sql is not None and self.ordered_sql == self.sql

    @property
    def stored_order(self) -> bool:
        """Whether the rows are in the order they were read (no sort since)."""
        return self.order == ((ORDINAL, False),)


def order_sql(order: Iterable[tuple[str, bool]], reverse: bool = False) -> str:
    """An ``ORDER BY`` list: ascending NULLs last, descending NULLs first."""
    parts = []
    for name, desc in order:
        d = desc != reverse
        parts.append(f"{quote_ident(name)} {'DESC NULLS FIRST' if d else 'ASC NULLS LAST'}")
    return ", ".join(parts)


def check_user_name(name: Any, what: str) -> str:
    """``name`` as a column name a user may give (a non-empty string, not ltseq's own)."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, not {type(name).__name__}")
    if not name:
        raise ValueError(f"{what} cannot be empty")
    if name.startswith(HIDDEN_PREFIX):
        raise ValueError(f"{what} {name!r}: names starting with {HIDDEN_PREFIX!r} are reserved by ltseq")
    quote_ident(name)  # rejects text that is not valid Unicode
    return name


def message(e: BaseException) -> str:
    """A DataFusion error's text without its prefixes."""
    text = str(e).strip()
    prefixes = ("DataFusion error: ", "FFI error: ", "Error during planning: ", "Execution error: ")
    while text.startswith(prefixes):
        text = text[len(next(p for p in prefixes if text.startswith(p))) :]
    return text


def query_error(e: BaseException, sql: str) -> QueryError:
    """DataFusion's error ``e`` from ``sql`` as ltseq's, with the SQL."""
    return QueryError(f"{message(e)}\n  in SQL: {sql}")


def plan_schema(ctx: Any, sql: str) -> pa.Schema:
    """Plans ``sql`` (without running it) and returns its output schema."""
    try:
        return ctx.sql(sql).schema()
    except Exception as e:
        raise query_error(e, sql) from e


def register_view(ctx: Any, sql: str) -> str:
    """Registers ``sql`` as a new view; returns its name."""
    view = new_name("view")
    try:
        ctx.register_view(view, ctx.sql(sql))
    except Exception as e:
        raise query_error(e, sql) from e
    return view


# The most subqueries a table's query nests before it is read from a view instead: DataFusion's
# SQL parser stops at 50 levels of recursion, and each transform adds one or two levels.
MAX_NESTING = 8


def bounded(ctx: Any, rel: Rel) -> Rel:
    """``rel``, read from a view of its query when that nests more than ``MAX_NESTING``
    subqueries, so that a pipeline of any length stays within the SQL parser's limits (the view
    is a plan: the engine sees the same query)."""
    if rel.sql.count("(SELECT ") <= MAX_NESTING:
        return rel
    view = register_view(ctx, rel.sql)
    sql = f"SELECT * FROM {quote_ident(view)}"
    return replace(
        rel,
        sql=sql,
        sources=(*rel.sources, Source(ctx, view)),
        ordered_sql=sql if rel.in_order else None,
    )


def table_read(sql: str) -> str | None:
    """The table ``sql`` reads as it is, when it is ``SELECT * FROM "<table>"``."""
    prefix = "SELECT * FROM "
    quoted = sql[len(prefix) :] if sql.startswith(prefix) else ""
    if len(quoted) > 1 and quoted[0] == quoted[-1] == '"' and '"' not in quoted[1:-1].replace('""', ""):
        return quoted[1:-1].replace('""', '"')
    return None


def surviving_keys(keys: tuple[tuple[str, bool], ...] | None, kept: set[str]) -> tuple[tuple[str, bool], ...] | None:
    """The declared sort keys that survive when only the columns ``kept`` stay: the longest
    prefix of them that is kept."""
    if not keys:
        return None
    out = []
    for k, d in keys:
        if k not in kept:
            break
        out.append((k, d))
    return tuple(out) or None


def require_order(rel: Rel, what: str) -> None:
    """Raises unless ``rel`` has a declared order (what ordered operations need)."""
    if not rel.sort_keys:
        raise SortRequiredError(
            f"{what} needs an order, and this table has none declared: call .sort(...) first "
            "(or .assume_sorted(...) for data already in order)"
        )
