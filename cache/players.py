"""The player cache: a bounded TTLCache in front of the `players` table.

Owned by `storage.players.PlayerRepository`, which reads through it and clears a player's entry
as part of every write to that player; the 900 s TTL is only a safety net. Unknown users are
cached too (as `ABSENT`), so a newcomer's repeated commands do not hit the database either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cachetools import TTLCache

from ladder.players import Player

TTL_SECONDS: Final = 900
MAX_PLAYERS: Final = 50_000


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""Cached for a user with no player row: a known miss, not a cache miss."""


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters for /admin status and the stats report."""

    hits: int
    misses: int
    size: int
    invalidations: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class PlayerCache:
    """Player records by Discord id, with hit/miss counters and a write generation."""

    def __init__(
        self,
        maxsize: int = MAX_PLAYERS,
        ttl: float = TTL_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[int, Player | _Absent] = TTLCache(maxsize, ttl, timer=timer)
        self.hits = 0
        self.misses = 0
        self.invalidations = 0
        # Bumped on every invalidation. A reader notes it before going to the database and
        # stores its result only if no write happened meanwhile; otherwise a read that started
        # before a write could put the old record back after the write cleared it.
        self.generation = 0

    def get(self, uid: int) -> Player | _Absent | None:
        """Return the cached record, ABSENT for a known non-player, None on a miss."""
        entry = self._entries.get(uid)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, uid: int, player: Player | None, generation: int) -> None:
        """Store what a read found, unless a write invalidated anything since `generation`."""
        if generation == self.generation:
            self._entries[uid] = ABSENT if player is None else player

    def invalidate(self, uid: int) -> None:
        """Drop a player's entry; called by every write to that player."""
        self.generation += 1
        self.invalidations += 1
        self._entries.pop(uid, None)

    def clear(self) -> None:
        """Drop everything (after a bulk change)."""
        self.generation += 1
        self._entries.clear()

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._entries), self.invalidations)
