"""Writes docs/sql-reference.md from the Documentation of each ltseq SQL function (Rust).

Run after changing a function's documentation: python scripts/gen_sql_reference.py
python/tests/test_docs.py fails while the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ltseq import _native

HEADER = """# ltseq SQL reference

Generated from each function's Rust `Documentation` by `scripts/gen_sql_reference.py`; do not
edit by hand. Register the functions with `ltseq.register(ctx)` (stock Python
`datafusion.SessionContext`) or `ltseq_udf::register_all(&ctx)` (Rust).

## Window functions

"""

OPERATORS = """## Operators

### `Sequence`

The rows of a table in their input order, plus a BIGINT ordinal that increases along that order
(not dense: partition `p` of the input starts at `p * 2^40`). `ORDER BY` the ordinal gives back
the input's order however many partitions the input is read in.

- Rust session: the table function `ltseq_sequence('table' [, 'ordinal_column'])`
  (after `ltseq_planner::register_table_functions(&ctx)`, or in
  `ltseq_planner::session_context_with_ltseq(config)`).
- Stock Python context: `ltseq.register_sequence(ctx, 'name', 'table', ordinal='__ltseq_rn')`
  registers a table `name`.

```sql
SELECT k, __ltseq_rn FROM ltseq_sequence('events') ORDER BY __ltseq_rn
```
"""


def render() -> str:
    return HEADER + _native.sql_reference_markdown() + OPERATORS


def main() -> int:
    path = Path(__file__).resolve().parents[1] / "docs" / "sql-reference.md"
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
