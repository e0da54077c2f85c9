"""The row proxy ``r`` that lambdas receive."""

from __future__ import annotations

from ._expr import Column
from .link import LinkRef, resolve


class RowProxy:
    """Stands for one row of a table while a lambda builds its expression.

    ``r.name`` and ``r["any name"]`` are column expressions; an unknown name raises
    :class:`~ltseq.ColumnNotFoundError` at once, listing the table's columns. ``r.alias.col``
    reads the column ``alias_col`` of a linked table (see :meth:`ltseq.LTSeq.link`).
    """

    __slots__ = ("_ltseq_columns", "_ltseq_zones")

    def __init__(self, columns: dict[str, str], zones: dict[str, str] | None = None) -> None:
        object.__setattr__(self, "_ltseq_columns", dict(columns))
        object.__setattr__(self, "_ltseq_zones", dict(zones or {}))  # time zones of timestamps

    def __getattr__(self, name: str) -> Column | LinkRef:
        columns = object.__getattribute__(self, "_ltseq_columns")
        if name in columns:
            return Column(name, columns[name], object.__getattribute__(self, "_ltseq_zones").get(name))
        if name.startswith("__") and name.endswith("__"):
            # Python's own protocol probes (copy, pickle, IPython) must see a plain miss.
            raise AttributeError(name)
        return resolve(name, columns)

    def __getitem__(self, name: str) -> Column | LinkRef:
        if not isinstance(name, str):
            raise TypeError(f"columns are named by strings, not {type(name).__name__}")
        columns = object.__getattribute__(self, "_ltseq_columns")
        if name in columns:
            return Column(name, columns[name], object.__getattribute__(self, "_ltseq_zones").get(name))
        return resolve(name, columns)

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError("the row proxy is read-only: return new columns from derive() instead")

    def __dir__(self) -> list[str]:
        return list(object.__getattribute__(self, "_ltseq_columns"))

    def __repr__(self) -> str:
        return f"<row {list(object.__getattribute__(self, '_ltseq_columns'))}>"
