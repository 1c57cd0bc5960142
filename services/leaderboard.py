"""The reads behind /leaderboard and /profile: the in-memory standings and a player's numbers.

Nothing here writes. The standings are kept current by the ladder service's rating changes and
the player service's changes (bot.py wires both); this service only fills in the names of
players the standings met in a rating change, and reads /profile's numbers.
"""

from __future__ import annotations

from datetime import datetime

from cache.profiles import ProfileCache
from ladder.records import Profile
from ladder.standings import Standings
from storage.leaderboard import LeaderboardRepository


class LeaderboardService:
    """Read use cases over the leaderboard repository and the standings it loaded."""

    def __init__(self, repository: LeaderboardRepository, standings: Standings) -> None:
        self._repository = repository
        self._standings = standings

    async def name_new_players(self) -> None:
        """Read the names of the players the standings know by a rating only (once each)."""
        await self._repository.name_new_players(self._standings)

    @property
    def profile_cache(self) -> ProfileCache | None:
        """The kept profiles, for /admin status; None where none are kept (PostgreSQL)."""
        cache = self._repository.cache
        return cache if cache.enabled else None

    async def profile(self, uid: int, now: datetime) -> Profile:
        """Return the player's ratings, records, recent matches and aborts as of `now`."""
        return await self._repository.profile(uid, now)
