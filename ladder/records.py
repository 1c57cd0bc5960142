"""Read models of the ladder: frozen records that storage builds, services return, cogs show.

Records, not views: nextcord's `ui.View` and the SQL views in storage/migrations are other
things. They depend only on the domain (`ladder.*`), so every layer above may use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ladder.players import Player
from ladder.rating import RatingChange, RatingKey, Result
from ladder.reports import Decision, Effect, MatchState, MatchStatus, Outcome

# A player is in an active match while it waits for confirmations or results: he may not queue.
ACTIVE_STATUSES = (MatchStatus.AWAITING_CONFIRMATION, MatchStatus.IN_PROGRESS)
# Open matches still have buttons or admin work pending (a disputed match awaits a ruling).
OPEN_STATUSES = (*ACTIVE_STATUSES, MatchStatus.DISPUTED)


@dataclass(frozen=True, slots=True)
class QueuePreferences:
    """What a player queued with last time, offered again by /queue."""

    races: tuple[str, ...]
    vetoes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """A player waiting in the queue."""

    uid: int
    races: tuple[str, ...]
    vetoes: tuple[str, ...]
    joined_at: datetime
    waves_waited: int
    channel_id: int | None = None
    message_id: int | None = None

    def waited(self, now: datetime) -> float:
        """Return how many seconds the player has waited at `now`."""
        return max(0.0, (now - self.joined_at).total_seconds())


@dataclass(frozen=True, slots=True)
class RatingRow:
    """One (player, race) rating with its record, as stored."""

    uid: int
    race: str
    mmr: int
    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    last_played_at: datetime | None = None
    deviation: float | None = None  # Glicko-2's; None under Elo
    volatility: float | None = None

    @property
    def key(self) -> RatingKey:
        """Return the (uid, race) key the rating log uses."""
        return (self.uid, self.race)


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """A match as stored: player 1 is the longer waiter of the wave that made it."""

    id: int
    status: MatchStatus
    player1_uid: int
    player1_race: str
    player1_mmr: int  # rating before the match (rewritten if an earlier match is corrected)
    player2_uid: int
    player2_race: str
    player2_mmr: int
    map: str
    created_at: datetime
    confirm_deadline: datetime
    player1_confirmed_at: datetime | None = None
    player2_confirmed_at: datetime | None = None
    started_at: datetime | None = None
    report_deadline: datetime | None = None
    player1_report: Outcome | None = None
    player1_reported_at: datetime | None = None
    player2_report: Outcome | None = None
    player2_reported_at: datetime | None = None
    result: Result | None = None
    decided_by: Decision | None = None
    mmr_change: int | None = None  # player 1's gain; player 2 lost as much
    ended_at: datetime | None = None
    aborted_by: int | None = None
    no_shows: frozenset[int] = frozenset()

    @property
    def players(self) -> tuple[int, int]:
        """Return both players' uids, player 1 first."""
        return (self.player1_uid, self.player2_uid)

    @property
    def player1_confirmed(self) -> bool:
        return self.player1_confirmed_at is not None

    @property
    def player2_confirmed(self) -> bool:
        return self.player2_confirmed_at is not None

    @property
    def is_active(self) -> bool:
        """Return whether the match still waits for confirmations or results."""
        return self.status in ACTIVE_STATUSES

    @property
    def is_open(self) -> bool:
        """Return whether the match is active or awaits an admin ruling."""
        return self.status in OPEN_STATUSES

    @property
    def deadline(self) -> datetime | None:
        """Return the deadline that applies now (confirmation or report), if any."""
        if self.status is MatchStatus.AWAITING_CONFIRMATION:
            return self.confirm_deadline
        if self.status is MatchStatus.IN_PROGRESS:
            return self.report_deadline
        return None

    def side_of(self, uid: int) -> int:
        """Return 1 or 2 for a player of this match; ValueError for anyone else."""
        if uid == self.player1_uid:
            return 1
        if uid == self.player2_uid:
            return 2
        raise ValueError(f"{uid} is not a player of match {self.id}")

    def opponent_of(self, uid: int) -> int:
        """Return the other player's uid."""
        return self.player2_uid if self.side_of(uid) == 1 else self.player1_uid

    def race_of(self, uid: int) -> str:
        """Return the race this player plays in the match."""
        return self.player1_race if self.side_of(uid) == 1 else self.player2_race

    def mmr_of(self, uid: int) -> int:
        """Return this player's rating before the match."""
        return self.player1_mmr if self.side_of(uid) == 1 else self.player2_mmr

    def key_of(self, uid: int) -> RatingKey:
        """Return this player's (uid, race) rating key in the match."""
        return (uid, self.race_of(uid))

    def confirmed_by(self, uid: int) -> bool:
        """Return whether this player has confirmed."""
        return self.player1_confirmed if self.side_of(uid) == 1 else self.player2_confirmed

    def report_of(self, uid: int) -> Outcome | None:
        """Return what this player reported, if anything."""
        return self.player1_report if self.side_of(uid) == 1 else self.player2_report

    def mmr_change_of(self, uid: int) -> int | None:
        """Return this player's rating change from the match, if it was rated."""
        if self.mmr_change is None:
            return None
        return self.mmr_change if self.side_of(uid) == 1 else -self.mmr_change

    def outcome_for(self, uid: int) -> Outcome | None:
        """Return the result from this player's point of view, if the match has one."""
        if self.result is None:
            return None
        if self.result is Result.DRAW:
            return Outcome.DRAW
        won = (self.result is Result.P1_WIN) == (self.side_of(uid) == 1)
        return Outcome.WIN if won else Outcome.LOSS

    def state(self, report_window: timedelta) -> MatchState:
        """Return the domain state of this match (`report_window` comes from the config)."""
        confirmed = {
            uid
            for uid, at in (
                (self.player1_uid, self.player1_confirmed_at),
                (self.player2_uid, self.player2_confirmed_at),
            )
            if at is not None
        }
        return MatchState(
            match_id=self.id,
            p1=self.player1_uid,
            p2=self.player2_uid,
            status=self.status,
            confirm_deadline=self.confirm_deadline,
            report_window=report_window,
            confirmed=frozenset(confirmed),
            report_deadline=self.report_deadline,
            p1_report=self.player1_report,
            p2_report=self.player2_report,
            result=self.result,
            decided_by=self.decided_by,
            no_shows=self.no_shows,
            aborted_by=self.aborted_by,
        )


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One piece of evidence a player added to a dispute, stored verbatim."""

    id: int
    uid: int
    note: str | None
    url: str | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """A dispute with both reports, the ruling once made, the evidence and its match."""

    id: int
    match_id: int
    status: str  # 'open' or 'resolved'
    player1_report: Outcome | None
    player2_report: Outcome | None
    opened_at: datetime
    ruling: str | None = None
    ruled_by: int | None = None
    ruled_at: datetime | None = None
    reason: str | None = None
    evidence: tuple[EvidenceRecord, ...] = ()
    match: MatchRecord | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True, slots=True)
class MatchUpdate:
    """What a match action did: the match afterwards and what the players/admins must hear.

    `events` are the domain effects (`ladder.reports.Finalised`, `Disputed`, ...), empty when
    the action changed nothing (a double click). `rating_changes` lists the ratings moved, old
    and new; `dispute` is set when the match is or was disputed.
    """

    match: MatchRecord
    events: list[Effect] = field(default_factory=list)
    rating_changes: list[RatingChange] = field(default_factory=list)
    dispute: DisputeRecord | None = None

    @property
    def changed(self) -> bool:
        """Return whether the action changed the match."""
        return bool(self.events)


@dataclass(frozen=True, slots=True)
class AdminAction:
    """One logged admin action."""

    id: int
    admin_uid: int
    action: str
    target: str | None
    details: dict[str, Any]
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlayerLookup:
    """Everything /admin lookup shows about a player."""

    player: Player
    ratings: list[RatingRow]
    queue: QueueStatus | None
    open_match: MatchRecord | None
    aborts_left: int
    recent_actions: list[AdminAction]


# --- /profile: a player's numbers, read by storage.leaderboard ---------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """Wins, losses and draws."""

    wins: int = 0
    losses: int = 0
    draws: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.losses + self.draws


@dataclass(frozen=True, slots=True)
class ProfileRating:
    """A player's rating and W/L/D in one race, as stored."""

    race: str
    mmr: int
    games: int
    record: Record
    last_played_at: datetime | None
    deviation: float | None = None  # Glicko-2's; None under Elo
    volatility: float | None = None


@dataclass(frozen=True, slots=True)
class RecentMatch:
    """A finished match from the player's side: their race, the opponent, what it did to them."""

    match_id: int
    ended_at: datetime | None
    race: str
    opponent_uid: int
    opponent_name: str | None
    opponent_race: str
    map: str
    result: str  # 'win', 'loss' or 'draw'
    mmr_before: int
    mmr_change: int | None  # the player's gain (negative: a loss of points)


@dataclass(frozen=True, slots=True)
class Aborts:
    """Aborts spent this month and how many are left of the monthly allowance."""

    month: str
    used: int
    allowance: int

    @property
    def left(self) -> int:
        return max(0, self.allowance - self.used)


@dataclass(frozen=True, slots=True)
class Profile:
    """What /profile shows besides the player record itself."""

    uid: int
    ratings: tuple[ProfileRating, ...]
    overall: Record
    windows: tuple[tuple[int, Record], ...]  # (days, record over the last `days` days)
    last_played_at: datetime | None
    recent: tuple[RecentMatch, ...]
    aborts: Aborts
