#!/usr/bin/env bash
# Run the test suite: sets up .venv on first use, then runs ruff and pytest (extra arguments go to pytest).
source "$(dirname "$0")/scripts/venv.sh"
ensure_venv test
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
