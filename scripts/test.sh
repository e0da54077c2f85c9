#!/usr/bin/env bash
# One command to run every test from a fresh clone: sets up (scripts/setup.sh: .venv, the
# build), then the Rust unit tests and the .slt suites against a Rust SessionContext (cargo
# test), the Python suite (which also runs the .slt files against a stock
# datafusion.SessionContext, the examples and the docs' examples), and the linters.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

echo "== cargo test (Rust units, .slt against a Rust SessionContext)"
cargo test --workspace

echo "== pytest (DSL, register, routes, .slt against a stock datafusion.SessionContext)"
python -m pytest -q python/tests

echo "== lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
ruff check python examples scripts
ruff format --check python examples scripts
mypy                                   # type-checks the public package (config in pyproject.toml)
