"""Player use cases: the terms, the profile, the country, and bans' effect on the record.

Every change to a player reaches every in-memory view of players (the leaderboard's standings
today) through one place: `PlayerChanges.publish`, called after the change's transaction has
committed. No cog updates a view itself. Changes made by other bot processes on the same
PostgreSQL come in through services.elsewhere and are published the same way.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from enum import StrEnum

import aiosqlite

from cache.players import PlayerCache
from i18n import LOCALES, N_
from ladder.errors import ValidationError
from ladder.players import Change, Player, ProfileDraft
from ladder.records import QueueStatus
from services.transactions import write_transaction
from storage.database import Database
from storage.players import PlayerRepository
from storage.queue import QueueRepository

log = logging.getLogger(__name__)


type PlayerListener = Callable[[Player], None]


class LeftQueue(StrEnum):
    """Why a player left the queue, when it was not his own Cancel (his queue message says)."""

    MATCHED = "matched"
    DECLINED = "declined"  # declined the terms
    DEQUEUED = "dequeued"  # an admin took him out
    CLEARED = "cleared"  # an admin emptied the queue
    BANNED = "banned"


type LeftQueueListener = Callable[[list[QueueStatus], LeftQueue], None]


class PlayerChanges:
    """Tells every subscriber the new state of a player whose record changed."""

    def __init__(self) -> None:
        self._listeners: list[PlayerListener] = []

    def subscribe(self, listener: PlayerListener) -> None:
        self._listeners.append(listener)

    def publish(self, player: Player) -> None:
        for listener in self._listeners:
            try:
                listener(player)
            except Exception:  # one broken view must not undo a committed change
                log.exception("A player-change listener failed for %s", player.discord_uid)


class PlayerService:
    """What players do to their own record; AdminService does what admins do (bans)."""

    def __init__(
        self,
        db: Database,
        players: PlayerRepository,
        queue: QueueRepository,
        changes: PlayerChanges,
        *,
        on_left_queue: LeftQueueListener | None = None,
    ) -> None:
        self._db = db
        self._players = players
        self._queue = queue
        self.changes = changes
        self.on_left_queue = on_left_queue

    @property
    def cache(self) -> PlayerCache:
        """The player cache, for /admin status's hit rate."""
        return self._players.cache

    async def get(self, uid: int) -> Player | None:
        return await self._players.get(uid)

    async def require(self, uid: int) -> Player:
        return await self._players.require(uid)

    async def check_names_free(
        self, uid: int, name: str, alts: Iterable[str], battletag: str | None = None
    ) -> None:
        """Refuse names (and a battletag) another player holds, before the player goes on."""
        await self._players.check_names_free(uid, name, alts)
        if battletag is not None:
            await self._players.check_battletag_free(uid, battletag)

    async def record_terms(self, uid: int, discord_name: str, accepted: bool) -> Player:
        """Accept or decline the terms; declining also takes the player out of the queue."""
        async with self.write(uid) as conn:
            await self._players.record_terms_in(conn, uid, discord_name, accepted)
            left = None if accepted else await self._queue.remove(conn, uid)
        if left is not None:
            log.info("Player %s declined the terms and left the queue", uid)
            if self.on_left_queue is not None:
                self.on_left_queue([left], LeftQueue.DECLINED)
        return await self._publish(uid)

    async def save_profile(self, uid: int, discord_name: str, draft: ProfileDraft) -> list[Change]:
        """Save a validated /setup profile; return the changes."""
        changes = await self._players.save_profile(uid, discord_name, draft)
        await self._publish(uid)
        return changes

    async def set_country(self, uid: int, country: str) -> Change | None:
        """Change the player's country; None if it was already set."""
        change = await self._players.set_country(uid, country)
        if change is not None:
            await self._publish(uid)
        return change

    async def set_language(
        self, uid: int, discord_name: str, language: str | None
    ) -> Change | None:
        """Choose the language the bot writes to the player in (None: their Discord client's)."""
        if language is not None and language not in LOCALES:
            raise ValidationError("language", N_("Please pick one of the languages offered."))
        change = await self._players.set_language(uid, discord_name, language)
        if change is not None:
            await self._publish(uid)
        return change

    @asynccontextmanager
    async def write(self, uid: int) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction that changes `uid`'s record; the cache entry is cleared after."""
        try:
            async with write_transaction(self._db, "Player") as conn:
                yield conn
        finally:
            self._players.cache.invalidate(uid)

    async def _publish(self, uid: int) -> Player:
        player = await self._players.require(uid)
        self.changes.publish(player)
        return player
