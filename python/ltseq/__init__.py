"""ltseq: ordered (sequence) computing for Apache DataFusion.

- ``ltseq.register(ctx)`` installs ltseq's SQL functions (``run_id``, ...) into a stock
  ``datafusion.SessionContext``.
- ``LTSeq`` is an ordered, lazy, immutable table whose lambdas compile to SQL on DataFusion.
"""

from __future__ import annotations

from . import accessors as _accessors  # noqa: F401  (adds .s / .dt to expressions)
from ._native import __version__
from .exceptions import (
    ColumnNotFoundError,
    IncompatibleDataFusionError,
    LTSeqError,
    QueryError,
    SchemaMismatchError,
    SortRequiredError,
)
from .expr import Expr, dense_rank, if_else, lit, ntile, rank, row_number
from .group import NestedTable
from .numeric import coalesce, when  # (importing it adds the math methods to expressions)
from .register import (
    DATAFUSION_MAJOR,
    check_datafusion_version,
    functions,
    register,
    register_ordered,
    register_sequence,
    sql_functions,
    table_functions,
)
from .table import LinkedTable, LTSeq

__all__ = [
    "__version__",
    "LTSeq",
    "LinkedTable",
    "NestedTable",
    "register",
    "register_ordered",
    "register_sequence",
    "sql_functions",
    "table_functions",
    "functions",
    "check_datafusion_version",
    "DATAFUSION_MAJOR",
    "Expr",
    "if_else",
    "lit",
    "when",
    "coalesce",
    "row_number",
    "rank",
    "dense_rank",
    "ntile",
    "LTSeqError",
    "SortRequiredError",
    "SchemaMismatchError",
    "ColumnNotFoundError",
    "IncompatibleDataFusionError",
    "QueryError",
]
