"""``LTSeq``: an immutable, lazy, ordered table running on a DataFusion ``SessionContext``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from . import _display, _sources
from ._context import default_context, ensure_registered, pin
from ._expr import Column, Expr, _wrap
from ._operators import link_operator, output, stage
from ._proxy import RowProxy
from ._relation import (
    HIDDEN_PREFIX,
    Rel,
    Source,
    T,
    TableBase,
    bounded,
    check_user_name,
    direction_flags,
    message,
    order_sql,
    plan_schema,
    query_error,
    require_order,
    surviving_keys,
)
from ._sql import quote_ident
from ._types import dtype_name
from .aggregate import aggregate, key_exprs
from .exceptions import ColumnNotFoundError, LTSeqError, QueryError
from .group import NestedTable, group_ordered
from .join import Combining
from .link import JOIN_TYPES, key_pairs
from .output import Outputs
from .search import search_count, search_rows


class LTSeq(TableBase, Combining, Outputs):
    """An ordered table. Every method returns a new ``LTSeq``; nothing runs until output is asked
    for (``show``, ``to_arrow``, ``to_pandas``, ``to_dicts``, ``count``, iteration, ...).

    The row order is part of the data: a table read from a file or built from a dict keeps its
    row order, a sorted table keeps its sort, through every transform and into the output.
    """

    __slots__ = ("_ctx", "_rel", "__weakref__")
    _ctx: Any
    _rel: Rel

    def __init__(self, *_: Any, **__: Any) -> None:
        raise TypeError(
            "create an LTSeq with LTSeq.read_csv, read_parquet, from_dict, from_pandas, from_arrow or from_datafusion"
        )

    @classmethod
    def _make(cls, ctx: Any, rel: Rel) -> LTSeq:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_ctx", ctx)
        object.__setattr__(obj, "_rel", bounded(ctx, rel))
        return obj

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("LTSeq is immutable: every method returns a new table")

    # =========================================================================================
    # Construction
    # =========================================================================================
    @classmethod
    def _stored(cls, ctx: Any, name: str) -> LTSeq:
        return cls._make(ctx, _sources.stored(ctx, name))

    @classmethod
    def read_csv(cls, path: Any, has_header: bool = True, *, ctx: Any = None, **options: Any) -> LTSeq:
        """Reads CSV files in their row order (paths as ``read_parquet``); types inferred or
        ``schema=``; options in docs/dsl.md (``delimiter``, ``compression``, ...)."""
        ctx = ensure_registered(ctx or default_context())
        return cls._stored(ctx, _sources.files(ctx, path, "csv", _sources.csv_options(has_header, **options)))

    @classmethod
    def read_parquet(cls, path: Any, *, ctx: Any = None) -> LTSeq:
        """Reads Parquet files (a file, a directory, a glob, an object-store URL or a list of
        them), keeping their row order."""
        ctx = ensure_registered(ctx or default_context())
        return cls._stored(ctx, _sources.files(ctx, path, "parquet", _sources.parquet_options))

    @classmethod
    def read_json(cls, path: Any, *, ctx: Any = None, **options: Any) -> LTSeq:
        """Reads newline-delimited JSON files in their row order (paths as ``read_parquet``);
        options ``schema``, ``file_extension``, ``compression``, ``schema_infer_max_records``."""
        ctx = ensure_registered(ctx or default_context())
        return cls._stored(ctx, _sources.files(ctx, path, "json", _sources.json_options(**options)))

    @classmethod
    def from_arrow(cls, data: Any, *, ctx: Any = None) -> LTSeq:
        """A table of Arrow data in its row order: a pyarrow Table, batch or reader, or any
        object with ``__arrow_c_stream__`` (Polars, DuckDB, ...) or ``__arrow_c_array__``."""
        ctx = ensure_registered(ctx or default_context())
        return cls._stored(ctx, _sources.arrow(ctx, data))

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]], *, ctx: Any = None) -> LTSeq:
        """A table from ``{column: values}``; all columns must have the same length."""
        return cls.from_arrow(_sources.dict_table(data), ctx=ctx)

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], schema: pa.Schema | None = None, *, ctx: Any = None) -> LTSeq:
        """A table from a list of row dicts (types inferred unless ``schema`` is given)."""
        return cls.from_arrow(_sources.rows_table(rows, schema), ctx=ctx)

    @classmethod
    def from_polars(cls, df: Any, *, ctx: Any = None) -> LTSeq:
        """A table of a Polars ``DataFrame`` (through the Arrow stream), in its row order."""
        return cls.from_arrow(df, ctx=ctx)

    @classmethod
    def from_pandas(cls, df: Any, *, ctx: Any = None) -> LTSeq:
        """A table from a pandas DataFrame, in its row order (the index is not kept)."""
        return cls.from_arrow(_sources.pandas_table(df), ctx=ctx)

    @classmethod
    def from_datafusion(cls, df: Any, *, ctx: Any = None) -> LTSeq:
        """A table from a datafusion ``DataFrame``; its row order is the order the DataFrame
        produces (so a DataFrame ending in a sort keeps that sort)."""
        ctx = ensure_registered(ctx or default_context())
        return cls._stored(ctx, _sources.dataframe(ctx, df))

    # =========================================================================================
    # Properties
    # =========================================================================================
    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._rel.schema.names)

    @property
    def schema(self) -> dict[str, str]:
        """``{column: type}`` with ltseq's short type names (``int64``, ``float64``,
        ``string``, ``bool``, ``date32``, ``timestamp``, ``decimal``, ...)."""
        return {f.name: dtype_name(f.type) for f in self._rel.schema}

    @property
    def arrow_schema(self) -> pa.Schema:
        """The exact Arrow schema of the output."""
        return self._rel.schema

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """``[(column, type), ...]``."""
        return list(self.schema.items())

    @property
    def sort_keys(self) -> list[tuple[str, bool]] | None:
        """The declared order as ``[(column, descending), ...]``, or ``None`` if none is declared."""
        keys = self._rel.sort_keys
        return list(keys) if keys else None

    @property
    def ctx(self) -> Any:
        """The DataFusion ``SessionContext`` this table runs on."""
        return self._ctx

    @property
    def sql(self) -> str:
        """The SQL this table runs (in order, without ltseq's internal columns)."""
        return self._final_sql()

    def to_sql(self) -> str:
        """Same as :attr:`sql`."""
        return self._final_sql()

    # =========================================================================================
    # Helpers
    # =========================================================================================
    def _types(self) -> dict[str, str]:
        return {f.name: dtype_name(f.type) for f in self._rel.schema}

    def _proxy(self) -> RowProxy:
        zones = {f.name: f.type.tz for f in self._rel.schema if pa.types.is_timestamp(f.type) and f.type.tz}
        return RowProxy(self._types(), zones)

    def _capture(self, fn: Any, what: str) -> Any:
        if isinstance(fn, Expr):  # an expression built without a lambda (lit(True)), as derive takes
            return fn
        if not callable(fn):
            raise TypeError(f"{what} takes a function of the row, e.g. lambda r: r.x > 0; got {type(fn).__name__}")
        return fn(self._proxy())

    def _column(self, name: Any, where: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"{where}: column names are strings, not {type(name).__name__}")
        if name not in self._rel.schema.names:
            raise ColumnNotFoundError(name, self.columns)
        return name

    def _resolve(self, name: str) -> Column:
        self._column(name, "partition_by/order_by")
        return Column(name, self._types()[name])

    def _hidden_sql(self) -> list[str]:
        return [f"{T}.{quote_ident(h)}" for h in self._rel.hidden]

    def _derive_rel(
        self,
        items: list[tuple[str, str]],
        *,
        hidden_extra: list[tuple[str, str]] | None = None,
        where: str | None = None,
        sort_keys: Any = "keep",
        order: Any = None,
        base_sql: str | None = None,
        sources: tuple[Any, ...] | None = None,
    ) -> Rel:
        """A new relation ``SELECT items..., hidden..., extra... FROM (base) [WHERE where]``,
        where the base is this table's query (or ``base_sql``: it with window columns added)."""
        select = [f"{expr} AS {quote_ident(name)}" for expr, name in items]
        select += self._hidden_sql()
        extra = hidden_extra or []
        select += [f"{expr} AS {quote_ident(name)}" for expr, name in extra]
        sql = f"SELECT {', '.join(select)} FROM ({base_sql or self._rel.sql}) AS {T}"
        if where is not None:
            sql += f" WHERE {where}"
        schema = plan_schema(self._ctx, sql)
        hidden = self._rel.hidden + tuple(name for _, name in extra)
        visible = pa.schema([schema.field(i) for i in range(len(items))])
        return Rel(
            sql,
            visible,
            hidden,
            self._rel.order if order is None else order,
            self._rel.sort_keys if sort_keys == "keep" else sort_keys,
            self._rel.sources if sources is None else sources,
        )

    def _with(self, rel: Rel) -> LTSeq:
        return LTSeq._make(self._ctx, rel)

    def _final_sql(self, limit: int | None = None) -> str:
        cols = ", ".join(quote_ident(c) for c in self._rel.schema.names)
        sql = f"SELECT {cols} FROM ({self._rel.sql}) AS {T} ORDER BY {order_sql(self._rel.order)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return sql

    def _run(self, sql: str) -> Any:
        try:
            return self._ctx.sql(sql)
        except Exception as e:
            raise query_error(e, sql) from e

    def _output(self, limit: int | None = None) -> tuple[Any, Source]:
        """A DataFrame of the visible columns in the table's order (read by ltseq's Output
        operator, which sorts only rows not in order already), and what keeps it valid."""
        sql, source = output(self, limit)
        return self._run(sql), source

    # =========================================================================================
    # Transforms
    # =========================================================================================
    def filter(self, predicate: Callable[[Any], Any]) -> LTSeq:
        """Keeps the rows where ``predicate`` is true (false and NULL are dropped)."""
        pred = self._capture(predicate, "filter()")
        if not isinstance(pred, Expr):
            raise TypeError(
                f"filter() lambda must return a condition such as r.x > 0, got {pred!r}"
                + (" (for NULL tests use r.x.is_null(), not 'is None')" if isinstance(pred, bool) else "")
            )
        if pred.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"filter() needs a condition, but {pred!r} is {pred.dtype}")
        base, (pred,), sources = stage(self, [pred])
        if base is self._rel.sql:
            sql = f"SELECT * FROM ({base}) AS {T} WHERE {pred.to_sql()}"
        else:  # windows were computed first: keep only this table's columns
            keep = ", ".join(f"{T}.{quote_ident(c)}" for c in [*self.columns, *self._rel.hidden])
            sql = f"SELECT {keep} FROM ({base}) AS {T} WHERE {pred.to_sql()}"
        plan_schema(self._ctx, sql)
        return self._with(replace(self._rel, sql=sql, sources=sources))

    def derive(self, *args: Callable[[Any], Any], **named: Callable[[Any], Any]) -> LTSeq:
        """Adds or replaces columns: ``derive(lambda r: {"name": expr, ...})`` or
        ``derive(name=lambda r: expr, ...)``. Every expression reads the input table; an
        existing name is replaced in place, new names are appended in the given order."""
        if args and named:
            raise TypeError(
                "derive() takes either one lambda returning a dict, or name=lambda keyword arguments, not both"
            )
        if len(args) > 1:
            raise TypeError("derive() takes one lambda returning a dict of new columns")
        new: dict[str, Expr] = {}
        if args:
            result = self._capture(args[0], "derive()")
            if not isinstance(result, Mapping):
                raise TypeError(
                    f"derive() lambda must return a dict of {{name: expression}}, got {type(result).__name__}"
                )
            items = list(result.items())
        else:
            if not named:
                raise TypeError("derive() needs at least one new column")
            items = []
            for name, fn in named.items():
                items.append((name, self._capture(fn, f"derive({name}=...)") if callable(fn) else fn))
        for name, value in items:
            check_user_name(name, "derive() column name")
            new[name] = _wrap(value)
        base, staged, sources = stage(self, list(new.values()))
        new = dict(zip(new.keys(), staged))
        out: list[tuple[str, str]] = []
        for c in self.columns:
            out.append((new[c].to_sql() if c in new else f"{T}.{quote_ident(c)}", c))
        for name, e in new.items():
            if name not in self._rel.schema.names:
                out.append((e.to_sql(), name))
        keys = self._rel.sort_keys
        if keys:
            cut = next((i for i, (k, _) in enumerate(keys) if k in new), len(keys))
            keys = keys[:cut] or None
        return self._with(self._derive_rel(out, sort_keys=keys, base_sql=base, sources=sources))

    with_columns = derive

    def select(self, *items: str | Callable[[Any], Any]) -> LTSeq:
        """Keeps the given columns, in the given order: names, or lambdas returning an
        expression or a list of expressions (name computed ones with ``.alias("name")``)."""
        if not items:
            raise ValueError("select() needs at least one column")
        exprs: list[Expr] = []
        for item in items:
            if isinstance(item, str):
                self._column(item, "select()")
                exprs.append(Column(item))
            elif callable(item):
                result = self._capture(item, "select()")
                result = list(result) if isinstance(result, (list, tuple)) else [result]
                for e in result:
                    if isinstance(e, str):
                        self._column(e, "select()")
                        e = Column(e)
                    exprs.append(_wrap(e))
            else:
                raise TypeError(f"select() takes column names or lambdas, not {type(item).__name__}")
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        names = []
        for e in exprs:
            name = e._default_name()
            check_user_name(name, "select() output column")
            if name in seen:
                raise ValueError(f"select(): column {name!r} appears twice; name one of them with .alias(...)")
            seen.add(name)
            names.append(name)
        plain = {e.name for e in exprs if isinstance(e, Column)}
        base, staged, sources = stage(self, exprs)
        for e, name in zip(staged, names):
            out.append((f"{T}.{quote_ident(e.name)}" if isinstance(e, Column) else e.to_sql(), name))
        keys = surviving_keys(self._rel.sort_keys, plain)
        return self._with(self._derive_rel(out, sort_keys=keys, base_sql=base, sources=sources))

    def drop(self, *cols: str) -> LTSeq:
        """The table without the given columns."""
        if not cols:
            raise ValueError("drop() needs at least one column name")
        for c in cols:
            self._column(c, "drop()")
        keep = [c for c in self.columns if c not in set(cols)]
        if not keep:
            raise ValueError("drop() cannot remove every column")
        out = [(f"{T}.{quote_ident(c)}", c) for c in keep]
        return self._with(self._derive_rel(out, sort_keys=surviving_keys(self._rel.sort_keys, set(keep))))

    def rename(self, mapping: Mapping[str, str] | None = None, **kwargs: str) -> LTSeq:
        """Renames columns: ``rename({"old": "new"})`` or ``rename(old="new")``."""
        changes = dict(mapping or {})
        changes.update(kwargs)
        if not changes:
            raise ValueError("rename() needs at least one old=new pair")
        for old, new in changes.items():
            self._column(old, "rename()")
            check_user_name(new, "rename() new name")
        names = [changes.get(c, c) for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rename() would create duplicate columns: {dupes}")
        out = [(f"{T}.{quote_ident(c)}", changes.get(c, c)) for c in self.columns]
        keys = self._rel.sort_keys
        if keys:
            keys = tuple((changes.get(k, k), d) for k, d in keys)
        return self._with(self._derive_rel(out, sort_keys=keys))

    def sort(
        self,
        *keys: str | Callable[[Any], Any],
        desc: bool | Sequence[bool] = False,
        descending: bool | Sequence[bool] | None = None,
    ) -> LTSeq:
        """Sorts by the keys (names or lambdas). ``desc`` (or ``descending``, as in Polars) is
        one bool or one per key. NULLs go last in ascending order and first in descending
        order. The sort is stable: rows with equal keys keep their previous order."""
        flags = direction_flags(keys, desc, descending, "sort()")
        exprs: list[Expr] = []
        for k in keys:
            if isinstance(k, str):
                self._column(k, "sort()")
                exprs.append(Column(k))
            elif callable(k):
                e = self._capture(k, "sort()")
                if isinstance(e, str):
                    self._column(e, "sort()")
                    e = Column(e)
                exprs.append(_wrap(e))
            else:
                raise TypeError(f"sort() keys are column names or lambdas, not {type(k).__name__}")
        start = 1 + len([h for h in self._rel.hidden if h.startswith(HIDDEN_PREFIX + "o")])
        base, staged, sources = stage(self, exprs)
        extra = [(e.to_sql(), f"{HIDDEN_PREFIX}o{start + i}") for i, e in enumerate(staged)]
        new_order = tuple((name, d) for (_, name), d in zip(extra, flags))
        order = new_order + tuple(o for o in self._rel.order if o not in new_order)
        declared: list[tuple[str, bool]] = []
        for e, d in zip(exprs, flags):
            if not isinstance(e, Column):
                break  # a computed key declares no order from here on
            declared.append((e.name, d))
        out = [(f"{T}.{quote_ident(c)}", c) for c in self.columns]
        return self._with(
            self._derive_rel(
                out,
                hidden_extra=extra,
                sort_keys=tuple(declared) or None,
                order=order,
                base_sql=base,
                sources=sources,
            )
        )

    def assume_sorted(
        self,
        *keys: str | Callable[[Any], Any],
        desc: bool | Sequence[bool] = False,
        descending: bool | Sequence[bool] | None = None,
    ) -> LTSeq:
        """Declares that the rows, in their current order, are already sorted by the keys
        (``desc``/``descending`` as in ``sort``). Nothing is sorted or checked."""
        flags = direction_flags(keys, desc, descending, "assume_sorted()")
        declared: list[tuple[str, bool]] = []
        for k, d in zip(keys, flags):
            if callable(k) and not isinstance(k, str):
                k = self._capture(k, "assume_sorted()")
            if isinstance(k, Column):
                k = k.name
            if not isinstance(k, str):
                break
            self._column(k, "assume_sorted()")
            declared.append((k, bool(d)))
        return self._with(replace(self._rel, sort_keys=tuple(declared) or None))

    def is_sorted_by(
        self, *keys: str, desc: bool | Sequence[bool] = False, descending: bool | Sequence[bool] | None = None
    ) -> bool:
        """Whether the declared order starts with these keys (and directions)."""
        if not keys or not self._rel.sort_keys:
            return False
        want = list(zip(keys, direction_flags(keys, desc, descending, "is_sorted_by()")))
        return list(self._rel.sort_keys[: len(want)]) == want

    def cum_sum(self, *cols: str | Callable[[Any], Any], partition_by: Any = None) -> LTSeq:
        """Adds a running sum (in the table's order) for each argument: a column name ``c`` (or
        ``lambda r: r.c``) adds ``c_cumsum``; a computed lambda at position ``i`` adds
        ``cum_sum_{i}_cumsum``. NULLs are skipped. Needs a declared order."""
        if not cols:
            raise ValueError("cum_sum() needs at least one column")
        require_order(self._rel, "cum_sum()")
        new: dict[str, Any] = {}
        for i, c in enumerate(cols):
            if isinstance(c, str):
                e: Any = Column(self._column(c, "cum_sum()"), self._types()[c])
            elif callable(c):
                e = _wrap(self._capture(c, "cum_sum()"))
            else:
                raise TypeError(f"cum_sum() takes column names or lambdas, not {type(c).__name__}")
            name = f"{e.name}_cumsum" if isinstance(e, Column) else f"cum_sum_{i}_cumsum"
            if name in self.columns or name in new:
                raise ValueError(f"cum_sum(): the table already has a column {name!r}")
            new[name] = e.cum_sum(partition_by=partition_by)
        return self.derive(lambda r: new)

    def group_ordered(
        self,
        key: str | Sequence[str] | Callable[[Any], Any] | None = None,
        *,
        split: Callable[[Any], Any] | None = None,
        partition_by: Any = None,
    ) -> NestedTable:
        """Groups of consecutive rows (in the table's order): runs of equal ``key`` (a column
        name, several names, or a lambda; NULL equals NULL), or, with ``split=lambda r: cond``,
        a new group at every row where ``cond`` is true (and at the first row). Groups never
        cross a ``partition_by`` partition. Needs a declared order."""
        return group_ordered(self, key, split, partition_by)

    group_consecutive = group_ordered

    # =========================================================================================
    # Ordered search
    # =========================================================================================
    def search_first(self, predicate: Callable[[Any], Any]) -> LTSeq:
        """The first row, in the table's order, where ``predicate`` holds (an empty table when
        none does). The search stops reading at the first match. Needs a declared order."""
        return search_rows(self, "search_first()", [predicate], None, fetch=1)

    def search_pattern(self, *steps: Callable[[Any], Any], partition_by: Any = None) -> LTSeq:
        """The rows ``i`` where ``steps[0]`` holds at row ``i``, ``steps[1]`` at row ``i + 1``,
        ..., in the table's order; with ``partition_by`` (a column name or a list of them) all
        rows of a match have equal partition values (a pattern never crosses a partition).
        Matches may overlap. Needs a declared order."""
        return search_rows(self, "search_pattern()", list(steps), partition_by)

    def search_pattern_count(self, *steps: Callable[[Any], Any], partition_by: Any = None) -> int:
        """The number of matches of :meth:`search_pattern`, counted without materializing rows."""
        return search_count(self, list(steps), partition_by)

    def group_by(self, key: str | Sequence[str] | Callable[[Any], Any]) -> GroupBy:
        """Groups rows by equal keys (anywhere in the table, unlike :meth:`group_ordered`):
        ``t.group_by("url").agg(n=lambda g: g.count())``. The key is a column name, a list
        of names, or a row lambda returning an expression (or a list, or a dict of named
        expressions)."""
        return GroupBy(self, key_exprs(self, key))

    def agg(
        self,
        fn: Callable[[Any], Any] | None = None,
        *,
        by: str | Sequence[str] | Callable[[Any], Any] | None = None,
        **aggs: Callable[[Any], Any],
    ) -> LTSeq:
        """Aggregates: one row per distinct ``by`` key (sorted by the key, NULL last), or one
        row for the whole table without ``by``. Each aggregate is ``name=lambda g: ...`` over
        the group proxy: ``g.col.count()``, ``.sum()``, ``.mean()`` / ``.avg()``, ``.min()``,
        ``.max()``, ``.median()``, ``.std()``, ``.var()``, ``.n_unique()``, ``.first()``,
        ``.last()`` (in the table's order), ``g.count()`` (rows), ``g.count_if(pred)``,
        ``g.sum_if(pred, col)``, ``g.avg_if(pred, col)``; they combine with arithmetic."""
        keys = key_exprs(self, by) if by is not None else {}
        return self._aggregate(keys, fn, aggs)

    def _aggregate(
        self, keys: dict[str, Expr], fn: Callable[[Any], Any] | None, named: Mapping[str, Callable[[Any], Any]]
    ) -> LTSeq:
        return aggregate(self, keys, fn, named)

    def link(
        self,
        target: LTSeq,
        on: Callable[[Any, Any], Any],
        as_: str | None = None,
        join_type: str = "left",
        *,
        alias: str | None = None,
    ) -> LinkedTable:
        """Links each row to at most one row of ``target``, like a pointer:
        ``orders.link(products, on=lambda o, p: o.product_id == p.product_id, as_="prod")``.

        The result is this table with every column of ``target`` beside it, named
        ``prod_<column>``; in lambdas ``r.prod.name`` reads ``prod_name`` (links of links
        chain: ``r.prod.cat.name``). ``on`` compares source columns with target columns
        (several comparisons joined with ``&`` for a composite key). Every row keeps its place
        and its count: with ``join_type="left"`` (the default) a row whose key is NULL or has no
        match sees NULL in the linked columns; ``"inner"`` drops such rows. A target key that
        occurs more than once is an error naming the key (a pointer must be unambiguous).
        Only the linked columns a query uses are read from ``target``."""
        if (as_ is None) == (alias is None):
            raise ValueError("link() needs a name for the linked row: as_='prod' (or alias='prod'), exactly one")
        name = as_ if as_ is not None else alias
        check_user_name(name, "link() alias")
        assert name is not None
        if not isinstance(target, LTSeq):
            raise TypeError(f"link() links to another LTSeq, not {type(target).__name__}")
        if target._ctx is not self._ctx:
            raise ValueError(
                "link(): both tables must live on the same SessionContext (create the target with ctx=...)"
            )
        join = join_type.lower() if isinstance(join_type, str) else join_type
        if join not in JOIN_TYPES:
            raise ValueError(
                f"link(): join_type must be 'left' or 'inner', got {join_type!r} (a link keeps the source's rows)"
            )
        if name in self.columns:
            raise ValueError(f"link(): the alias {name!r} is already a column of the source table")
        prefix = name + "_"
        clash = [prefix + c for c in target.columns if prefix + c in self.columns]
        if clash:
            raise ValueError(f"link(): the linked columns {clash} would replace source columns; choose another alias")
        source_keys, target_keys = key_pairs(on, self._types(), target._types())
        base, source = link_operator(self, self._rel.sql, target, (source_keys, target_keys), prefix, join)
        linked = [prefix + c for c in target.columns]
        select = [quote_ident(c) for c in [*self.columns, *linked, *self._rel.hidden]]
        sql = f"SELECT {', '.join(select)} FROM ({base}) AS {T}"
        schema = plan_schema(self._ctx, sql)
        visible = pa.schema([schema.field(i) for i in range(len(self.columns) + len(linked))])
        rel = replace(self._rel, sql=sql, schema=visible, sources=self._rel.sources + (source,) + target._rel.sources)
        made = LinkedTable._make(self._ctx, rel)
        assert isinstance(made, LinkedTable)
        return made

    def distinct(self, *keys: str | Callable[[Any], Any]) -> LTSeq:
        """Removes duplicates, keeping the first row (in the table's order) of each key; with no
        keys, of each distinct row. The survivors keep the table's order."""
        exprs: list[Expr] = []
        if not keys:
            exprs = [Column(c) for c in self.columns]
        for k in keys:
            if isinstance(k, str):
                self._column(k, "distinct()")
                exprs.append(Column(k))
            elif callable(k):
                e = self._capture(k, "distinct()")
                exprs.append(_wrap(e))
            else:
                raise TypeError(f"distinct() keys are column names or lambdas, not {type(k).__name__}")
        marker = f"{HIDDEN_PREFIX}dn"
        partition = ", ".join(f"{T}.{quote_ident(e.name)}" if isinstance(e, Column) else e.to_sql() for e in exprs)
        inner = (
            f"SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {order_sql(self._rel.order)}) "
            f"AS {quote_ident(marker)} FROM ({self._rel.sql}) AS {T}"
        )
        keep = [quote_ident(c) for c in list(self.columns) + list(self._rel.hidden)]
        sql = f"SELECT {', '.join(keep)} FROM ({inner}) AS {T} WHERE {quote_ident(marker)} = 1"
        plan_schema(self._ctx, sql)
        return self._with(replace(self._rel, sql=sql))

    def slice(self, offset: int = 0, length: int | None = None) -> LTSeq:
        """Rows ``offset`` to ``offset + length`` (all the rest when ``length`` is None), in
        the table's order."""
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValueError(f"slice(): offset must be an integer >= 0, got {offset!r}")
        if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 0):
            raise ValueError(f"slice(): length must be an integer >= 0 or None, got {length!r}")
        # no table has 2**63 rows: larger values mean "all" (length) or "none" (offset)
        offset = min(offset, 2**63 - 1)
        length = None if length is not None and length >= 2**63 else length
        # cut by the Output operator, in order; it stops after offset + length rows
        sql, source = output(self, hidden=True, slice_=(offset, length))
        plan_schema(self._ctx, sql)
        return self._with(replace(self._rel, sql=sql, sources=(*self._rel.sources, source), ordered_sql=sql))

    def head(self, n: int = 10) -> LTSeq:
        """The first ``n`` rows."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"head(): n must be an integer >= 0, got {n!r}")
        return self.slice(0, n)

    def tail(self, n: int = 10) -> LTSeq:
        """The last ``n`` rows, in the table's order."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"tail(): n must be an integer >= 0, got {n!r}")
        sql = f"SELECT * FROM ({self._rel.sql}) AS {T} ORDER BY {order_sql(self._rel.order, reverse=True)} LIMIT {n}"
        plan_schema(self._ctx, sql)
        return self._with(replace(self._rel, sql=sql))

    def pipe(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``func(self, *args, **kwargs)``."""
        return func(self, *args, **kwargs)

    # =========================================================================================
    # Output
    # =========================================================================================
    def to_datafusion(self) -> Any:
        """A datafusion ``DataFrame`` of this table (sorted in the table's order). It, and any
        DataFrame derived from it, stays valid for as long as the context lives: the tables
        ltseq registered for it are kept registered until then."""
        df, source = self._output()
        pin(self._ctx, (source, self._rel.sources))
        return df

    def to_arrow(self) -> pa.Table:
        """Runs the query and returns a ``pyarrow.Table``, in order."""
        df, source = self._output()
        table = self._execute(df)
        del source  # kept registered until the query ran
        return table

    def _execute(self, df: Any) -> pa.Table:
        """``df``'s rows; an execution error is a ``QueryError`` with the table's SQL."""
        try:
            return df.to_arrow_table()
        except Exception as e:
            raise query_error(e, self._final_sql()) from e

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The rows, in order, as an Arrow C stream (``pyarrow.table(t)``, ``polars.DataFrame(t)``,
        DuckDB): read batch by batch, without a copy."""
        df, source = self._output()
        try:
            capsule = df.__arrow_c_stream__(requested_schema)
        except Exception as e:
            raise QueryError(message(e)) from e
        del source  # the stream is planned: its tables may go
        return capsule

    def collect(self) -> LTSeq:
        """Runs the query once: an in-memory ``LTSeq``, same rows, order, schema and sort keys."""
        out = LTSeq.from_arrow(self.to_arrow(), ctx=self._ctx)
        return out._with(replace(out._rel, sort_keys=self._rel.sort_keys))

    def count(self) -> int:
        """The number of rows."""
        table = self._execute(self._run(f"SELECT count(*) AS n FROM ({self._rel.sql}) AS {T}"))
        return int(table.column(0)[0].as_py())

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yields the rows as dicts, in order, streaming batch by batch."""
        df, source = self._output()
        try:
            for batch in df.execute_stream():
                yield from batch.to_pyarrow().to_pylist()
        except LTSeqError:
            raise
        except Exception as e:
            raise query_error(e, self._final_sql()) from e
        del source

    def _head_rows(self, n: int) -> tuple[pa.Table, bool]:
        df, source = self._output(limit=n + 1)
        table = self._execute(df)
        del source
        return table.slice(0, n), table.num_rows > n

    def show(self, n: int = 10) -> None:
        """Prints the first ``n`` rows as a table (reading only those rows)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"show(): n must be an integer >= 0, got {n!r}")
        rows, more = self._head_rows(n)
        print(_display.grid(rows, rows.schema, more=more))

    def __repr__(self) -> str:
        header = _display.header(self)
        try:
            rows, more = self._head_rows(5)
        except Exception as e:  # noqa: BLE001 - repr must not raise
            return f"{header}\n(could not run: {message(e).splitlines()[0]})"
        return f"{header}\n{_display.grid(rows, rows.schema, more=more)}"

    def _repr_html_(self) -> str:
        rows, more = self._head_rows(10)
        return _display.html(rows, rows.schema, more=more, header=_display.header(self))

    def explain(self) -> str:
        """DataFusion's logical and physical plans for this table's output, and the physical
        plan of the rows that ltseq's Output operator reads in order."""
        df, source = self._output()
        try:
            logical = df.optimized_logical_plan().display_indent()
            physical = df.execution_plan().display_indent()
            rows = self._run(self._rel.sql).execution_plan().display_indent()
        except Exception as e:
            raise QueryError(message(e)) from e
        del source
        return f"logical plan:\n{logical}\nphysical plan:\n{physical}\nplan of the rows it reads:\n{rows}"

    explain_plan = explain


class GroupBy:
    """``t.group_by(key)``: call :meth:`agg` on it."""

    __slots__ = ("_table", "_keys")

    def __init__(self, table: LTSeq, keys: dict[str, Expr]) -> None:
        self._table, self._keys = table, keys

    def agg(self, fn: Callable[[Any], Any] | None = None, **aggs: Callable[[Any], Any]) -> LTSeq:
        """One row per key (sorted by the key, NULL last): the key columns, then the aggregates
        (see :meth:`LTSeq.agg`)."""
        return self._table._aggregate(self._keys, fn, aggs)

    def count(self) -> LTSeq:
        """One row per key with its number of rows, as ``count``."""
        return self.agg(count=lambda g: g.count())

    def __repr__(self) -> str:
        return f"<group_by {list(self._keys)} of {self._table!r}>"


class LinkedTable(LTSeq):
    """A table made by :meth:`LTSeq.link`: an ``LTSeq`` whose linked columns are named
    ``alias_column`` and read in lambdas as ``r.alias.column``."""

    __slots__ = ()

    def to_ltseq(self) -> LTSeq:
        """The same table as a plain ``LTSeq`` (every method already returns one)."""
        return LTSeq._make(self._ctx, self._rel)


__all__ = ["LTSeq", "LinkedTable", "GroupBy"]
