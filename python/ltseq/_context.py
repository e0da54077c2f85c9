"""The SessionContext an LTSeq runs on: a private default one, or the user's own."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from .register import register

_lock = threading.Lock()
_default: Any = None
_registered: weakref.WeakSet[Any] = weakref.WeakSet()


def default_context() -> Any:
    """ltseq's private ``SessionContext`` (created on first use, ltseq registered in it)."""
    global _default
    with _lock:
        if _default is None:
            from datafusion import SessionContext

            ctx = SessionContext()
            register(ctx)
            _registered.add(ctx)
            _default = ctx
        return _default


def ensure_registered(ctx: Any) -> Any:
    """Registers ltseq in a user's context the first time an LTSeq uses it."""
    with _lock:
        if ctx not in _registered:
            register(ctx)
            _registered.add(ctx)
    return ctx


# Tables ltseq registered for DataFrames handed out by ``LTSeq.to_datafusion()``: a DataFrame
# (and every DataFrame derived from it) refers to them by name, so they stay registered for as
# long as the context lives.
_pinned: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


def pin(ctx: Any, sources: Any) -> None:
    """Keeps ``sources`` (and so their registered tables) alive while ``ctx`` is."""
    with _lock:
        _pinned.setdefault(ctx, []).append(sources)
