"""Reads of `command_calls` for the host dashboard that `bot.py stats` does not give: how many
calls each command had on each UTC day.

Synchronous, on a read-only `sqlite3` connection of the caller's (the dashboard runs it on a
thread, beside the stats report), so it never waits behind the command log writer. One count
per (command, day), each a range of the covering index command_calls_by_command: no sort, and
the same [00:00, 24:00) UTC bounds as the report's days.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

DAY_MS = 86_400_000

_DAY_COUNT_SQL = """
SELECT count(*) FROM command_calls INDEXED BY command_calls_by_command
WHERE command = ? AND called_ms >= ? AND called_ms < ?
"""


def calls_per_day(
    conn: sqlite3.Connection, commands: Iterable[str], first_day_ms: int, days: int
) -> dict[str, tuple[int, ...]]:
    """Each command's calls on each of `days` UTC days from `first_day_ms` (00:00 UTC)."""
    counts: dict[str, tuple[int, ...]] = {}
    for command in commands:
        counts[command] = tuple(
            conn.execute(_DAY_COUNT_SQL, (command, start, start + DAY_MS)).fetchone()[0]
            for start in range(first_day_ms, first_day_ms + days * DAY_MS, DAY_MS)
        )
    return counts
