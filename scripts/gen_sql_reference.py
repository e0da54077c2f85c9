"""Writes docs/sql-reference.md from the Documentation of each ltseq SQL function and the
operator reference (`planner-ext/src/reference.rs`), both in Rust.

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


def render() -> str:
    return HEADER + _native.sql_reference_markdown()


def main() -> int:
    path = Path(__file__).resolve().parents[1] / "docs" / "sql-reference.md"
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
