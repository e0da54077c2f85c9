"""Links: a pointer from each row of a table to at most one row of another table.

``t.link(target, on=lambda s, p: s.product_id == p.product_id, as_="prod")`` is the table ``t``
with every column of ``target`` beside it as ``prod_<column>``; in lambdas ``r.prod.name`` reads
``prod_name``. Rows keep their place and their count (``join_type="left"``; ``"inner"`` drops
rows without a match); a target key that occurs twice is an error naming the key. It runs on
ltseq's ``Link`` operator (``planner-ext/src/link/``), which reads only the target columns a
query uses.
"""

from __future__ import annotations

from typing import Any

from ._expr import BinaryOp, Column, Expr, _wrap, extend
from ._relation import TableBase
from .exceptions import ColumnNotFoundError

JOIN_TYPES = ("left", "inner")


class LinkRef:
    """``r.alias`` in a lambda: the linked row. ``r.alias.col`` is the column ``alias_col``;
    links of links chain (``r.prod.cat.name`` is ``prod_cat_name``)."""

    __slots__ = ("_ltseq_prefix", "_ltseq_columns")

    def __init__(self, prefix: str, columns: dict[str, str]) -> None:
        object.__setattr__(self, "_ltseq_prefix", prefix)
        object.__setattr__(self, "_ltseq_columns", columns)

    def __getattr__(self, name: str) -> Column | LinkRef:
        prefix = object.__getattribute__(self, "_ltseq_prefix")
        columns = object.__getattribute__(self, "_ltseq_columns")
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return resolve(prefix + name, columns, prefix)

    def __getitem__(self, name: str) -> Column | LinkRef:
        if not isinstance(name, str):
            raise TypeError(f"columns are named by strings, not {type(name).__name__}")
        return self.__getattr__(name)

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError("the row proxy is read-only")

    def __bool__(self) -> bool:
        raise TypeError(f"{self!r} is a linked row, not a value: read one of its columns, e.g. r.{self._alias()}.name")

    def _alias(self) -> str:
        return str(object.__getattribute__(self, "_ltseq_prefix"))[:-1]

    def __dir__(self) -> list[str]:
        prefix = object.__getattribute__(self, "_ltseq_prefix")
        return [c[len(prefix) :] for c in object.__getattribute__(self, "_ltseq_columns") if c.startswith(prefix)]

    def __repr__(self) -> str:
        return f"<linked row {self._alias()!r}: {self.__dir__()}>"


def resolve(name: str, columns: dict[str, str], within: str = "") -> Column | LinkRef:
    """The column ``name``, or, when there is none but columns start with ``name_``, the
    linked row they belong to."""
    if name in columns:
        return Column(name, columns[name])
    prefix = name + "_"
    if any(c.startswith(prefix) for c in columns):
        return LinkRef(prefix, columns)
    if within:
        inner = [c[len(within) :] for c in columns if c.startswith(within)]
        raise ColumnNotFoundError(name[len(within) :], inner, where=f"the link {within[:-1]!r}")
    raise ColumnNotFoundError(name, columns)


class _SideProxy:
    """A row proxy for one side of ``on=``; remembers which columns it handed out."""

    __slots__ = ("_ltseq_columns", "_ltseq_seen")

    def __init__(self, columns: dict[str, str], seen: dict[int, str]) -> None:
        object.__setattr__(self, "_ltseq_columns", columns)
        object.__setattr__(self, "_ltseq_seen", seen)

    def _mark(self, value: Any) -> Any:
        if isinstance(value, Column):
            object.__getattribute__(self, "_ltseq_seen")[id(value)] = value.name
        elif isinstance(value, LinkRef):
            return _MarkingLink(value, self)
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._mark(resolve(name, object.__getattribute__(self, "_ltseq_columns")))

    def __getitem__(self, name: str) -> Any:
        return self._mark(resolve(name, object.__getattribute__(self, "_ltseq_columns")))


class _MarkingLink:
    __slots__ = ("_ltseq_link", "_ltseq_side")

    def __init__(self, link: LinkRef, side: _SideProxy) -> None:
        object.__setattr__(self, "_ltseq_link", link)
        object.__setattr__(self, "_ltseq_side", side)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        side = object.__getattribute__(self, "_ltseq_side")
        return side._mark(getattr(object.__getattribute__(self, "_ltseq_link"), name))


_ON_HELP = (
    "on= must compare a source column with a target column, several comparisons joined with &, "
    "e.g. on=lambda s, p: (s.product_id == p.product_id) & (s.region == p.region)"
)


def key_pairs(
    on: Any, source: dict[str, str], target: dict[str, str], who: str = "link()"
) -> tuple[list[str], list[str]]:
    """The (source, target) key columns of ``on``, a function of a source row and a target row."""
    if not callable(on):
        raise TypeError(f"{who}: {_ON_HELP}; got {type(on).__name__}")
    seen_s: dict[int, str] = {}
    seen_t: dict[int, str] = {}
    cond = on(_SideProxy(source, seen_s), _SideProxy(target, seen_t))
    if not isinstance(cond, Expr):
        raise TypeError(f"{who}: {_ON_HELP}; got {cond!r}")
    pairs: list[tuple[str, str]] = []

    def walk(e: Expr) -> None:
        if isinstance(e, BinaryOp) and e.op == "&":
            walk(e.left)
            walk(e.right)
            return
        if isinstance(e, BinaryOp) and e.op == "==" and isinstance(e.left, Column) and isinstance(e.right, Column):
            a, b = id(e.left), id(e.right)
            if a in seen_s and b in seen_t:
                pairs.append((seen_s[a], seen_t[b]))
                return
            if a in seen_t and b in seen_s:
                pairs.append((seen_s[b], seen_t[a]))
                return
        raise ValueError(f"{who}: {_ON_HELP}; cannot use {e!r}")

    walk(cond)
    return [s for s, _ in pairs], [t for _, t in pairs]


class Lookup(Expr):
    """``key.lookup(target, "column", on="key")``: the target's ``column`` at the row whose
    ``on`` column equals ``key`` (NULL when there is none). Evaluated by a link."""

    __slots__ = ("key", "target", "column", "on", "_dtype")

    def __init__(self, key: Expr, target: Any, column: str, on: str | None) -> None:
        if not isinstance(target, TableBase):
            raise TypeError(f"lookup() takes an LTSeq as its target, not {type(target).__name__}")
        if not isinstance(column, str) or column not in target.columns:
            raise ColumnNotFoundError(str(column), target.columns, where="the lookup target")
        if on is None:
            if not (isinstance(key, Column) and key.name in target.columns):
                raise ValueError(
                    "lookup(): say which target column holds the key, e.g. r.product_id.lookup(products, "
                    f"'name', on='product_id'); target columns: {target.columns}"
                )
            on = key.name
        if not isinstance(on, str) or on not in target.columns:
            raise ColumnNotFoundError(str(on), target.columns, where="the lookup target (on=)")
        self.key, self.target, self.column, self.on = _wrap(key), target, column, on
        self._dtype = target.schema[column]

    @property
    def dtype(self) -> str:
        return self._dtype

    def to_sql(self) -> str:
        raise RuntimeError("a lookup is evaluated by a link; ltseq stages it before emitting SQL")

    def to_dict(self) -> dict[str, Any]:
        return {"lookup": self.key.to_dict(), "column": self.column, "on": self.on}

    def _children(self) -> list[Expr]:
        return [self.key]

    def _with_children(self, children: list[Expr]) -> Expr:
        return Lookup(children[0], self.target, self.column, self.on)

    def _default_name(self) -> str:
        return self.column

    def __repr__(self) -> str:
        return f"{self.key!r}.lookup(<table>, {self.column!r}, on={self.on!r})"


@extend
class LinkMethods:
    """The link method of every expression (see :class:`Expr`)."""

    def lookup(self: Any, target: Any, column: str, on: str | None = None) -> Expr:
        """The ``column`` of the ``target`` row whose ``on`` column equals this value (NULL
        when there is none); ``on`` defaults to this column's name. A target key occurring
        twice is an error. Evaluated by ltseq's Link operator; rows keep their order."""
        return Lookup(self, target, column, on)


def contains_lookup(e: Expr) -> bool:
    return isinstance(e, Lookup) or any(contains_lookup(c) for c in e._children())


def find_lookups(e: Expr, out: list[Lookup]) -> None:
    """The lookups in ``e``, inner ones (in a lookup's key) first."""
    for c in e._children():
        find_lookups(c, out)
    if isinstance(e, Lookup):
        out.append(e)


def replace_lookups(e: Expr, columns: dict[int, Column]) -> Expr:
    if id(e) in columns:
        return columns[id(e)]
    children = e._children()
    if not children:
        return e
    new = [replace_lookups(c, columns) for c in children]
    if all(a is b for a, b in zip(new, children)):
        return e
    return e._with_children(new)
