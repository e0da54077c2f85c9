"""Installing ltseq into a stock ``datafusion.SessionContext``."""

from __future__ import annotations

import datetime
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

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
    functions, and ltseq's operators as table functions (``ltseq_group_ordered(...)``,
    ``ltseq_link(...)``, ...; see ``table_functions()``). Calling it again is harmless. With
    ``planner=True`` it also installs ltseq's query planner and codecs, which plan ltseq's
    operators as extension nodes inside the host's own plans; it then returns the context
    handle that carries the codecs (the planner itself applies to the whole session). Returns
    the context.
    """
    check_datafusion_version()
    import datafusion

    if not isinstance(ctx, datafusion.SessionContext):
        raise TypeError(f"register() takes a datafusion.SessionContext, not {type(ctx).__name__}")
    for function in _native.window_functions():
        ctx.register_udwf(datafusion.udwf(function))
    for name in _native.table_function_names():
        call = functools.partial(_call_table_function, name)
        ctx.register_udtf(datafusion.udtf(call, name, with_session=True))
    if not ctx.table_exist(FUNCTIONS_TABLE):
        ctx.register_record_batches(FUNCTIONS_TABLE, [functions().to_batches()])
    share_memory_limit(ctx)
    if planner and not getattr(ctx, _PLANNER_MARK, False):
        ctx = ctx.with_extensions(_native.Extension())
        # the codecs cannot be installed twice on a session: remember this handle has them
        setattr(ctx, _PLANNER_MARK, True)
    return ctx


_PLANNER_MARK = "_ltseq_planner_installed"

# The host calls a table function while it plans, inside its own runtime, where looking a table
# up (which waits on that runtime) is refused: the lookup runs on this thread instead.
_LOOKUPS = ThreadPoolExecutor(1, thread_name_prefix="ltseq-lookup")


def _call_table_function(name: str, *args: Any, session: Any) -> Any:
    """One of ltseq's table functions called from SQL in ``session``: the Rust function
    itself, with the input tables' schemas looked up in ``session``."""

    def schema_of(table: str) -> Any:
        return _LOOKUPS.submit(lambda: session.table(table).schema()).result()

    try:
        return _native.call_table_function(name, [_argument(a) for a in args], schema_of)
    except ValueError as e:
        raise _TableFunctionError(str(e)) from None


class _TableFunctionError(ValueError):
    """A table function's error: the host quotes its ``repr`` in the message the user sees,
    so that is the plain message (not one with every quote escaped)."""

    def __repr__(self) -> str:
        return str(self)


def _argument(expr: Any) -> tuple[bool, Any]:
    """A table function's argument as the native side takes it: ``(True, value)`` for a
    literal, ``(False, text)`` for anything else (which the function reports)."""
    if expr.variant_name() == "Literal":
        value = expr.python_value().as_py()
        if isinstance(value, pa.MonthDayNano):  # an INTERVAL: a duration when it has no months
            months, days, nanos = value
            text = f"INTERVAL '{months} months {days} days {nanos} nanoseconds'"
            value = text if months else datetime.timedelta(days=days, microseconds=nanos // 1000)
        return True, value
    return False, expr.canonical_name()


def share_memory_limit(ctx: Any) -> int | None:
    """Gives ltseq's operators in ``ctx`` the host's memory limit
    (``datafusion.runtime.memory_limit``, set by ``RuntimeEnvBuilder().with_fair_spill_pool(n)``
    or ``SET``), which DataFusion's FFI does not pass on; returns it in bytes (``None``:
    unlimited). ``register()`` calls it; call it again after changing the limit with ``SET``."""
    value = _setting(ctx, "datafusion.runtime.memory_limit")
    limit = None if value in (None, "", "unlimited") else _bytes(str(value))
    _native.set_memory_limit(ctx.session_id(), limit)
    return limit


def _setting(ctx: Any, name: str) -> Any:
    """The value of the configuration setting ``name`` of ``ctx`` (``None`` if it cannot say)."""
    try:
        return _show(ctx, name)
    except Exception:  # SHOW needs information_schema: on for the moment it takes  # noqa: BLE001
        try:
            ctx.sql("SET datafusion.catalog.information_schema = true").collect()
            try:
                return _show(ctx, name)
            finally:
                ctx.sql("SET datafusion.catalog.information_schema = false").collect()
        except Exception:  # noqa: BLE001
            return None


def _show(ctx: Any, name: str) -> Any:
    rows = ctx.sql(f"SHOW {name}").to_pydict()
    return (rows.get("value") or [None])[0]


def _bytes(text: str) -> int | None:
    """``"500M"``, ``"1.5G"``, ``"1024K"`` (DataFusion's form of a limit) in bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper()
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        return int(float(number) * scale)
    except ValueError:
        return None


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


def register_ordered(ctx: Any, name: str, data: Any, order_by: str | list[str], *, partitions: int = 1) -> None:
    """Registers ``data`` in ``ctx`` as the in-memory table ``name``, declared sorted by
    ``order_by`` (ascending, NULLs last), so that DataFusion and ltseq's operators skip the sort
    for that order (``OVER (PARTITION BY a ORDER BY b)`` on a table ordered by ``a, b``).

    ``data`` is a pyarrow Table, a pandas or Polars DataFrame, an ``LTSeq`` (in its order) or
    anything with ``__arrow_c_stream__``; its rows are read in their order and checked: rows
    out of that order are a ``ValueError`` naming the first one. The rows are split into
    ``partitions`` consecutive ranges (default one: DataFusion then keeps the order through
    ``PARTITION BY`` repartitioning instead of sorting each range again).
    """
    check_datafusion_version()
    columns = [order_by] if isinstance(order_by, str) else list(order_by)
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    ctx.register_table(name, _native.ordered_table(_arrow_stream(data), columns, partitions))


def _arrow_stream(data: Any) -> Any:
    """``data`` as something with ``__arrow_c_stream__``."""
    if hasattr(data, "to_arrow") and hasattr(data, "sort_keys"):  # an LTSeq, in its order
        return data.to_arrow()
    if type(data).__module__.split(".")[0] == "pandas":
        import pyarrow as pa

        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if hasattr(data, "to_arrow"):  # older Polars
        return data.to_arrow()
    raise TypeError(
        "register_ordered() takes a pyarrow Table, a pandas or Polars DataFrame, an LTSeq or "
        f"an object with __arrow_c_stream__, not {type(data).__name__}"
    )


FUNCTIONS_TABLE = "ltseq_functions"


def functions() -> Any:
    """ltseq's SQL window functions as a ``pyarrow.Table`` (``function_name``,
    ``function_type``, ``description``, ``syntax``), from each function's Rust documentation.
    ``register(ctx)`` also registers it as the table ``ltseq_functions`` (unless the context
    has a table of that name): DataFusion's FFI does not carry a function's documentation, so a
    stock context's ``information_schema.routines`` has no description for ltseq's functions.
    The table functions (``table_functions()``) are described in docs/sql-reference.md."""
    import pyarrow as pa

    window = _native.window_functions()
    return pa.table(
        {
            "function_name": [f.name for f in window],
            "function_type": ["WINDOW"] * len(window),
            "description": [f.description for f in window],
            "syntax": [f.syntax for f in window],
        }
    )


def sql_functions() -> list[str]:
    """The names of the SQL window functions ltseq registers."""
    return [f.name for f in _native.window_functions()]


def table_functions() -> list[str]:
    """The names of the SQL table functions ltseq registers (its operators)."""
    return list(_native.table_function_names())
