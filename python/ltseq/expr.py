"""Expressions: :class:`Expr` and the helpers that build them (``if_else``, ``lit``), and the
ranking window functions (``row_number``, ``rank``, ``dense_rank``, ``ntile``).

This is the public face: the core nodes live in ``ltseq._expr``, the window functions in
``ltseq.window``, the string and time accessors in ``ltseq.accessors``, links in
``ltseq.link``; each adds its methods to :class:`Expr`.
"""

from __future__ import annotations

from ._expr import (
    Alias,
    Between,
    BinaryOp,
    Cast,
    Column,
    Expr,
    Func,
    IfElse,
    InList,
    IsNull,
    Literal,
    UnaryOp,
    if_else,
    lit,
)
from .window import Window, dense_rank, ntile, rank, row_number

__all__ = ["Expr", "Column", "Literal", "if_else", "lit", "row_number", "rank", "dense_rank", "ntile"]
__all__ += ["Alias", "Between", "BinaryOp", "Cast", "Func", "IfElse", "InList", "IsNull", "UnaryOp", "Window"]
