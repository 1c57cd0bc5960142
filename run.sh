#!/usr/bin/env bash
# Run the bot: sets up .venv on first use, then starts bot.py (extra arguments are passed on).
# `./run.sh playground` tries it without a Discord token (a local Discord, in the browser).
source "$(dirname "$0")/scripts/venv.sh"
ensure_venv test
exec .venv/bin/python bot.py "$@"
