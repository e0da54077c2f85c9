"""Keyed aggregation: ``t.group_by(key).agg(name=lambda g: g.col.sum(), ...)`` and
``t.agg(by=..., **aggs)``. Compiles to one SQL ``GROUP BY``; ``first``/``last`` follow the
table's order (``first_value(x ORDER BY <order>)``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ._expr import Column, Expr, _wrap
from ._operators import stage
from ._proxy import RowProxy
from ._relation import HIDDEN_PREFIX, Rel, T, check_user_name, order_sql, plan_schema
from ._sql import quote_ident, sql_literal
from ._values import Aggregate, GroupValues, GroupVocabulary, Make
from .exceptions import ColumnNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq


class AggCall(Aggregate):
    """``func([DISTINCT] arg [ORDER BY order])``: one aggregate over a group's rows."""

    __slots__ = ("func", "arg", "_dtype", "distinct", "order_sql", "param")

    def __init__(
        self,
        func: str,
        arg: Expr | None,
        dtype: str,
        *,
        distinct: bool = False,
        order_sql: str | None = None,
        param: float | None = None,
    ) -> None:
        self.func, self.arg, self._dtype, self.distinct, self.order_sql = func, arg, dtype, distinct, order_sql
        self.param = param

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        inner = "*" if self.arg is None else self.arg.to_sql()
        if self.distinct:
            inner = f"DISTINCT {inner}"
        if self.param is not None:
            inner = f"{inner}, {sql_literal(float(self.param))}"
        if self.order_sql:
            inner = f"{inner} ORDER BY {self.order_sql}"
        return f"{self.func}({inner})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "aggregate", "function": self.func, "arg": None if self.arg is None else self.arg.to_dict()}

    def _children(self) -> list[Expr]:
        return [] if self.arg is None else [self.arg]

    def _with_children(self, children: list[Expr]) -> Expr:
        return AggCall(
            self.func,
            children[0] if children else None,
            self._dtype,
            distinct=self.distinct,
            order_sql=self.order_sql,
            param=self.param,
        )

    def _default_name(self) -> str:
        return f"{self.func}"

    def __repr__(self) -> str:
        return f"{self.func}({'*' if self.arg is None else repr(self.arg)})"


_SQL_FUNCTION = {"mean": "avg", "std": "stddev_samp", "var": "var_samp", "first": "first_value", "last": "last_value"}
_SQL_FUNCTION["cov"] = "covar_samp"


def _make(order_sql: str) -> Make:
    """How an aggregate of ``g`` is built in a keyed aggregation: one SQL aggregate call."""

    def make(func: str, arg: Expr | None, dtype: str, param: float | None) -> Expr:
        if func == "n_unique":
            return AggCall("count", arg, dtype, distinct=True)
        if func == "percentile":
            # the two-argument form, as the groups of consecutive rows write it
            return AggCall("percentile_cont", arg, dtype, param=param)
        if func in ("all", "any", "none") and arg is not None:
            held = arg.fill_null(False)  # a NULL condition counts as not satisfied
            if func == "all":
                return AggCall("bool_and", held, "bool")
            call = AggCall("bool_or", held, "bool")
            return call if func == "any" else ~call
        ordered = order_sql if func in ("first", "last", "string_agg") else None
        return AggCall(_SQL_FUNCTION.get(func, func), arg, dtype, order_sql=ordered)

    return make


class AggProxy(GroupVocabulary):
    """``g`` inside ``agg``: the group vocabulary (``GroupVocabulary``) over a keyed group."""

    __slots__ = ("_ltseq_rows", "_ltseq_make")

    def __init__(self, rows: RowProxy, order_sql: str) -> None:
        object.__setattr__(self, "_ltseq_rows", rows)
        object.__setattr__(self, "_ltseq_make", _make(order_sql))

    def _rows(self) -> RowProxy:
        return object.__getattribute__(self, "_ltseq_rows")  # type: ignore[no-any-return]

    def _maker(self) -> Make:
        return object.__getattribute__(self, "_ltseq_make")  # type: ignore[no-any-return]


def check_aggregated(name: str, e: Expr) -> None:
    """Every column an aggregate expression reads must be inside an aggregate."""
    if isinstance(e, AggCall):
        return
    if isinstance(e, Column):
        raise ValueError(
            f"agg(): {name!r} reads the column {e.name!r} outside an aggregate; "
            f"use g.{e.name}.first(), g.{e.name}.sum(), ... (or group by it)"
        )
    for c in e._children():
        check_aggregated(name, c)


def capture_aggs(
    table: LTSeq, fn: Callable[[Any], Any] | None, named: Mapping[str, Callable[[Any], Any]], order_sql: str
) -> dict[str, Expr]:
    """``{name: aggregate expression}`` from ``agg(lambda g: {...})`` or ``agg(name=lambda g: ...)``."""
    g = AggProxy(table._proxy(), order_sql)
    items: list[tuple[str, Any]] = []
    if fn is not None:
        if not callable(fn):
            raise TypeError("agg() takes name=lambda g: ... arguments (or one lambda returning a dict)")
        result = fn(g)
        if not isinstance(result, Mapping):
            raise TypeError(f"agg() lambda must return a dict of {{name: aggregate}}, got {type(result).__name__}")
        items = list(result.items())
    for name, f in named.items():
        if not callable(f):
            raise TypeError(f"agg({name}=...) takes a lambda of the group, e.g. lambda g: g.price.sum()")
        items.append((name, f(g)))
    if not items:
        raise ValueError("agg() needs at least one aggregate, e.g. n=lambda g: g.count()")
    out: dict[str, Expr] = {}
    for name, value in items:
        check_user_name(name, "agg() column name")
        if name in out:
            raise ValueError(f"agg(): {name!r} is given twice")
        if isinstance(value, GroupValues):
            raise TypeError(f"agg({name}=...): g.col is a group of values; aggregate it, e.g. g.col.sum()")
        e = _wrap(value)
        check_aggregated(name, e)
        out[name] = e
    return out


def key_exprs(table: LTSeq, key: Any) -> dict[str, Expr]:
    """``{output name: expression}`` of a grouping key: a name, a list of names, or a row lambda
    returning an expression, a list of them, or a dict of named ones."""
    if isinstance(key, str):
        key = [key]
    if isinstance(key, (list, tuple)):
        if not key:
            raise ValueError("group_by() needs at least one key")
        out: dict[str, Expr] = {}
        for k in key:
            if not isinstance(k, str):
                raise TypeError(f"group_by() keys are column names or one lambda, not {type(k).__name__}")
            if k not in table.columns:
                raise ColumnNotFoundError(k, table.columns)
            out[k] = Column(k, table._types()[k])
        return out
    if callable(key):
        result = key(table._proxy())
        if isinstance(result, Mapping):
            return {str(n): _wrap(v) for n, v in result.items()}
        values = result if isinstance(result, (list, tuple)) else [result]
        out = {}
        for v in values:
            e = _wrap(v)
            out[e._default_name()] = e
        return out
    raise TypeError(f"group_by() takes column names or a row lambda, not {type(key).__name__}")


def aggregate(
    t: LTSeq, keys: dict[str, Expr], fn: Callable[[Any], Any] | None, named: Mapping[str, Callable[[Any], Any]]
) -> LTSeq:
    """One row per distinct key of ``t`` (sorted by the keys, NULL last), or one row without
    keys, with the aggregates ``fn`` / ``named`` return."""
    aggs = capture_aggs(t, fn, named, order_sql(t._rel.order))
    names = [*keys, *aggs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"agg(): the output columns {dupes} are given twice")
    for n in keys:
        check_user_name(n, "group key name")
    base, staged, sources = stage(t, [*keys.values(), *aggs.values()])
    select = [f"{e.to_sql()} AS {quote_ident(n)}" for n, e in zip(names, staged)]
    key_sql = [e.to_sql() for e in staged[: len(keys)]]
    hidden: tuple[str, ...] = ()
    if keys:
        order = tuple((n, False) for n in keys)
    else:
        one = f"{HIDDEN_PREFIX}g"
        select.append(f"0 AS {quote_ident(one)}")
        hidden, order = (one,), ((one, False),)
    sql = f"SELECT {', '.join(select)} FROM ({base}) AS {T}"
    if keys:
        sql += f" GROUP BY {', '.join(key_sql)}"
    schema = plan_schema(t._ctx, sql)
    visible = pa.schema([schema.field(i) for i in range(len(names))])
    sort_keys = tuple((n, False) for n in keys) or None
    return t._with(Rel(sql, visible, hidden, order, sort_keys, sources))
