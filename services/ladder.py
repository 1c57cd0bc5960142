"""The ladder's use cases: queue, waves, match actions, timeouts, admin actions and reads.

Every use case that writes is ONE transaction (`Database.transaction`, BEGIN IMMEDIATE under the
process-wide write lock): it loads the state it decides on inside the transaction, applies the
domain's rules (`ladder.matchmaking`, `ladder.reports`, `ladder.rating`) and writes the result,
so a double click, a report racing a timeout or a cancel racing a wave sees one consistent
order. All state lives in SQLite: deadlines are stored, so timers survive a restart
(`fire_due_timeouts`). After a commit that changed ratings, `on_ratings_changed` gets the new
rows (the leaderboard keeps its in-memory ranks current that way).
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit

import aiosqlite

from ladder.config import LadderConfig
from ladder.errors import (
    ConflictError,
    GuardRefusal,
    NotFoundError,
    ValidationError,
    quoted,
)
from ladder.guards import Access, CommandRule, check_access
from ladder.matchmaking import QueueEntry, RaceRating, run_wave, validate_vetoes
from ladder.players import Player
from ladder.rating import RatingChange, RatingKey, adjusted
from ladder.records import (
    DisputeRecord,
    MatchRecord,
    MatchUpdate,
    PlayerLookup,
    QueuePreferences,
    QueueStatus,
    RatingRow,
)
from ladder.reports import (
    Abort,
    Aborted,
    AdminRuling,
    Confirm,
    Corrected,
    Disputed,
    Event,
    Finalised,
    Invalidated,
    NotInMatchError,
    Outcome,
    Report,
    Ruling,
    aborts_left,
    apply_event,
    due_timeout,
    month_key,
)
from services.players import LeftQueue, LeftQueueListener, PlayerChanges
from services.ratings import RatingLedger, match_keys
from services.transactions import write_transaction
from storage.admin import QUEUE_TARGET, AdminActionRepository, match_target, player_target
from storage.database import Database
from storage.matches import AbortRepository, DisputeRepository, MatchRepository
from storage.players import PlayerRepository
from storage.queue import QueueRepository
from storage.ratings import RatingRepository

log = logging.getLogger(__name__)


NOTE_MAX = 1000
URL_MAX = 500
REASON_MAX = 1000
EVIDENCE_PER_PLAYER_MAX = 10  # per dispute: enough for a note and a few screenshots, no spam
MMR_AMOUNT_MAX = 10_000


# What joining the queue requires, whichever path it comes by (the command, a Join button).
QUEUE_RULE = CommandRule(Access.SETUP, dm_only=False)

type Decide = Callable[[aiosqlite.Connection, MatchRecord, datetime], Awaitable[Event | None]]


@dataclass(frozen=True, slots=True)
class Wave:
    """What one matchmaking wave did: the matches made, the queue entries their players left."""

    matches: list[MatchRecord]
    left_queue: list[QueueStatus]


def now_utc() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class LadderService:
    """The ladder's use cases; the Discord layer calls these and shows what they return."""

    def __init__(
        self,
        db: Database,
        players: PlayerRepository,
        config: LadderConfig,
        *,
        clock: Callable[[], datetime] = now_utc,
        rng: random.Random | None = None,
        on_ratings_changed: Callable[[list[RatingRow]], None] | None = None,
        player_changes: PlayerChanges | None = None,
        on_left_queue: LeftQueueListener | None = None,
    ) -> None:
        self._db = db
        # Told (after the commit) who left the queue other than by their own Cancel, so that
        # their queue messages can say so.
        self.on_left_queue = on_left_queue
        self._players = players
        self._player_changes = player_changes or PlayerChanges()
        self.config = config
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self.on_ratings_changed = on_ratings_changed
        self._queue = QueueRepository()
        self._matches = MatchRepository()
        self._disputes = DisputeRepository()
        self._aborts = AbortRepository()
        self._ratings = RatingRepository()
        self._admin = AdminActionRepository()
        self._ledger = RatingLedger(self._ratings, self._matches, config.rating)

    # --- queue ---------------------------------------------------------------------------

    async def queue_preferences(self, uid: int) -> QueuePreferences:
        """Return what the player queued with last time, else the first race and no vetoes."""
        prefs = await self._queue.preferences(self._read, uid)
        races = tuple(r for r in prefs.races if r in self.config.race_codes) if prefs else ()
        vetoes = tuple(m for m in prefs.vetoes if m in self.config.map_pool) if prefs else ()
        return QueuePreferences(
            races or self.config.race_codes[:1], vetoes[: self.config.max_vetoes]
        )

    async def join_queue(
        self, uid: int, races: Sequence[str], vetoes: Sequence[str]
    ) -> QueueStatus:
        """Put the player in the queue with these races and vetoes, remembering the choice."""
        prefs = QueuePreferences(self._valid_races(races), self._valid_vetoes(vetoes))
        async with self._write() as conn:
            now = self._now()
            await self._check_can_queue(conn, uid)
            await self._queue.save_preferences(conn, uid, prefs, now)
            await self._ratings.ensure(conn, uid, prefs.races, self.config.rating.start)
            await self._queue.add(conn, uid, prefs, now)
            status = await self._queue.get(conn, uid)
        assert status is not None
        log.info("Player %s joined the queue with %s", uid, ", ".join(prefs.races))
        return status

    async def set_queue_message(self, uid: int, channel_id: int, message_id: int) -> None:
        """Remember the message that shows the player's wait (ignored if he left meanwhile)."""
        async with self._write() as conn:
            await self._queue.set_message(conn, uid, channel_id, message_id)

    async def leave_queue(self, uid: int) -> bool:
        """Take the player out of the queue; False if he was not in it (e.g. just matched)."""
        async with self._write() as conn:
            removed = await self._queue.remove(conn, uid)
        return removed is not None

    async def queue_status(self, uid: int) -> QueueStatus | None:
        """Return the player's queue entry, if he is queued."""
        return await self._queue.get(self._read, uid)

    async def check_free_to_queue(self, uid: int) -> None:
        """Raise ConflictError if the player is queued or in an active match (/queue asks
        before showing its menu; join_queue asks again inside its transaction)."""
        await self._check_free_to_queue(self._read, uid)

    async def run_wave(self) -> list[MatchRecord]:
        """Pair the queue once: create the matches and take their players out of the queue."""
        return (await self.pair_queue()).matches

    async def pair_queue(self) -> Wave:
        """run_wave, also returning the queue entries the matched players left (their queue
        messages now tell an old story)."""
        start = self.config.rating.start
        async with self._write() as conn:
            now = self._now()
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
            wave = run_wave(entries, self.config.matchmaking, self.config.map_pool, self._rng)
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

    # --- matches -------------------------------------------------------------------------

    async def confirm(self, match_id: int, uid: int) -> MatchUpdate:
        """The player is ready to play; both confirmations start the match."""
        return await self._act(match_id, _event(Confirm(uid)))

    async def abort(self, match_id: int, uid: int) -> MatchUpdate:
        """Abort the match, spending one of the player's aborts this month."""

        async def decide(conn: aiosqlite.Connection, _: MatchRecord, now: datetime) -> Event:
            used = await self._aborts.used(conn, uid, month_key(now))
            return Abort(uid, aborts_left(used, self.config.matches.aborts_per_month))

        return await self._act(match_id, decide)

    async def report(self, match_id: int, uid: int, outcome: str) -> MatchUpdate:
        """Record the player's result ('win', 'loss' or 'draw', from his side)."""
        try:
            value = Outcome(outcome)
        except ValueError:
            raise ValidationError("outcome", "A result is **win**, **loss** or **draw**.") from None
        return await self._act(match_id, _event(Report(uid, value)))

    async def add_evidence(
        self, match_id: int, uid: int, note: str | None, url: str | None
    ) -> DisputeRecord:
        """Add a player's note and/or link to his disputed match, stored verbatim."""
        note, url = _valid_evidence(note, url)
        async with self._write() as conn:
            now = self._now()
            match = await self._require_match(conn, match_id)
            if uid not in match.players:
                raise NotInMatchError()
            dispute = await self._disputes.of_match(conn, match_id)
            if dispute is None:
                raise ConflictError("This match is not disputed, so it takes no evidence.")
            if not dispute.is_open:
                raise ConflictError("An admin has already decided this dispute.")
            if sum(e.uid == uid for e in dispute.evidence) >= EVIDENCE_PER_PLAYER_MAX:
                raise ConflictError(
                    f"You have already added {EVIDENCE_PER_PLAYER_MAX} pieces of evidence."
                )
            await self._disputes.add_evidence(conn, dispute.id, uid, note, url, now)
            dispute = await self._disputes.of_match(conn, match_id)
        assert dispute is not None
        return replace(dispute, match=match)

    async def fire_due_timeouts(self, skip: Collection[int] = ()) -> list[MatchUpdate]:
        """Apply every confirmation or report deadline that has passed; one transaction each.

        `skip`: matches whose DMs are still on their way; their confirmation window starts
        when the DM is sent, so they are not no-shows yet.
        """
        updates = []
        for match_id in await self._matches.due(self._read, self._now()):
            if match_id in skip:
                continue
            try:
                update = await self._act(match_id, self._due_timeout)
            except Exception:
                # One broken match must not stop the others' timers; it is retried next time.
                log.exception("Timeout of match %s failed", match_id)
                continue
            if update.changed:
                updates.append(update)
        return updates

    async def next_deadline(self) -> datetime | None:
        """Return the earliest pending deadline, for the timer to sleep until."""
        return await self._matches.next_deadline(self._read)

    async def get_match(self, match_id: int) -> MatchRecord:
        """Return the match, or raise NotFoundError."""
        return await self._require_match(self._read, match_id)

    async def open_match_of(self, uid: int) -> MatchRecord | None:
        """Return the match the player must confirm or report, if any."""
        return await self._matches.active_of(self._read, uid)

    async def open_matches(self) -> list[MatchRecord]:
        """Return every active or disputed match (to re-attach buttons after a restart)."""
        return await self._matches.open(self._read)

    async def aborts_left(self, uid: int) -> int:
        """Return how many aborts the player has left this month."""
        used = await self._aborts.used(self._read, uid, month_key(self._now()))
        return aborts_left(used, self.config.matches.aborts_per_month)

    async def record_match_message(
        self, match_id: int, uid: int, channel_id: int, message_id: int
    ) -> None:
        """Remember the message that shows this match to this player."""
        async with self._write() as conn:
            await self._matches.save_message(conn, match_id, uid, channel_id, message_id)

    async def match_messages(self, match_id: int) -> list[tuple[int, int, int]]:
        """Return (uid, channel_id, message_id) of every message showing the match."""
        return await self._matches.messages(self._read, match_id)

    async def match_message(self, match_id: int, uid: int) -> tuple[int, int, str | None] | None:
        """Return (channel_id, message_id, shown digest) of `uid`'s message of the match."""
        return await self._matches.shown(self._read, match_id, uid)

    async def mark_shown(self, match_id: int, uid: int, message_id: int, digest: str) -> None:
        """Remember what `uid`'s match message shows now (Discord accepted the edit)."""
        async with self._write() as conn:
            await self._matches.set_shown(conn, match_id, uid, message_id, digest)

    async def match_messages_to_check(self, ended_within: timedelta) -> list[tuple[int, int]]:
        """(match_id, uid) of every message of an open match or one ended within the period."""
        return await self._matches.messages_to_check(self._read, self._now() - ended_within)

    async def start_confirmation_window(self, match_id: int) -> bool:
        """Give the players the whole confirmation window from now (called as a DM is sent):
        the deadline only ever moves later. True if it moved."""
        async with self._write() as conn:
            deadline = self._now() + self.config.matches.confirmation_window
            return await self._matches.extend_confirm_deadline(conn, match_id, deadline)

    # --- admin ---------------------------------------------------------------------------

    async def resolve_match(
        self,
        admin_uid: int,
        match_id: int,
        ruling: str,
        reason: str | None,
        *,
        expected: MatchRecord | Mapping[str, Any] | None = None,
    ) -> MatchUpdate:
        """Decide a match (a win, a draw or invalidate); a rated match is re-rated in place.

        `expected`: the match as the admin saw it when asked to confirm (or its `ruled_state`,
        as stored with the question). If its status, result or decision has changed since
        (another admin ruled), ConflictError and nothing changes.
        """
        try:
            value = Ruling(ruling)
        except ValueError:
            raise ValidationError(
                "ruling", "A ruling is **p1_win**, **p2_win**, **draw** or **invalidate**."
            ) from None
        reason = _valid_reason(reason)
        async with self._write() as conn:
            now = self._now()
            before = await self._require_match(conn, match_id)
            if expected is not None and ruled_state(before) != ruled_state(expected):
                raise ConflictError(
                    f"Match #{match_id} changed since you asked: it is now "
                    f"{_describe_match_state(before)}. Nothing was changed; run the command again."
                )
            update, rows = await self._apply(conn, before, AdminRuling(admin_uid, value), now)
            if await self._disputes.rule(conn, match_id, value.value, admin_uid, reason, now):
                update = replace(update, dispute=await self._dispute(conn, update.match))
            details = {
                "ruling": value.value,
                "before": {"status": before.status.value, "result": _value(before.result)},
                "after": {
                    "status": update.match.status.value,
                    "result": _value(update.match.result),
                },
                "rating_changes": [[*c.key, c.old, c.new] for c in update.rating_changes],
            }
            await self._admin.record(
                conn, admin_uid, "resolve_match", match_target(match_id), details, reason, now
            )
        self._ratings_changed(rows)
        log.info("Admin %s ruled %s on match %s", admin_uid, value.value, match_id)
        return update

    async def adjust_mmr(
        self,
        admin_uid: int,
        uid: int,
        race: str,
        mode: str,
        amount: int,
        reason: str | None,
        *,
        expected: int | EllipsisType | None = ...,
    ) -> RatingChange:
        """Set, add to or subtract from a player's MMR with one race; logged for replays.

        `expected`: the MMR the admin saw when asked to confirm (None: no rating yet). If the
        stored one differs (the same adjustment applied twice, or another admin's), ConflictError
        and nothing changes. Leave it out to adjust whatever the MMR is now.
        """
        self._valid_race(race)
        kind, signed = _valid_adjustment(mode, amount)
        reason = _valid_reason(reason)
        key = (uid, race)
        async with self._write() as conn:
            now = self._now()
            await self._require_player(uid)
            if expected is not ...:
                current = (await self._ratings.mmrs(conn, [key])).get(key)
                if current != expected:
                    raise ConflictError(
                        f"This player's {race} MMR changed since you asked: it is now "
                        f"{_describe_mmr(current)}. Nothing was changed; run the command again."
                    )
            await self._ratings.ensure(conn, uid, [race], self.config.rating.start)
            old = (await self._ratings.mmrs(conn, [key]))[key]
            new = adjusted(old, kind, signed)
            if new < 0:  # refused inside the transaction: the rating made by ensure() goes too
                raise ValidationError(
                    "amount", f"That would take the MMR below 0: it is {old} now."
                )
            details = {"race": race, "mode": mode, "amount": amount, "old": old, "new": new}
            action_id = await self._admin.record(
                conn, admin_uid, "adjust_mmr", player_target(uid), details, reason, now
            )
            await self._ratings.log_adjustment(conn, key, kind, signed, action_id)
            await self._ratings.set_mmrs(conn, {key: new})
            rows = await self._ratings.rows(conn, [key])
        self._ratings_changed(rows)
        log.info("Admin %s adjusted %s/%s: %s -> %s", admin_uid, uid, race, old, new)
        return RatingChange(key, old, new)

    async def ban(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Ban the player and take him out of the queue; False if he was already banned."""
        return await self._set_banned(admin_uid, uid, True, reason)

    async def unban(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Lift the player's ban; False if he was not banned."""
        return await self._set_banned(admin_uid, uid, False, reason)

    async def remove_from_queue(self, admin_uid: int, uid: int, reason: str | None) -> bool:
        """Take a player out of the queue; False if he was not in it."""
        reason = _valid_reason(reason)
        async with self._write() as conn:
            now = self._now()
            removed = await self._queue.remove(conn, uid)
            details = {"removed": removed is not None}
            await self._admin.record(
                conn, admin_uid, "remove_from_queue", player_target(uid), details, reason, now
            )
        self._left_queue([removed] if removed else [], LeftQueue.DEQUEUED)
        return removed is not None

    async def clear_queue(self, admin_uid: int, reason: str | None) -> int:
        """Empty the queue; return how many players were in it."""
        reason = _valid_reason(reason)
        async with self._write() as conn:
            now = self._now()
            removed = await self._queue.clear(conn)
            details = {"removed": [s.uid for s in removed]}
            await self._admin.record(
                conn, admin_uid, "clear_queue", QUEUE_TARGET, details, reason, now
            )
        self._left_queue(removed, LeftQueue.CLEARED)
        return len(removed)

    async def reset_aborts(self, admin_uid: int, uid: int, reason: str | None) -> int:
        """Give the player all of this month's aborts back; return how many he has now."""
        reason = _valid_reason(reason)
        async with self._write() as conn:
            now = self._now()
            month = month_key(now)
            used = await self._aborts.reset(conn, uid, month)
            details = {"month": month, "used_before": used}
            await self._admin.record(
                conn, admin_uid, "reset_aborts", player_target(uid), details, reason, now
            )
        return self.config.matches.aborts_per_month

    async def lookup_player(self, uid: int) -> PlayerLookup:
        """Return what an admin needs to know about a player."""
        player = await self._require_player(uid)
        conn = self._read
        return PlayerLookup(
            player=player,
            ratings=await self._ratings.of_player(conn, uid),
            queue=await self._queue.get(conn, uid),
            open_match=await self._matches.active_of(conn, uid),
            aborts_left=await self.aborts_left(uid),
            recent_actions=await self._admin.for_target(conn, player_target(uid)),
        )

    async def open_disputes(self) -> list[DisputeRecord]:
        """Return every open dispute with both reports, the evidence and the match."""
        conn = self._read
        out = []
        for dispute in await self._disputes.open_ones(conn):
            out.append(replace(dispute, match=await self._matches.get(conn, dispute.match_id)))
        return out

    # --- reads for /admin ---------------------------------------------------------------

    async def player_ratings(self, uid: int) -> list[RatingRow]:
        """Return the player's ratings, one per race he has queued with, best first."""
        return await self._ratings.of_player(self._read, uid)

    # --- internals -----------------------------------------------------------------------

    @property
    def _read(self) -> aiosqlite.Connection:
        # The read-only connection: the last committed state, never another coroutine's open
        # transaction, and no wait for the write lock.
        return self._db.reader

    def _left_queue(self, entries: list[QueueStatus], why: LeftQueue) -> None:
        if entries and self.on_left_queue is not None:
            try:
                self.on_left_queue(entries, why)
            except Exception:  # telling them is a courtesy; the change is committed
                log.exception("A left-queue listener failed")

    def _now(self) -> datetime:
        # Millisecond precision, like the stored text: a deadline computed here compares the
        # same before and after a round trip through the database.
        now = self._clock().astimezone(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with write_transaction(self._db, "Ladder") as conn:
            yield conn

    def _ratings_changed(self, rows: list[RatingRow]) -> None:
        if not rows or self.on_ratings_changed is None:
            return
        try:
            self.on_ratings_changed(rows)
        except Exception:
            # The change is committed; a failing listener must not turn it into an error.
            log.exception("on_ratings_changed failed")

    async def _act(self, match_id: int, decide: Decide) -> MatchUpdate:
        """Load a match, decide its event and apply it, all in one transaction."""
        async with self._write() as conn:
            now = self._now()
            match = await self._require_match(conn, match_id)
            event = await decide(conn, match, now)
            update, rows = await self._apply(conn, match, event, now)
        self._ratings_changed(rows)
        if update.changed:
            log.info("Match %s: %s", match_id, ", ".join(type(e).__name__ for e in update.events))
        return update

    async def _apply(
        self, conn: aiosqlite.Connection, match: MatchRecord, event: Event | None, now: datetime
    ) -> tuple[MatchUpdate, list[RatingRow]]:
        """Run the state machine on one event and write what it decided."""
        if event is None:
            return MatchUpdate(match, dispute=await self._dispute(conn, match)), []
        state, effects = apply_event(match.state(self.config.matches.report_window), event, now)
        if not effects:  # a repeated click, or a timeout that no longer applies
            return MatchUpdate(match, dispute=await self._dispute(conn, match)), []
        finalised = any(isinstance(e, Finalised) for e in effects)
        await self._matches.save(conn, match, state, now, finalised=finalised)
        changes: list[RatingChange] = []
        rated = False
        for effect in effects:
            match effect:
                case Finalised(result=result):
                    changes += await self._ledger.rate(conn, match, result, now)
                    rated = True
                case Corrected(result=result):
                    changes += await self._ledger.rerate(conn, match, result)
                    rated = True
                case Invalidated(previous_result=previous) if previous is not None:
                    changes += await self._ledger.rerate(conn, match, None)
                    rated = True
                case Disputed(p1_report=r1, p2_report=r2):
                    await self._disputes.open(conn, match.id, r1, r2, now)
                case Aborted(player=player):
                    await self._aborts.spend(conn, player, month_key(now))
        after = await self._require_match(conn, match.id)
        keys: set[RatingKey] = {c.key for c in changes}
        if rated:
            keys.update(match_keys(match))
        rows = await self._ratings.rows(conn, keys)
        update = MatchUpdate(after, list(effects), changes, await self._dispute(conn, after))
        return update, rows

    async def _dispute(
        self, conn: aiosqlite.Connection, match: MatchRecord
    ) -> DisputeRecord | None:
        dispute = await self._disputes.of_match(conn, match.id)
        return replace(dispute, match=match) if dispute else None

    async def _require_match(self, conn: aiosqlite.Connection, match_id: int) -> MatchRecord:
        match = await self._matches.get(conn, match_id)
        if match is None:
            raise NotFoundError("match", match_id)
        return match

    async def _require_player(self, uid: int) -> Player:
        return await self._players.require(uid)

    async def _due_timeout(
        self, conn: aiosqlite.Connection, match: MatchRecord, now: datetime
    ) -> Event | None:
        # Decided from the state read inside the transaction: a report that won the race
        # leaves no timeout to fire.
        return due_timeout(match.state(self.config.matches.report_window), now)

    async def _check_can_queue(self, conn: aiosqlite.Connection, uid: int) -> None:
        # The same rules as /queue's guards, read inside the transaction: a Join button on a
        # message shown before the player declined the terms (or was banned) is refused too.
        player = await self._players.require(uid)
        try:
            check_access(QUEUE_RULE, player, is_admin=False, in_dm=True, dm_only_enabled=False)
        except GuardRefusal as refusal:
            raise ConflictError(refusal.user_message) from None
        await self._check_free_to_queue(conn, uid)

    async def _check_free_to_queue(self, conn: aiosqlite.Connection, uid: int) -> None:
        # The queue rule, written once: one queue entry per player, none while in a match.
        if await self._queue.get(conn, uid) is not None:
            raise ConflictError("You are already in the queue. Use its Cancel button to leave.")
        match = await self._matches.active_of(conn, uid)
        if match is not None:
            raise ConflictError(f"You are in match #{match.id}: finish or abort it first.")

    async def _set_banned(self, admin_uid: int, uid: int, banned: bool, reason: str | None) -> bool:
        reason = _valid_reason(reason)
        # The flag, the queue removal and the admin log: one transaction, all or nothing.
        try:
            async with self._write() as conn:
                now = self._now()
                change = await self._players.set_banned_in(conn, uid, banned, admin_uid)
                removed = await self._queue.remove(conn, uid) if banned else None
                details = {
                    "changed": change is not None,
                    "removed_from_queue": removed is not None,
                }
                action = "ban" if banned else "unban"
                await self._admin.record(
                    conn, admin_uid, action, player_target(uid), details, reason, now
                )
        finally:
            self._players.cache.invalidate(uid)
        self._left_queue([removed] if removed else [], LeftQueue.BANNED)
        log.info("Admin %s: %s %s", admin_uid, "ban" if banned else "unban", uid)
        player = await self._players.get(uid)
        if player is not None:
            self._player_changes.publish(player)
        return change is not None

    def _valid_race(self, race: str) -> str:
        if race not in self.config.race_codes:
            known = ", ".join(f"{r.name} (`{r.code}`)" for r in self.config.races)
            raise ValidationError("races", f"{quoted(race)} is not a race of this ladder: {known}.")
        return race

    def _valid_races(self, races: Sequence[str]) -> tuple[str, ...]:
        chosen = {self._valid_race(r) for r in races}
        if not chosen:
            raise ValidationError("races", "Pick at least one race to queue with.")
        return tuple(r for r in self.config.race_codes if r in chosen)

    def _valid_vetoes(self, vetoes: Sequence[str]) -> tuple[str, ...]:
        chosen = validate_vetoes(vetoes, self.config.map_pool, self.config.max_vetoes)
        return tuple(m for m in self.config.map_pool if m in chosen)


def _event(event: Event) -> Decide:
    async def decide(conn: aiosqlite.Connection, match: MatchRecord, now: datetime) -> Event:
        return event

    return decide


def _value(enum: Any) -> Any:
    return None if enum is None else enum.value


def _encodable(field: str, text: str | None, what: str) -> None:
    """Refuse text that cannot be stored as UTF-8: a lone surrogate (a broken client's)."""
    if text is not None and any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValidationError(
            field, f"{what} has a broken character (a lone surrogate); please type it again."
        )


def _valid_reason(reason: str | None) -> str | None:
    if reason is not None and len(reason) > REASON_MAX:
        raise ValidationError("reason", f"A reason may be at most {REASON_MAX} characters long.")
    _encodable("reason", reason, "The reason")
    return reason or None


def _valid_adjustment(mode: str, amount: int) -> tuple[str, int]:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationError("amount", "The amount must be a whole number.")
    if not 0 <= amount <= MMR_AMOUNT_MAX:
        raise ValidationError("amount", f"The amount must be between 0 and {MMR_AMOUNT_MAX}.")
    if mode == "set":
        return "set", amount
    if amount == 0:
        raise ValidationError("amount", "Adding or subtracting 0 changes nothing.")
    if mode == "add":
        return "add", amount
    if mode == "subtract":
        return "add", -amount  # the log stores a subtraction as a negative add
    raise ValidationError("mode", "The mode is **set**, **add** or **subtract**.")


def _valid_evidence(note: str | None, url: str | None) -> tuple[str | None, str | None]:
    note = note if note and note.strip() else None
    url = url if url and url.strip() else None
    if note is None and url is None:
        raise ValidationError("evidence", "Add a note, a link, or both.")
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationError("note", f"The note may be at most {NOTE_MAX} characters long.")
    _encodable("note", note, "The note")
    _encodable("url", url, "The link")
    if url is not None:
        if len(url) > URL_MAX:
            raise ValidationError("url", f"The link may be at most {URL_MAX} characters long.")
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.netloc
            or any(ch.isspace() for ch in url)
        ):
            raise ValidationError(
                "url", "The link must be a web address starting with http:// or https://."
            )
    return note, url


def ruled_state(match: MatchRecord | Mapping[str, Any]) -> dict[str, Any]:
    """What a ruling is decided on, as plain values (JSON, kept with an admin's question).

    Every ruling that changes a match changes one of these, so a confirmation asked before
    another admin's ruling no longer matches.
    """
    if isinstance(match, Mapping):
        return {key: match.get(key) for key in _RULED}
    return {key: _value(getattr(match, key)) for key in _RULED}


_RULED = ("status", "result", "decided_by")


def _describe_match_state(match: MatchRecord) -> str:
    status = _value(match.status)
    return f"{status} ({_value(match.result)})" if match.result is not None else status


def _describe_mmr(mmr: int | None) -> str:
    return "unrated (no rating yet)" if mmr is None else str(mmr)
