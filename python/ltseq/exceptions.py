"""ltseq's exceptions. Each also subclasses the builtin exception a Python user would expect."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LTSeqError(Exception):
    """Base class of every error ltseq raises itself."""


class SortRequiredError(LTSeqError, ValueError):
    """An ordered operation was called on a table whose order is not declared."""


class SchemaMismatchError(LTSeqError, ValueError):
    """Two tables (or a table and an expression) do not fit together."""


class ColumnNotFoundError(LTSeqError, ValueError, AttributeError):
    """A column name that the table does not have. Names the column and lists the columns."""

    def __init__(self, name: str, columns: Iterable[str], where: str | None = None) -> None:
        self.name = name
        self.columns = list(columns)
        listing = ", ".join(repr(c) for c in self.columns) or "(none)"
        message = f"column {name!r} not found"
        if where:
            message += f" in {where}"
        message += f"; available columns: {listing}"
        close = difflib.get_close_matches(name, self.columns, n=1)
        if close:
            message += f". Did you mean {close[0]!r}?"
        super().__init__(message)


class IncompatibleDataFusionError(LTSeqError, RuntimeError):
    """The installed ``datafusion`` package is not the major version ltseq was built for."""


class QueryError(LTSeqError, ValueError):
    """DataFusion rejected the query ltseq built (planning or execution failed)."""


__all__ = [
    "LTSeqError",
    "SortRequiredError",
    "SchemaMismatchError",
    "ColumnNotFoundError",
    "IncompatibleDataFusionError",
    "QueryError",
]
