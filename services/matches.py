"""The matches' use cases: confirm, abort, report, evidence, the deadlines that fire by
themselves, and the messages that show a match (each write one transaction, see
`services.ladder_core`). Deadlines are stored, so timers survive a restart
(`fire_due_timeouts`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiosqlite

from i18n import N_
from ladder.config import LadderConfig
from ladder.errors import ConflictError, ValidationError
from ladder.records import DisputeRecord, MatchRecord, MatchUpdate
from ladder.reports import (
    Abort,
    Confirm,
    Event,
    NotInMatchError,
    Outcome,
    Report,
    aborts_left,
    due_timeout,
    month_key,
)
from services.ladder_core import LadderCore, encodable

log = logging.getLogger(__name__)


NOTE_MAX = 1000
URL_MAX = 500
EVIDENCE_PER_PLAYER_MAX = 10  # per dispute: enough for a note and a few screenshots, no spam

type Decide = Callable[[aiosqlite.Connection, MatchRecord, datetime], Awaitable[Event | None]]


class MatchService:
    """What players do in a match, its deadlines, and the reads that show it."""

    def __init__(self, core: LadderCore) -> None:
        self._core = core
        self._matches = core.matches
        self._disputes = core.disputes
        self._aborts = core.aborts

    @property
    def config(self) -> LadderConfig:
        """The settings in force (the current season's map pool), read from the core."""
        return self._core.config

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
            raise ValidationError(
                "outcome", N_("A result is **win**, **loss** or **draw**.")
            ) from None
        return await self._act(match_id, _event(Report(uid, value)))

    async def add_evidence(
        self, match_id: int, uid: int, note: str | None, url: str | None
    ) -> DisputeRecord:
        """Add a player's note and/or link to his disputed match, stored verbatim."""
        note, url = _valid_evidence(note, url)
        async with self._core.write() as conn:
            now = self._core.now()
            match = await self._core.require_match(conn, match_id)
            if uid not in match.players:
                raise NotInMatchError()
            dispute = await self._disputes.of_match(conn, match_id)
            if dispute is None:
                raise ConflictError(N_("This match is not disputed, so it takes no evidence."))
            if not dispute.is_open:
                raise ConflictError(N_("An admin has already decided this dispute."))
            if sum(e.uid == uid for e in dispute.evidence) >= EVIDENCE_PER_PLAYER_MAX:
                raise ConflictError(
                    N_("You have already added {count} pieces of evidence."),
                    count=EVIDENCE_PER_PLAYER_MAX,
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
        for match_id in await self._matches.due(self._core.reader, self._core.now()):
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
        return await self._matches.next_deadline(self._core.reader)

    async def get_match(self, match_id: int) -> MatchRecord:
        """Return the match, or raise NotFoundError."""
        return await self._core.require_match(self._core.reader, match_id)

    async def open_match_of(self, uid: int) -> MatchRecord | None:
        """Return the match the player must confirm or report, if any."""
        return await self._matches.active_of(self._core.reader, uid)

    async def open_matches(self) -> list[MatchRecord]:
        """Return every active or disputed match (to re-attach buttons after a restart)."""
        return await self._matches.open(self._core.reader)

    async def aborts_left(self, uid: int) -> int:
        """Return how many aborts the player has left this month."""
        return await self._core.aborts_left(self._core.reader, uid, self._core.now())

    async def record_match_message(
        self, match_id: int, uid: int, channel_id: int, message_id: int
    ) -> None:
        """Remember the message that shows this match to this player."""
        async with self._core.write() as conn:
            await self._matches.save_message(conn, match_id, uid, channel_id, message_id)

    async def match_messages(self, match_id: int) -> list[tuple[int, int, int]]:
        """Return (uid, channel_id, message_id) of every message showing the match."""
        return await self._matches.messages(self._core.reader, match_id)

    async def match_message(self, match_id: int, uid: int) -> tuple[int, int, str | None] | None:
        """Return (channel_id, message_id, shown digest) of `uid`'s message of the match."""
        return await self._matches.shown(self._core.reader, match_id, uid)

    async def mark_shown(self, match_id: int, uid: int, message_id: int, digest: str) -> None:
        """Remember what `uid`'s match message shows now (Discord accepted the edit)."""
        async with self._core.write() as conn:
            await self._matches.set_shown(conn, match_id, uid, message_id, digest)

    async def match_messages_to_check(self, ended_within: timedelta) -> list[tuple[int, int]]:
        """(match_id, uid) of every message of an open match or one ended within the period."""
        since = self._core.now() - ended_within
        return await self._matches.messages_to_check(self._core.reader, since)

    async def start_confirmation_window(self, match_id: int) -> bool:
        """Give the players the whole confirmation window from now (called as a DM is sent):
        the deadline only ever moves later. True if it moved."""
        async with self._core.write() as conn:
            deadline = self._core.now() + self.config.matches.confirmation_window
            return await self._matches.extend_confirm_deadline(conn, match_id, deadline)

    async def _act(self, match_id: int, decide: Decide) -> MatchUpdate:
        """Load a match, decide its event and apply it, all in one transaction."""
        async with self._core.write() as conn:
            now = self._core.now()
            match = await self._core.require_match(conn, match_id)
            event = await decide(conn, match, now)
            update, rows = await self._core.apply(conn, match, event, now)
        self._core.ratings_changed(rows)
        if update.changed:
            log.info("Match %s: %s", match_id, ", ".join(type(e).__name__ for e in update.events))
        return update

    async def _due_timeout(
        self, conn: aiosqlite.Connection, match: MatchRecord, now: datetime
    ) -> Event | None:
        # Decided from the state read inside the transaction: a report that won the race
        # leaves no timeout to fire.
        return due_timeout(match.state(self.config.matches.report_window), now)


def _event(event: Event) -> Decide:
    async def decide(conn: aiosqlite.Connection, match: MatchRecord, now: datetime) -> Event:
        return event

    return decide


def _valid_evidence(note: str | None, url: str | None) -> tuple[str | None, str | None]:
    """Return the note and link as stored (blank ones as None), or ValidationError."""
    note = note if note and note.strip() else None
    url = url if url and url.strip() else None
    if note is None and url is None:
        raise ValidationError("evidence", N_("Add a note, a link, or both."))
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationError(
            "note", N_("The note may be at most {max} characters long."), max=NOTE_MAX
        )
    encodable("note", note)
    encodable("url", url)
    if url is not None:
        if len(url) > URL_MAX:
            raise ValidationError(
                "url", N_("The link may be at most {max} characters long."), max=URL_MAX
            )
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
                "url", N_("The link must be a web address starting with http:// or https://.")
            )
    return note, url
