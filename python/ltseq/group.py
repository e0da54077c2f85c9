"""Ordered grouping: ``t.group_ordered(...)`` returns a :class:`NestedTable` of groups of
consecutive rows, and lambdas over it get a group proxy ``g``.

A group is a run of consecutive rows (in the table's order) with equal keys (NULL equal to
NULL), or, with ``split=``, the rows from one row where the predicate holds to the next. Each
row carries its group's id in a hidden column; ids are 1-based and increase in sequence order.
The id is computed with ltseq's window functions (``run_id`` or a running count of group
starts), on ltseq's Window operator where the order allows it.

Group-level expressions (``g.count()``, ``g.first().col``, ``g.sum("c")``, ...) are
aggregates over a group's rows; they compose with arithmetic, comparisons, ``&``, ``|``, ``~``.
``agg`` computes them once per group (``GROUP BY`` the id), ``derive`` and ``filter`` join them
back to the rows of each group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _native, _sql
from . import window as window_module
from ._expr import Column, Expr, Func, IfElse, Literal, _wrap
from ._operators import ordered_input, register_operator, stage
from ._relation import Rel, T, check_user_name, new_name, order_sql, plan_schema, require_order
from ._values import Aggregate, GroupValues, GroupVocabulary, Make
from .link import contains_lookup
from .window import _SEQUENCE, Window, contains_window, innermost_windows, replace_nodes, row_number

if TYPE_CHECKING:  # pragma: no cover
    from .table import LTSeq

GROUP_ID_COLUMN = "__group_id__"


class GroupAgg(Aggregate):
    """An aggregate over the rows of one group (built with the group proxy ``g``)."""

    __slots__ = ("func", "arg", "param", "_dtype", "label")

    def __init__(self, func: str, arg: Expr | None, dtype: str, label: str, param: float | None = None) -> None:
        self.func, self.arg, self._dtype, self.label, self.param = func, arg, dtype, label, param

    @property
    def dtype(self) -> str:
        return self._dtype

    def _children(self) -> list[Expr]:
        return [self.arg] if self.arg is not None else []

    def _with_children(self, children: list[Expr]) -> Expr:
        return GroupAgg(self.func, children[0] if children else None, self._dtype, self.label, self.param)

    def compile(self, order_sql: str) -> str:
        """The aggregate's SQL inside ``GROUP BY <group id>`` (``order_sql``: the row order)."""
        a = self.arg.to_sql() if self.arg is not None else ""
        f = self.func
        if f == "count":
            return f"count({a})" if self.arg is not None else "count(*)"
        if f == "n_unique":
            return f"count(DISTINCT {a})"
        if f == "first":
            return f"first_value({a} ORDER BY {order_sql})"
        if f == "last":
            return f"last_value({a} ORDER BY {order_sql})"
        if f == "percentile":
            # the two-argument form: `WITHIN GROUP` does not survive the planner route's FFI
            return f"percentile_cont({a}, {_sql.sql_literal(float(self.param or 0.0))})"
        if f in ("all", "any", "none"):
            # A NULL predicate counts as not satisfied.
            inner = f"coalesce({a}, FALSE)"
            return {"all": f"bool_and({inner})", "any": f"bool_or({inner})", "none": f"(NOT bool_or({inner}))"}[f]
        if f == "string_agg":
            return f"string_agg({a} ORDER BY {order_sql})"
        sql_name = {"avg": "avg", "std": "stddev_samp", "var": "var_samp", "cov": "covar_samp"}.get(f, f)
        return f"{sql_name}({a})"

    def to_sql(self) -> str:
        raise TypeError(
            f"{self.label} is a group aggregate: it has SQL only inside a NestedTable's agg, derive or filter"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "group_agg", "function": self.func}
        if self.arg is not None:
            out["arg"] = self.arg.to_dict()
        if self.param is not None:
            out["param"] = self.param
        return out

    def __repr__(self) -> str:
        return self.label


class GroupProxy(GroupVocabulary):
    """The ``g`` given to lambdas of a :class:`NestedTable`: the group vocabulary
    (``GroupVocabulary``: ``g.price.mean()``, ``g.mean("price")``, ``g.first().price``, ...)
    over a group of consecutive rows."""

    __slots__ = ("_proxy",)

    def __init__(self, row_proxy: Any) -> None:
        object.__setattr__(self, "_proxy", row_proxy)

    def _rows(self) -> Any:
        return object.__getattribute__(self, "_proxy")

    def _maker(self) -> Make:
        return _group_aggregate


def _group_aggregate(func: str, arg: Expr | None, dtype: str, param: float | None) -> Expr:
    """How an aggregate of ``g`` is built for a group of consecutive rows."""
    label = f"g.{func}()" if arg is None else f"g.{func}({arg!r})"
    return GroupAgg("avg" if func == "mean" else func, arg, dtype, label, param)


def contains_group_agg(e: Expr) -> bool:
    return isinstance(e, GroupAgg) or any(contains_group_agg(c) for c in e._children())


def _collect_aggs(e: Expr, out: list[GroupAgg]) -> None:
    if isinstance(e, GroupAgg):
        out.append(e)
        return
    for c in e._children():
        _collect_aggs(c, out)


def group_ids(t: LTSeq, key: Any, split: Any, partition_by: Any) -> tuple[Expr, list[Expr], tuple[str, list[Expr]]]:
    """The expression of the group id of each row of ``t`` (1-based, in sequence order), the
    partition expressions, and the boundary: ``("keys", key expressions)`` or
    ``("split", [predicate])``."""
    proxy = t._proxy()
    parts: list[Any] = []
    if partition_by is not None:
        for p in partition_by if isinstance(partition_by, (list, tuple)) else [partition_by]:
            if isinstance(p, str):
                t._column(p, "group_ordered(partition_by=...)")
                parts.append(Column(p, t._types()[p]))
            elif callable(p) and not isinstance(p, Expr):
                parts.append(_wrap(p(proxy)))
            elif isinstance(p, Expr):
                parts.append(p)
            else:
                raise TypeError(f"partition_by takes column names or lambdas, not {type(p).__name__}")
    if split is not None:
        pred = _wrap(split(proxy) if callable(split) else split)
        if pred.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"group_ordered(split=...) needs a condition, but {pred!r} is {pred.dtype}")
        first = row_number().over(partition_by=parts or None) == 1
        start: Expr = first | pred.fill_null(False)
        return IfElse(start, Literal(1), Literal(0)).cum_sum(), parts, ("split", [pred.fill_null(False)])
    keys: list[Expr] = []
    for k in key if isinstance(key, (list, tuple)) else [key]:
        if isinstance(k, str):
            t._column(k, "group_ordered()")
            keys.append(Column(k, t._types()[k]))
        elif callable(k) and not isinstance(k, Expr):
            result = k(proxy)
            keys.extend(_wrap(x) for x in (result if isinstance(result, (list, tuple)) else [result]))
        elif isinstance(k, Expr):
            keys.append(k)
        else:
            raise TypeError(f"group_ordered() keys are column names or lambdas, not {type(k).__name__}")
    if not keys:
        raise ValueError("group_ordered() needs a key (a name, several names, or a lambda) or split=")
    run = Window("run_id", keys, f"run_id({', '.join(repr(k) for k in keys)})", partition_by=parts)
    if not parts:
        return run, parts, ("keys", keys)  # run ids over the whole table are the group ids
    # Within partitions, a group starts where the run id changes (or the partition starts);
    # the group id counts starts over the whole table.
    start = run != run.shift(1, default=0, partition_by=parts)
    return IfElse(start, Literal(1), Literal(0)).cum_sum(), parts, ("keys", keys)


def group_ordered(t: LTSeq, key: Any, split: Any, partition_by: Any) -> NestedTable:
    """``t.group_ordered(...)``: ``t`` with each row's group id in a hidden column."""
    if (key is None) == (split is None):
        raise TypeError("group_ordered() takes a key or split=, exactly one of them")
    require_order(t._rel, "group_ordered()")
    gid_expr, parts, boundary = group_ids(t, key, split, partition_by)
    gid = new_name("gid")
    base, (gid_expr,), sources = stage(t, [gid_expr])
    out = [(f"{T}.{_sql.quote_ident(c)}", c) for c in t.columns]
    rel = t._derive_rel(out, hidden_extra=[(gid_expr.to_sql(), gid)], base_sql=base, sources=sources)
    return NestedTable(t._with(rel), gid, parts, boundary, source=t)


def _semi_join(columns: str, rows: str, key: str, keys: str) -> str:
    """The rows of ``rows`` whose ``key`` (quoted) is one of ``keys``' ones: a semi join, not an
    ``IN (subquery)``, which the planner route's protobuf form of a plan cannot carry."""
    return (
        f"SELECT {columns} FROM ({rows}) AS {T} LEFT SEMI JOIN (SELECT {key} FROM ({keys})) AS "
        f"{_sql.quote_ident('__ltseq_keys')} ON {T}.{key} = {_sql.quote_ident('__ltseq_keys')}.{key}"
    )


class NestedTable:
    """Groups of consecutive rows of an ordered table (from :meth:`LTSeq.group_ordered`)."""

    __slots__ = ("_t", "_gid", "_parts", "_boundary", "_source", "_filtered")

    def __init__(
        self,
        t: LTSeq,
        gid: str,
        parts: list[Expr],
        boundary: tuple[str, list[Expr]] | None,
        source: LTSeq | None = None,
        filtered: tuple[NestedTable, str, tuple[Any, ...]] | None = None,
    ) -> None:
        self._t = t  # the rows, with the group id in the hidden column `gid`
        self._gid = gid
        self._parts = parts
        # How groups start (None after filter: then the group id column itself is the key).
        self._boundary = boundary
        # The rows without the group id column (the GroupOrdered operator finds the groups
        # itself, so it reads these when no aggregate needs the id).
        self._source = source
        # After filter(): the nested table filtered, the query of the surviving group ids, and
        # what it reads.
        self._filtered = filtered

    # --- helpers ---------------------------------------------------------------------------------
    def _group_proxy(self) -> GroupProxy:
        return GroupProxy(self._t._proxy())

    def _capture(self, fn: Any, what: str) -> Any:
        if not callable(fn):
            raise TypeError(f"{what} takes a function of the group, e.g. lambda g: g.count() > 3")
        return fn(self._group_proxy())

    def _group_query(
        self, exprs: dict[str, Expr], having: Expr | None = None
    ) -> tuple[str, dict[str, Expr], list[str], tuple[Any, ...]]:
        """A query of one row per group: the group id column (named as the rows' hidden one) and
        the aggregates; ``exprs`` rewritten to read the aggregate columns; those columns' names;
        and what must stay alive while the query is used. With ``having``, only the groups where
        it holds. On the GroupOrdered operator when it can, else ``GROUP BY`` the group id."""
        rel = self._t._rel
        found: list[GroupAgg] = []
        for e in [*exprs.values(), *([having] if having is not None else [])]:
            _collect_aggs(e, found)
            windows: list[Window] = []
            innermost_windows(e, windows)
            if windows:
                raise TypeError(
                    "window expressions are not allowed in group expressions; derive them on the rows first"
                )
        for name, e in exprs.items():
            if not contains_group_agg(e) and not isinstance(e, Literal):
                raise TypeError(
                    f"{name!r}: {e!r} is not a group-level expression; use g.first().col, g.sum('col'), ..."
                )
        gid_agg = GroupAgg("first", Column(self._gid, "int64"), "int64", "group id")
        fast = self._operator_query([*found, gid_agg])
        if fast is not None:
            inner, op_mapping, source = fast
            gid_col = op_mapping[id(gid_agg)].to_sql()
            cols = [c.name for c in op_mapping.values() if isinstance(c, Column) and c is not op_mapping[id(gid_agg)]]
            picked = "".join(f", {T}.{_sql.quote_ident(c)}" for c in cols)
            sql = f"SELECT {gid_col} AS {_sql.quote_ident(self._gid)}{picked} FROM ({inner}) AS {T}"
            if having is not None:
                sql += f" WHERE {replace_nodes(having, op_mapping).to_sql()}"
            rewritten = {name: replace_nodes(e, op_mapping) for name, e in exprs.items()}
            return sql, rewritten, cols, (source,)
        rows_order = order_sql(rel.order)
        mapping: dict[int, Expr] = {}
        select = [f"{T}.{_sql.quote_ident(self._gid)} AS {_sql.quote_ident(self._gid)}"]
        for a in found:
            if id(a) in mapping:
                continue
            name = new_name("g")
            select.append(f"{a.compile(rows_order)} AS {_sql.quote_ident(name)}")
            mapping[id(a)] = Column(name, a.dtype)
        sql = f"SELECT {', '.join(select)} FROM ({rel.sql}) AS {T} GROUP BY {T}.{_sql.quote_ident(self._gid)}"
        if having is not None:
            sql += f" HAVING {replace_nodes(having, {k: v for k, v in mapping.items()}).to_sql()}"
        names = [c.name for c in mapping.values() if isinstance(c, Column)]
        rewritten = {name: replace_nodes(e, mapping) for name, e in exprs.items()}
        return sql, rewritten, names, ()

    def _operator_query(self, aggs: list[GroupAgg]) -> tuple[str, dict[int, Expr], Any] | None:
        """``aggs`` on ltseq's GroupOrdered operator: the query of one row per group (its
        ``__group_id__`` and one column per aggregate), the aggregates' replacements, and the
        registered tables to keep alive; None when an aggregate needs the SQL path.

        A split predicate whose only windows are ``shift(n)`` (n >= 1) of columns is evaluated
        inside the operator: its lags are slices of the input, and stored-order input is grouped
        in parallel. Otherwise it is computed as an input column first."""
        if not window_module.use_operator or self._boundary is None:
            return None
        needs_gid = any(a.arg is not None and _mentions(a.arg, self._gid) for a in aggs)
        t = self._source if self._source is not None and self._boundary is not None and not needs_gid else self._t
        rel = t._rel
        computed: list[tuple[Expr, str]] = []  # expressions to compute as input columns

        def column_of(e: Expr) -> str:
            if isinstance(e, Column):
                return e.name
            name = new_name("a")
            computed.append((e, name))
            return name

        names = {
            "count": "count",
            "first": "first_value",
            "last": "last_value",
            "sum": "sum",
            "avg": "avg",
            "min": "min",
            "max": "max",
            "median": "median",
            "std": "stddev",
            "var": "var_samp",
            "all": "bool_and",
            "any": "bool_or",
            "none": "bool_or",
        }
        calls = []
        mapping: dict[int, Expr] = {}
        for a in aggs:
            if id(a) in mapping:
                continue
            if a.func not in names:
                return None
            args = []
            if a.arg is not None:
                arg = a.arg.fill_null(False) if a.func in ("all", "any", "none") else a.arg
                args.append(column_of(arg))
            out = new_name("g")
            calls.append((names[a.func], args, out))
            col = Column(out, a.dtype)
            mapping[id(a)] = ~col if a.func == "none" else col
        parts: list[str] = []
        for p in self._parts:
            parts.append(column_of(p))
        keys: list[str] | None = None
        split: str | None = None
        fused = None
        if self._boundary[0] == "keys":
            keys = [column_of(k) for k in self._boundary[1]]
        else:
            # A split predicate whose only windows are lags of columns runs in the operator (its
            # lags are slices of the input), compiled there with the session's functions.
            fused = _fuse_lags(self._boundary[1][0])
            if fused is None:
                split = column_of(self._boundary[1][0])
        # Compute them (windows in a split predicate, such as shift, first) as input columns.
        base, staged, keep = stage(t, [e for e, _ in computed])
        extra = [f"{e.to_sql()} AS {_sql.quote_ident(n)}" for e, (_, n) in zip(staged, computed)]
        inp = ordered_input(t._ctx, rel, base, extra, parts)

        def make(view: str, schema: pa.Schema) -> Any:
            if fused is not None:
                predicate, lags = fused
                return _native.group_ordered_table(
                    view, schema, parts, calls, ordinal=inp.ordinal, predicate=predicate, lags=lags, dense_ids=False
                )
            return _native.group_ordered_table(
                view, schema, parts, calls, keys=keys, split=split, ordinal=inp.ordinal, dense_ids=False
            )

        query, source = register_operator(t._ctx, "groups", make, inp)
        return query, mapping, (source, keep)

    def _new_columns(self, fn: Any, what: str, named: Mapping[str, Any]) -> dict[str, Expr]:
        items: list[tuple[str, Any]] = []
        if fn is not None:
            result = self._capture(fn, what)
            if not isinstance(result, Mapping):
                raise TypeError(f"{what} lambda must return a dict of {{name: group expression}}")
            items = list(result.items())
        for name, f in named.items():
            items.append((name, self._capture(f, f"{what[:-2]}({name}=...)")))
        out: dict[str, Expr] = {}
        for name, value in items:
            check_user_name(name, f"{what} column name")
            if name in out:
                raise ValueError(f"{what}: {name!r} is given twice")
            if isinstance(value, GroupValues):
                raise TypeError(f"{what[:-2]}({name}=...): g.col is a group of values; aggregate it, e.g. g.col.sum()")
            out[name] = _wrap(value)
        if not out:
            raise ValueError(f"{what} needs at least one column")
        return out

    # --- the API ---------------------------------------------------------------------------------
    def flatten(self) -> LTSeq:
        """The rows, with their group id as the column ``__group_id__`` (1-based, in sequence
        order; after ``filter`` the surviving groups keep their ids)."""
        t = self._t
        if GROUP_ID_COLUMN in t.columns:
            raise ValueError(
                f"flatten() names the group id {GROUP_ID_COLUMN!r}, and the table already has a column of that "
                "name: rename that column first (t.rename(...))"
            )
        items = [(f"{T}.{_sql.quote_ident(c)}", c) for c in t.columns]
        return t._with(t._derive_rel([*items, (f"{T}.{_sql.quote_ident(self._gid)}", GROUP_ID_COLUMN)]))

    def to_arrow(self) -> pa.Table:
        """The rows with their group id (``flatten()``), as a ``pyarrow.Table`` in order."""
        return self.flatten().to_arrow()

    def to_pandas(self) -> Any:
        """The rows with their group id (``flatten()``), as a pandas ``DataFrame`` in order."""
        return self.flatten().to_pandas()

    def first(self) -> LTSeq:
        """The first row of each group, in sequence order."""
        return self._edge(last=False)

    def last(self) -> LTSeq:
        """The last row of each group, in sequence order."""
        return self._edge(last=True)

    def _edge(self, last: bool) -> LTSeq:

        if self._filtered is not None:
            # A surviving group's first (last) row is the one it had before the filter: find
            # the edges on the unfiltered rows, then keep the surviving groups' ones.
            parent, ids, alive = self._filtered
            edges = parent._edge(last)
            rel = edges._rel
            q = _sql.quote_ident(self._gid)
            keep = ", ".join(f"{T}.{_sql.quote_ident(c)}" for c in [*edges.columns, *rel.hidden])
            sql = _semi_join(keep, rel.sql, q, ids)
            sources = rel.sources + alive
            return edges._with(replace(rel, sql=sql, sources=sources))

        gid = Column(self._gid, "int64")
        neighbour = gid.shift(-1 if last else 1, partition_by=self._parts or None)
        # A row is its group's first (last) when the previous (next) row in sequence order is in
        # another group (or there is none). With partition_by, a group's rows are consecutive
        # within its partition, so the neighbour is taken within the partition.
        edge = (neighbour != gid).fill_null(True)
        t = self._t
        base, (edge,), sources = stage(t, [edge])
        keep = ", ".join(f"{T}.{_sql.quote_ident(c)}" for c in [*t.columns, *t._rel.hidden])
        sql = f"SELECT {keep} FROM ({base}) AS {T} WHERE {edge.to_sql()}"
        return t._with(replace(t._rel, sql=sql, sources=sources))

    def agg(self, fn: Callable[[Any], Any] | None = None, **named: Callable[[Any], Any]) -> LTSeq:
        """One row per group, in sequence order, with the columns ``fn`` returns:
        ``agg(lambda g: {"n": g.count(), "start": g.first().date})``, or named ones:
        ``agg(n=lambda g: g.count(), value=lambda g: (g.q * g.p).sum())``."""
        new = self._new_columns(fn, "agg()", named)
        t = self._t
        found: list[GroupAgg] = []
        for e in new.values():
            _collect_aggs(e, found)
        fast = self._operator_query(found) if all(contains_group_agg(e) for e in new.values()) else None
        sources = t._rel.sources
        if fast is not None:
            inner, mapping, source = fast
            rewritten = {n: replace_nodes(e, mapping) for n, e in new.items()}
            group_id = GROUP_ID_COLUMN
            sources = sources + (source,)
        else:
            inner, rewritten, _, alive = self._group_query(new)
            group_id = self._gid
            sources = sources + alive
        select = [f"{e.to_sql()} AS {_sql.quote_ident(n)}" for n, e in rewritten.items()]
        select.append(f"{_sql.quote_ident(group_id)} AS {_sql.quote_ident(self._gid)}")
        sql = f"SELECT {', '.join(select)} FROM ({inner}) AS {T}"
        schema = plan_schema(t._ctx, sql)
        visible = schema.remove(schema.get_field_index(self._gid))
        return t._with(Rel(sql, visible, (self._gid,), ((self._gid, False),), None, sources))

    def derive(self, fn: Callable[[Any], Any] | None = None, **named: Callable[[Any], Any]) -> LTSeq:
        """Every row, plus group-level columns broadcast to the rows of each group (an existing
        name is replaced in place): ``derive(lambda g: {...})`` or ``derive(name=lambda g: ...)``."""
        new = self._new_columns(fn, "derive()", named)
        inner, rewritten, agg_columns, keep = self._group_query(new)
        t = self._t
        gid = _sql.quote_ident(self._gid)
        grp = '"__ltseq_grp"'
        # The aggregate columns have generated names, so the rewritten expressions can read
        # them unqualified next to the table's columns.
        out: list[tuple[str, str]] = []
        for c in t.columns:
            out.append((rewritten[c].to_sql() if c in rewritten else f"{T}.{_sql.quote_ident(c)}", c))
        for name, e in rewritten.items():
            if name not in t.columns:
                out.append((e.to_sql(), name))
        picked = "".join(f", {grp}.{_sql.quote_ident(a)}" for a in agg_columns)
        base = f"SELECT {T}.*{picked} FROM ({t._rel.sql}) AS {T} JOIN ({inner}) AS {grp} ON {T}.{gid} = {grp}.{gid}"
        keys = t._rel.sort_keys
        if keys:
            cut = next((i for i, (k, _) in enumerate(keys) if k in new), len(keys))
            keys = keys[:cut] or None
        return t._with(t._derive_rel(out, sort_keys=keys, base_sql=base, sources=t._rel.sources + keep))

    def filter(self, fn: Callable[[Any], Any]) -> NestedTable:
        """The groups for which ``fn`` holds (all their rows); a NULL result drops the group."""
        pred = _wrap(self._capture(fn, "filter()"))
        if pred.dtype not in ("bool", "null", "unknown"):
            raise TypeError(f"filter() needs a condition, but {pred!r} is {pred.dtype}")
        if not contains_group_agg(pred):
            raise TypeError(f"filter(): {pred!r} is not a group-level condition; use g.count() > 3, g.all(...), ...")
        inner, _, _, alive = self._group_query({}, having=pred)
        t = self._t
        gid = _sql.quote_ident(self._gid)
        columns = ", ".join(f"{T}.{_sql.quote_ident(c)}" for c in [*t.columns, *t._rel.hidden])
        sql = _semi_join(columns, t._rel.sql, gid, inner)
        plan_schema(t._ctx, sql)
        rel = replace(t._rel, sql=sql, sources=t._rel.sources + alive)
        return NestedTable(t._with(rel), self._gid, self._parts, None, filtered=(self, inner, alive))

    def __len__(self) -> int:
        fast = self._operator_query([])
        if fast is not None:
            inner, _, source = fast
            sql = f"SELECT count(*) FROM ({inner}) AS {T}"
            result = self._t._execute(self._t._run(sql))
            del source  # kept alive until the query ran
        else:
            sql = f"SELECT count(DISTINCT {_sql.quote_ident(self._gid)}) FROM ({self._t._rel.sql}) AS {T}"
            result = self._t._execute(self._t._run(sql))
        return int(result.column(0)[0].as_py())

    def count(self) -> int:
        """The number of groups (same as ``len()``)."""
        return len(self)

    def __repr__(self) -> str:
        return f"<NestedTable of {self._t.columns}, grouped consecutively>"


def _mentions(e: Expr, name: str) -> bool:
    if isinstance(e, Column):
        return e.name == name
    return any(_mentions(c, name) for c in e._children())


def _fuse_lags(pred: Expr) -> tuple[str, list[tuple[str, int, str]]] | None:
    """``pred`` as SQL over the input columns and lag columns, with the lags
    (``(column, offset, name)``), when its only windows are ``shift(n)`` (n >= 1, no default, no
    partition or order of its own) of columns; else None."""
    if contains_lookup(pred):
        return None
    if isinstance(pred, Func) and pred.name == "coalesce" and len(pred.args) == 2:
        fill = pred.args[1]
        if isinstance(fill, Literal) and fill.value is False:
            pred = pred.args[0]  # NULL already continues the group
    lags: list[tuple[str, int, str]] = []
    names: dict[tuple[str, int], str] = {}
    mapping: dict[int, Expr] = {}

    def visit(e: Expr) -> bool:
        if isinstance(e, Window):
            args = e.args
            if len(args) != 2 or e.func != "lag" or e.kind != _SEQUENCE or e.partition_by or e.order_by:
                return False
            column, offset = args
            if not (isinstance(column, Column) and isinstance(offset, Literal) and isinstance(offset.value, int)):
                return False
            if offset.value < 1:
                return False
            key = (column.name, offset.value)
            if key not in names:
                names[key] = new_name("lag")
                lags.append((key[0], key[1], names[key]))
            mapping[id(e)] = Column(names[key], e.dtype)
            return True
        return all(visit(c) for c in e._children())

    if not visit(pred):
        return None
    fused = replace_nodes(pred, mapping)
    if contains_window(fused):
        return None
    return fused.to_sql(), lags


__all__ = ["NestedTable", "GroupProxy", "GroupAgg", "GROUP_ID_COLUMN"]
