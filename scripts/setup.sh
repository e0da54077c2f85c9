#!/usr/bin/env bash
# Sets up a development environment from a fresh clone: creates .venv if it is missing, and
# builds and installs ltseq into it (the Rust extension with maturin, plus the test
# dependencies). Safe to run again: an up-to-date build takes seconds. Sourced by demo.sh and
# test.sh, which leave the environment active.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# Builds the Rust extension in the `dev` profile, shared with `cargo test` (maturin; about 14
# minutes cold on 2 cores, seconds after) and installs ltseq with its test dependencies.
MATURIN_PEP517_ARGS="--profile dev" python -m pip install --quiet -e '.[test]'
