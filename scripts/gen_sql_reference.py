"""Writes docs/sql-reference.md from the Documentation of each ltseq SQL function and the
operator reference (`planner-ext/src/reference.rs`), both in Rust.

Run after changing a function's documentation: python scripts/gen_sql_reference.py
python/tests/test_docs.py fails while the file is out of date.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ltseq import _native

HEADER = """# ltseq SQL reference

Generated from each function's Rust `Documentation` by `scripts/gen_sql_reference.py`; do not
edit by hand. Register the functions with `ltseq.register(ctx)` (stock Python
`datafusion.SessionContext`) or `ltseq_udf::register_all(&ctx)` (Rust). In a Rust session
`information_schema.routines` describes each function; DataFusion's FFI does not carry a
function's documentation to a stock Python context, so there `register(ctx)` also adds the
table `ltseq_functions` (`function_name`, `function_type`, `description`, `syntax`):
`SELECT * FROM ltseq_functions`.

## Rules every function follows

- **The window is the function's arguments.** `rolling_sum(v, 3)` sees three rows, `cum_sum(v)`
  every row so far in its partition. A window frame other than the one DataFusion gives a call
  that states none (`ROWS BETWEEN 1 PRECEDING AND CURRENT ROW`, `GROUPS ...`, `... FOLLOWING`),
  `DISTINCT` and `IGNORE NULLS` would change that meaning: each is an error naming the clause,
  never silently ignored. `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW` and `ROWS
  UNBOUNDED PRECEDING` (the defaults, written out) are accepted.
- **Equality of floats is SQL's**: -0.0 equals 0.0 and every NaN equals every NaN, for
  `run_id` and for every key ltseq's operators compare (ordered groups, links, window and
  pattern partitions), as DataFusion's `=`, `GROUP BY` and joins do (ltseq also treats NaNs of
  either sign bit as one value, as PostgreSQL and DuckDB do).
- **A window's result depends only on the rows in it**: an outlier, an infinity or a NaN that
  has left a rolling window leaves no trace in later windows. Float sums overflow to infinity
  (never NaN unless the window holds both infinities or a NaN); integer sums wrap as
  DataFusion's `sum` does; a decimal sum beyond 38 digits is an error.

## Window functions

"""


ROOT = Path(__file__).resolve().parents[1]


def sql_only_chapter() -> str:
    """The "SQL only" chapter, from the queries `examples/sql_only.py` runs."""
    spec = importlib.util.spec_from_file_location("sql_only", ROOT / "examples" / "sql_only.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = [
        "## SQL only",
        "",
        "Ordered questions answered in SQL alone, on a stock `datafusion.SessionContext` after "
        "`ltseq.register(ctx)` (or a Rust session with ltseq): the queries `examples/sql_only.py` "
        "runs on the bundled data. The tables:",
        "",
        "```sql",
        *(f"{sql};" for sql in example.SETUP),
        "```",
    ]
    for title, text, sql in example.QUERIES:
        out += ["", f"### {title}", "", text, "", "```sql", sql.strip() + ";", "```"]
    return "\n".join(out) + "\n"


def render() -> str:
    return HEADER + _native.sql_reference_markdown() + "\n" + sql_only_chapter()


def main() -> int:
    path = ROOT / "docs" / "sql-reference.md"
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
