#!/usr/bin/env bash
# Run the test suite: sets up .venv on first use, then runs ruff, mypy and pytest (extra arguments
# go to pytest).
source "$(dirname "$0")/scripts/venv.sh"
ensure_venv test
.venv/bin/ruff check .
.venv/bin/mypy  # what it checks and how: [tool.mypy] in pyproject.toml
# Four workers: most e2e tests wait on the bot process, so even 2 cores keep 4 busy. Give -n 0
# (or another -n) to override; TEST_WORKERS sets the default.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-4}" "$@"
