"""The queue's use cases: what a player queues with, joining and leaving, and the waves that
pair the queue into matches (each one transaction, see `services.ladder_core`)."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import aiosqlite

from i18n import N_
from ladder.config import LadderConfig
from ladder.errors import ConflictError, GuardRefusal, ValidationError
from ladder.guards import Access, CommandRule, check_access
from ladder.matchmaking import QueueEntry, RaceRating, run_wave, validate_vetoes
from ladder.records import MatchRecord, QueuePreferences, QueueStatus
from services.ladder_core import LadderCore
from storage.database import Reader

log = logging.getLogger(__name__)


# What joining the queue requires, whichever path it comes by (the command, a Join button).
QUEUE_RULE = CommandRule(Access.SETUP, dm_only=False)

# Asked first thing in a wave's transaction whether the wave may go on (bot.py sets the
# leader's `storage.leader.Leadership.fence` on PostgreSQL: one wave at a time, only by the
# process that still leads); False makes the wave do nothing.
type WaveFence = Callable[[aiosqlite.Connection], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Wave:
    """What one matchmaking wave did: the matches made, the queue entries their players left."""

    matches: list[MatchRecord]
    left_queue: list[QueueStatus]


class QueueService:
    """Queue preferences, joining and leaving the queue, and pairing it."""

    def __init__(self, core: LadderCore, *, rng: random.Random | None = None) -> None:
        self._core = core
        self._rng = rng if rng is not None else random.Random()
        self._players = core.players
        self._queue = core.queue
        self._matches = core.matches
        self._ratings = core.ratings
        self.fence: WaveFence | None = None

    @property
    def config(self) -> LadderConfig:
        """The settings in force (the current season's map pool), read from the core."""
        return self._core.config

    async def queue_preferences(self, uid: int) -> QueuePreferences:
        """Return what the player queued with last time, else the first race and no vetoes."""
        prefs = await self._queue.preferences(self._core.reader, uid)
        races = tuple(r for r in prefs.races if r in self.config.race_codes) if prefs else ()
        vetoes = tuple(m for m in prefs.vetoes if m in self.config.map_pool) if prefs else ()
        return QueuePreferences(
            races or self.config.race_codes[:1], vetoes[: self.config.max_vetoes]
        )

    async def join_queue(
        self,
        uid: int,
        races: Sequence[str],
        vetoes: Sequence[str],
        message: tuple[int, int] | None = None,
    ) -> QueueStatus:
        """Put the player in the queue with these races and vetoes, remembering the choice.

        `message` (channel id, message id): the message that will show his wait, recorded in
        the same transaction, so a wave that pairs him at once finds it to edit.
        """
        prefs = QueuePreferences(self._valid_races(races), self._valid_vetoes(vetoes))
        async with self._core.write() as conn:
            now = self._core.now()
            await self._check_can_queue(conn, uid)
            await self._queue.save_preferences(conn, uid, prefs, now)
            await self._ratings.ensure(conn, uid, prefs.races, self.config.rating.start)
            await self._queue.add(conn, uid, prefs, now)
            if message is not None:
                await self._queue.set_message(conn, uid, *message)
            status = await self._queue.get(conn, uid)
        assert status is not None
        log.info("Player %s joined the queue with %s", uid, ", ".join(prefs.races))
        return status

    async def leave_queue(self, uid: int) -> bool:
        """Take the player out of the queue; False if he was not in it (e.g. just matched)."""
        async with self._core.write() as conn:
            removed = await self._queue.remove(conn, uid)
        return removed is not None

    async def queue_status(self, uid: int) -> QueueStatus | None:
        """Return the player's queue entry, if he is queued."""
        return await self._queue.get(self._core.reader, uid)

    async def check_free_to_queue(self, uid: int) -> None:
        """Raise ConflictError if the player is queued or in an active match (/queue asks
        before showing its menu; join_queue asks again inside its transaction)."""
        await self._check_free_to_queue(self._core.reader, uid)

    async def run_wave(self) -> list[MatchRecord]:
        """Pair the queue once: create the matches and take their players out of the queue."""
        return (await self.pair_queue()).matches

    async def pair_queue(self) -> Wave:
        """run_wave, also returning the queue entries the matched players left (their queue
        messages now tell an old story)."""
        start = self.config.rating.start
        async with self._core.write() as conn:
            if self.fence is not None and not await self.fence(conn):
                return Wave([], [])
            now = self._core.now()
            # Read inside the transaction: a player who left before this point is not here,
            # and one who leaves after it finds his entry gone (he was matched).
            skip = await self._matches.active_uids(conn) | await self._queue.ineligible(conn)
            mmrs = await self._ratings.mmrs_of_queued(conn)
            entries = []
            statuses = await self._queue.all(conn)
            for s in statuses:
                races = [r for r in s.races if r in self.config.race_codes]
                if s.uid in skip or not races:
                    continue
                ratings = tuple(RaceRating(r, mmrs.get((s.uid, r), start)) for r in races)
                entries.append(
                    QueueEntry(s.uid, ratings, s.joined_at, frozenset(s.vetoes), s.waves_waited)
                )
            rematch_since = now - timedelta(minutes=self.config.matchmaking.rematch_minutes)
            recent = await self._matches.recent_pairings(conn, rematch_since)
            wave = run_wave(
                entries, self.config.matchmaking, self.config.map_pool, self._rng, recent
            )
            deadline = now + self.config.matches.confirmation_window
            ids = await self._matches.create(conn, wave.pairings, now, deadline)
            matched = {uid for p in wave.pairings for uid in (p.uid_a, p.uid_b)}
            left = [s for s in statuses if s.uid in matched]
            await self._queue.remove_many(conn, sorted(matched))
            await self._queue.count_wave(conn, [e.uid for e in wave.waiting])
            created = await self._matches.many(conn, ids)
        if created or entries:
            log.info("Wave: %d queued, %d matches made", len(entries), len(created))
        return Wave(created, left)

    async def _check_can_queue(self, conn: aiosqlite.Connection, uid: int) -> None:
        # The same rules as /queue's guards, read inside the transaction: a Join button on a
        # message shown before the player declined the terms (or was banned) is refused too.
        player = await self._players.require(uid)
        try:
            check_access(QUEUE_RULE, player, is_admin=False, in_dm=True, dm_only_enabled=False)
        except GuardRefusal as refusal:
            raise ConflictError(refusal.message, **refusal.params) from None
        await self._check_free_to_queue(conn, uid)

    async def _check_free_to_queue(self, conn: Reader, uid: int) -> None:
        # The queue rule, written once: one queue entry per player, none while in a match.
        if await self._queue.get(conn, uid) is not None:
            raise ConflictError(N_("You are already in the queue. Use its Cancel button to leave."))
        match = await self._matches.active_of(conn, uid)
        if match is not None:
            raise ConflictError(
                N_("You are in match #{match}: finish or abort it first."), match=match.id
            )

    def _valid_races(self, races: Sequence[str]) -> tuple[str, ...]:
        chosen = {self._core.valid_race(r) for r in races}
        if not chosen:
            raise ValidationError("races", N_("Pick at least one race to queue with."))
        return tuple(r for r in self.config.race_codes if r in chosen)

    def _valid_vetoes(self, vetoes: Sequence[str]) -> tuple[str, ...]:
        chosen = validate_vetoes(vetoes, self.config.map_pool, self.config.max_vetoes)
        return tuple(m for m in self.config.map_pool if m in chosen)
