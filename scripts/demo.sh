#!/usr/bin/env bash
# One command for a new user: sets up (scripts/setup.sh) and runs the demo on the bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
python examples/demo.py
