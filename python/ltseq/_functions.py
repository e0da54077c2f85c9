"""What DataFusion and ltseq's native module say about a window function call before it runs:
its result type, whether ltseq's Window operator evaluates it, or the function's own error.
No rule about a function is written in Python: the native module asks the function itself (its
argument coercion, its evaluator's checks of constants, its result field)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa

from . import _native
from ._types import arrow_type, dtype_name

# The constants the native module takes as window arguments (others stay SQL expressions).
OPERATOR_CONSTANTS = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class CallInfo:
    dtype: str  # ltseq's type name of the result ("unknown" when an argument's type is)
    operator: bool  # whether ltseq's Window operator evaluates the call


@lru_cache(maxsize=4096)
def _describe(function: str, args: tuple[tuple[str, str, Any], ...]) -> tuple[str, bool]:
    typed = []
    for kind, dtype, value in args:
        t = arrow_type(dtype)
        typed.append((kind, t if t is not None else pa.null(), value))
    field, operator = _native.describe_window_call(function, typed)
    return dtype_name(pa.field(field).type), operator


def window_call(label: str, function: str, args: list[tuple[str, Any, bool]]) -> CallInfo:
    """Describes ``function(args)``; each argument is ``(ltseq type name, value, is_constant)``.
    Raises ``TypeError`` for arguments of the wrong type and ``ValueError`` for wrong constants,
    with the function's message after ``label`` (the expression as the user wrote it). A
    constant the native module cannot take (a date, a decimal) is checked by its type only."""
    key: list[tuple[str, str, Any]] = []
    for dtype, value, constant in args:
        if not constant:
            key.append(("value", dtype, None))
        elif isinstance(value, OPERATOR_CONSTANTS) and not _huge(value):
            key.append(("constant", dtype, value))
        else:
            key.append(("opaque", dtype, None))
    try:
        result, operator = _describe(function, tuple(key))
    except (TypeError, ValueError) as e:
        raise type(e)(f"{label}: {e}") from None
    unknown = any(arrow_type(dtype) is None for dtype, _, constant in args if not constant)
    return CallInfo("unknown" if unknown else result, operator)


def _huge(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63
