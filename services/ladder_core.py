"""What the ladder's use cases share: the write transaction, the clock, applying a match event,
the listeners told after a commit, and the checks more than one use case makes.

The queue (`services.queue`), the matches (`services.matches`) and the admins' actions
(`services.admin`) decide on the same tables with the same rules, so they are built on one
`LadderCore`. Every use case that writes is ONE transaction (`Database.transaction`, BEGIN
IMMEDIATE under the process-wide write lock): it loads the state it decides on inside the
transaction, applies the domain's rules (`ladder.matchmaking`, `ladder.reports`, `ladder.rating`)
and writes the result, so a double click, a report racing a timeout or a cancel racing a wave
sees one consistent order. All state lives in SQLite: deadlines are stored, so timers survive a
restart. After a commit that changed ratings, `on_ratings_changed` gets the new rows (the
leaderboard keeps its in-memory ranks current that way).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import aiosqlite

from i18n import N_
from ladder.config import LadderConfig, Race
from ladder.errors import NotFoundError, ValidationError, quoted
from ladder.rating import RatingChange, RatingKey
from ladder.records import DisputeRecord, MatchRecord, MatchUpdate, QueueStatus, RatingRow
from ladder.reports import (
    Aborted,
    Corrected,
    Disputed,
    Event,
    Finalised,
    Invalidated,
    aborts_left,
    apply_event,
    month_key,
)
from services.players import LeftQueue, LeftQueueListener, PlayerChanges
from services.ratings import RatingLedger, match_keys
from services.transactions import write_transaction
from storage.admin import AdminActionRepository
from storage.database import Database, ReadConnection, Reader
from storage.matches import AbortRepository, DisputeRepository, MatchRepository
from storage.players import PlayerRepository
from storage.queue import QueueRepository
from storage.ratings import RatingRepository

log = logging.getLogger(__name__)


def now_utc() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class LadderCore:
    """The database, the repositories, the clock and the rating listener the ladder's
    services share; the services hold one each, so they all see the same clock and listener."""

    def __init__(
        self,
        db: Database,
        players: PlayerRepository,
        config: LadderConfig,
        *,
        clock: Callable[[], datetime] = now_utc,
        on_ratings_changed: Callable[[list[RatingRow]], None] | None = None,
        player_changes: PlayerChanges | None = None,
    ) -> None:
        self.db = db
        self.players = players
        self.player_changes = player_changes or PlayerChanges()
        # The settings in force, with the CURRENT season's map pool (`use_map_pool`): the
        # services read `core.config` each time, never a copy, so a new season reaches them.
        self.config = config
        self._clock = clock
        self.on_ratings_changed = on_ratings_changed
        # Told the new settings after `use_map_pool` changed them (the bot's own copy).
        self.config_listeners: list[Callable[[LadderConfig], None]] = []
        self.queue = QueueRepository()
        self.matches = MatchRepository()
        self.disputes = DisputeRepository()
        self.aborts = AbortRepository()
        self.ratings = RatingRepository()
        self.admin_actions = AdminActionRepository()
        self.ledger = RatingLedger(
            self.ratings, self.matches, config.rating, shares=config.ranks.shares
        )

    @property
    def reader(self) -> ReadConnection:
        """The read-only connection: the last committed state, never another coroutine's open
        transaction, and no wait for the write lock."""
        return self.db.reader

    def now(self) -> datetime:
        """The clock's time in UTC, to the millisecond like the stored text: a deadline
        computed here compares the same before and after a round trip through the database."""
        now = self._clock().astimezone(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (SQLite's "try again later" becomes StorageBusyError)."""
        async with write_transaction(self.db, "Ladder") as conn:
            yield conn

    def use_map_pool(self, pool: Sequence[str]) -> None:
        """Play `pool` (the current season's) from now on: the next wave draws its maps from
        it and vetoes are checked against it. Called at start-up and right after a season
        start commits; the listeners get the new settings (an empty pool changes nothing)."""
        maps = tuple(pool)
        if not maps or maps == self.config.map_pool:
            return
        self.config = replace(self.config, map_pool=maps)
        log.info("Map pool now: %s", ", ".join(maps))
        for listener in self.config_listeners:
            try:
                listener(self.config)
            except Exception:  # the pool is in force; a listener's copy is a courtesy
                log.exception("A config listener failed")

    def ratings_changed(self, rows: list[RatingRow]) -> None:
        """Tell the listener the committed new ratings (nothing if there are none)."""
        if not rows or self.on_ratings_changed is None:
            return
        try:
            self.on_ratings_changed(rows)
        except Exception:
            # The change is committed; a failing listener must not turn it into an error.
            log.exception("on_ratings_changed failed")

    async def apply(
        self, conn: aiosqlite.Connection, match: MatchRecord, event: Event | None, now: datetime
    ) -> tuple[MatchUpdate, list[RatingRow]]:
        """Run the state machine on one event and write what it decided; return the update
        and the rating rows it changed (for `ratings_changed` after the commit)."""
        if event is None:
            return MatchUpdate(match, dispute=await self.dispute(conn, match)), []
        state, effects = apply_event(match.state(self.config.matches.report_window), event, now)
        if not effects:  # a repeated click, or a timeout that no longer applies
            return MatchUpdate(match, dispute=await self.dispute(conn, match)), []
        finalised = any(isinstance(e, Finalised) for e in effects)
        await self.matches.save(conn, match, state, now, finalised=finalised)
        changes: list[RatingChange] = []
        rated = False
        for effect in effects:
            match effect:
                case Finalised(result=result):
                    changes += await self.ledger.rate(conn, match, result, now)
                    rated = True
                case Corrected(result=result):
                    changes += await self.ledger.rerate(conn, match, result)
                    rated = True
                case Invalidated(previous_result=previous) if previous is not None:
                    changes += await self.ledger.rerate(conn, match, None)
                    rated = True
                case Disputed(p1_report=r1, p2_report=r2):
                    await self.disputes.open(conn, match.id, r1, r2, now)
                case Aborted(player=player):
                    await self.aborts.spend(conn, player, month_key(now))
        after = await self.require_match(conn, match.id)
        keys: set[RatingKey] = {c.key for c in changes}
        if rated:
            keys.update(match_keys(match))
        rows = await self.ratings.rows(conn, keys)
        update = MatchUpdate(after, list(effects), changes, await self.dispute(conn, after))
        return update, rows

    async def dispute(self, conn: aiosqlite.Connection, match: MatchRecord) -> DisputeRecord | None:
        """Return the match's dispute (carrying the match), if it has one."""
        dispute = await self.disputes.of_match(conn, match.id)
        return replace(dispute, match=match) if dispute else None

    async def require_match(self, conn: Reader, match_id: int) -> MatchRecord:
        """Return the match, or raise NotFoundError."""
        match = await self.matches.get(conn, match_id)
        if match is None:
            raise NotFoundError("match", match_id)
        return match

    async def aborts_left(self, conn: Reader, uid: int, now: datetime) -> int:
        """Return how many aborts the player has left in `now`'s month."""
        used = await self.aborts.used(conn, uid, month_key(now))
        return aborts_left(used, self.config.matches.aborts_per_month)

    def valid_race(self, race: str) -> str:
        """Return `race` if it is one of the ladder's race codes, else ValidationError."""
        if race not in self.config.race_codes:
            raise ValidationError(
                "races",
                N_("{race} is not a race of this ladder: {races}."),
                race=quoted(race),
                races=_RaceList(self.config.races),
            )
        return race


def tell_left_queue(
    listener: LeftQueueListener | None, entries: list[QueueStatus], why: LeftQueue
) -> None:
    """Tell the listener (after the commit) who left the queue other than by their own
    Cancel, so that their queue messages can say so."""
    if entries and listener is not None:
        try:
            listener(entries, why)
        except Exception:  # telling them is a courtesy; the change is committed
            log.exception("A left-queue listener failed")


# One whole sentence per field that takes free text.
_BROKEN_TEXT = {
    "reason": N_("The reason has a broken character (a lone surrogate); please type it again."),
    "note": N_("The note has a broken character (a lone surrogate); please type it again."),
    "url": N_("The link has a broken character (a lone surrogate); please type it again."),
}


def encodable(field: str, text: str | None) -> None:
    """Refuse text that cannot be stored as UTF-8: a lone surrogate (a broken client's).
    `field` is one of `_BROKEN_TEXT`'s."""
    if text is not None and any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValidationError(
            field,
            _BROKEN_TEXT.get(
                field,
                N_("The text has a broken character (a lone surrogate); please type it again."),
            ),
        )


class _RaceList:
    """The ladder's races as "BW Terran (`bw_terran`), ...", names in the language current
    when the message is shown."""

    __slots__ = ("races",)

    def __init__(self, races: tuple[Race, ...]) -> None:
        self.races = races

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __str__(self) -> str:
        return ", ".join(f"{r.local_name} (`{r.code}`)" for r in self.races)
