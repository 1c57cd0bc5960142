#!/usr/bin/env bash
# Run the test suite: sets up .venv on first use, then runs ruff, mypy and pytest (extra arguments
# go to pytest).
source "$(dirname "$0")/scripts/venv.sh"
ensure_venv test
.venv/bin/ruff check .
.venv/bin/mypy  # what it checks and how: [tool.mypy] in pyproject.toml
# Cache compiled and assertion-rewritten test modules in __pycache__ even where the machine sets
# PYTHONDONTWRITEBYTECODE (this one does): otherwise every worker rewrites ~240 test modules at
# each run, 3-4 s of CPU each. (The bots the tests start set it again for themselves.)
unset PYTHONDONTWRITEBYTECODE
# Six workers: most e2e tests wait on a bot process, so even 2 cores keep 6 busy (full suite on
# this 2-core machine: 2:42-2:43 with 6, 2:52 with 8; before the bot's faster ready, 8 and 10
# workers: 2:55, 3:26). Work stealing: an idle worker takes
# tests queued behind another's slow ones (with plain load balancing one worker ran the paced
# wave tests alone for the last 45 s). Give -n 0 (or another -n) to override; TEST_WORKERS sets
# the default.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-6}" --dist worksteal "$@"
