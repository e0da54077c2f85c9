"""Installing ltseq into a stock ``datafusion.SessionContext``."""

from __future__ import annotations

from typing import Any

from . import _native
from .exceptions import IncompatibleDataFusionError

#: The DataFusion major version ltseq was built against (the FFI needs the same on both sides).
DATAFUSION_MAJOR: int = _native.DATAFUSION_MAJOR


def check_datafusion_version() -> str:
    """Returns the installed ``datafusion`` version, or raises if its major version is not
    the one ltseq was built for."""
    import datafusion

    installed = getattr(datafusion, "__version__", "unknown")
    try:
        major = int(str(installed).split(".")[0])
    except ValueError:
        major = -1
    if major != DATAFUSION_MAJOR:
        raise IncompatibleDataFusionError(
            f"ltseq was built for DataFusion {DATAFUSION_MAJOR}.x, but the installed datafusion "
            f"package is {installed}; install a matching one: pip install "
            f"'datafusion>={DATAFUSION_MAJOR},<{DATAFUSION_MAJOR + 1}'"
        )
    return str(installed)


def register(ctx: Any, *, planner: bool = False) -> Any:
    """Installs every ltseq SQL function into ``ctx`` (a ``datafusion.SessionContext``).

    After it, SQL on ``ctx`` can use ``run_id(...) OVER (...)`` and the other ltseq window
    functions. Calling it again is harmless. With ``planner=True`` it also installs ltseq's
    query planner and codecs, which plan ltseq's operators as extension nodes inside the
    host's own plans; it then returns the context handle that carries the codecs (the
    planner itself applies to the whole session). Returns the context.
    """
    check_datafusion_version()
    import datafusion

    if not isinstance(ctx, datafusion.SessionContext):
        raise TypeError(f"register() takes a datafusion.SessionContext, not {type(ctx).__name__}")
    for function in _native.window_functions():
        ctx.register_udwf(datafusion.udwf(function))
    if planner and not getattr(ctx, _PLANNER_MARK, False):
        ctx = ctx.with_extensions(_native.Extension())
        # the codecs cannot be installed twice on a session: remember this handle has them
        setattr(ctx, _PLANNER_MARK, True)
    return ctx


_PLANNER_MARK = "_ltseq_planner_installed"


def register_sequence(ctx: Any, name: str, table: str, *, ordinal: str = "__ltseq_rn") -> None:
    """Registers in ``ctx`` a table ``name`` holding the rows of table ``table`` in their input
    order, plus a BIGINT column ``ordinal`` that increases along that order (the ``Sequence``
    operator; in a Rust session the same is the table function ``ltseq_sequence('table')``).

    ``ORDER BY <ordinal>`` gives back exactly the input's order, however many partitions the
    input is read in. The input is looked up by name each time the table is scanned, so it
    must stay registered.
    """
    check_datafusion_version()
    schema = ctx.table(table).schema()
    ctx.register_table(name, _native.sequence_table(table, schema, ordinal))


def sql_functions() -> list[str]:
    """The names of the SQL window functions ltseq registers."""
    return [f.name for f in _native.window_functions()]
