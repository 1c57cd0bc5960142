"""The profile cache: a player's /profile numbers, kept until one of them changes.

A /profile read three queries (ratings, finished matches with their totals, aborts): 270 us of
the bot's CPU on a 10k-player ladder, for numbers that change only when the player's own
matches, ratings or aborts do, an opponent of theirs changes name, or the clock moves a match
out of a 14/30/90-day window (or into the next month's aborts). Owned by
`storage.leaderboard.LeaderboardRepository`:

* every write is followed by the database's triggers (`Database.follow_player_changes`), and
  `changed` drops the players it names once their transaction committed;
* each entry carries the moment the clock alone would change it (`until`), and is not used
  from then on;
* a read that began before a write is not stored (the generation, as in `cache.players`);
* where writes cannot be followed (PostgreSQL, where other processes write), `enabled` stays
  False and every /profile reads.

The TTL is only a safety net; the size bounds memory (about 2 KB a profile).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final

from cachetools import TTLCache

from cache.players import CacheStats
from ladder.records import Profile

TTL_SECONDS: Final = 900
MAX_PROFILES: Final = 5_000


class ProfileCache:
    """Profiles by Discord id, each valid until a moment; hit/miss counters; a write generation."""

    def __init__(
        self,
        maxsize: int = MAX_PROFILES,
        ttl: float = TTL_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        # uid -> (profile, the `now` it was read for, the moment the clock alone changes it)
        self._entries: TTLCache[int, tuple[Profile, datetime, datetime]] = TTLCache(
            maxsize, ttl, timer=timer
        )
        self.enabled = False  # True once every write is followed
        self.hits = 0
        self.misses = 0
        self.invalidations = 0
        # Bumped on every invalidation: a read stores its result only if none happened since it
        # began (otherwise it could put back what a write had just dropped).
        self.generation = 0

    def get(self, uid: int, now: datetime) -> Profile | None:
        """The player's profile as of `now`, or None (not cached, or the clock changed it)."""
        entry = self._entries.get(uid)
        # Before the moment it was read for (a clock stepped back), its windows may differ too.
        if entry is None or not entry[1] <= now < entry[2]:
            self.misses += 1
            return None
        self.hits += 1
        return entry[0]

    def put(
        self, uid: int, profile: Profile, read_for: datetime, until: datetime, generation: int
    ) -> None:
        """Keep what a read for `read_for` found, until `until`, unless a write came since
        `generation`."""
        if self.enabled and generation == self.generation:
            self._entries[uid] = (profile, read_for, until)

    def changed(self, uids: Iterable[int | None]) -> None:
        """Drop these players' profiles (None among them: everyone's); after a commit."""
        self.generation += 1
        self.invalidations += 1
        for uid in uids:
            if uid is None:
                self._entries.clear()
                return
            self._entries.pop(uid, None)

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._entries), self.invalidations)
