"""What the host dashboard shows beside the `bot.py stats` report: calls per day per command,
and the running bot's live counters (command log writer, player cache, database size).

The dashboard takes the report itself from `app.stats`'s public functions; this module gives it
what that report does not, so the website reads storage only through services.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from cache.players import CacheStats
from storage import analytics
from storage.command_log import CommandLogStats

_EPOCH = date(1970, 1, 1)


class HasCommandLogStats(Protocol):
    """The command log writer, as far as its counters go."""

    def stats(self) -> CommandLogStats: ...


# A cache's counters, for the pages that show them (web reads services, not the cache).
type CacheCounters = CacheStats


class HasCacheStats(Protocol):
    """A cache (players, profiles), as far as its counters go."""

    def stats(self) -> CacheStats: ...


@dataclass(frozen=True, slots=True)
class LiveCounters:
    """The running bot's counters at one moment. Sizes in bytes."""

    command_log: CommandLogStats
    player_cache: CacheStats
    database_bytes: int
    wal_bytes: int
    profile_cache: CacheStats | None = None  # None: profiles are not kept (PostgreSQL)


def live_counters(
    command_log: HasCommandLogStats,
    player_cache: HasCacheStats,
    database_path: Path,
    profile_cache: HasCacheStats | None = None,
) -> LiveCounters:
    """Snapshot the writer's and the caches' counters and the database's file sizes."""
    return LiveCounters(
        command_log=command_log.stats(),
        player_cache=player_cache.stats(),
        database_bytes=_size(database_path),
        wal_bytes=_size(Path(f"{database_path}-wal")),
        profile_cache=profile_cache.stats() if profile_cache is not None else None,
    )


def calls_per_day(
    conn: sqlite3.Connection, commands: Iterable[str], first_day: date, days: int
) -> dict[str, tuple[int, ...]]:
    """Each command's calls on each UTC day from `first_day` on (`days` of them), read on the
    caller's read-only connection."""
    first_ms = (first_day - _EPOCH).days * analytics.DAY_MS
    return analytics.calls_per_day(conn, commands, first_ms, days)


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
