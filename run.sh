#!/usr/bin/env bash
# Run the bot: sets up .venv on first use, then starts bot.py (extra arguments are passed on).
source "$(dirname "$0")/scripts/venv.sh"
ensure_venv test
exec .venv/bin/python bot.py "$@"
