"""Read models of what the public website shows besides the leaderboard: a player's page, a
match's whole story, and when people play. Built by storage.history, returned by
services.public, rendered by web/. Names only, never a Discord id: uids stay in storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ladder.replays import ReplayRecord


@dataclass(frozen=True, slots=True)
class PublicPlayer:
    """A player as the site may name them; `uid` is for the services' own lookups only."""

    uid: int
    name: str
    country: str | None
    region: str | None
    banned: bool


@dataclass(frozen=True, slots=True)
class RatingPoint:
    """A player's rating in one race right after one rated match."""

    match_id: int
    race: str
    ended_at: datetime | None
    mmr: int
    change: int


@dataclass(frozen=True, slots=True)
class MatchLine:
    """One of a player's matches, from their side."""

    match_id: int
    status: str
    ended_at: datetime | None
    race: str
    opponent: str
    opponent_banned: bool
    opponent_race: str
    map: str
    result: str | None  # 'win', 'loss', 'draw', or None (no result: disputed, invalidated)
    mmr_before: int
    mmr_change: int | None


@dataclass(frozen=True, slots=True)
class MatchSide:
    """One player of a match."""

    name: str
    banned: bool
    race: str
    mmr_before: int
    report: str | None
    reported_at: datetime | None
    change: int | None  # the rating change the match made, as it stands now

    @property
    def mmr_after(self) -> int | None:
        return None if self.change is None else self.mmr_before + self.change


@dataclass(frozen=True, slots=True)
class Evidence:
    """A note and/or a link a player added to a dispute, verbatim."""

    by: str
    note: str | None
    url: str | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Dispute:
    """A match's dispute, its evidence and the ruling (who ruled: a name or "an admin")."""

    status: str
    opened_at: datetime
    evidence: tuple[Evidence, ...]
    ruling: str | None
    ruled_by: str | None
    ruled_at: datetime | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class RatingCorrection:
    """One rating an admin's ruling changed: whose, in which race, from what to what."""

    player: str
    race: str
    old: int | None
    new: int | None


@dataclass(frozen=True, slots=True)
class Ruling:
    """An admin's ruling on the match (a dispute's, or a correction afterwards)."""

    at: datetime
    by: str
    ruling: str
    before: str  # the status and result before, as 'finished p1_win'
    after: str
    reason: str | None
    changes: tuple[RatingCorrection, ...]


@dataclass(frozen=True, slots=True)
class MatchStory:
    """Everything public about one match."""

    id: int
    status: str
    map: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    result: str | None
    decided_by: str | None
    player1: MatchSide
    player2: MatchSide
    dispute: Dispute | None
    rulings: tuple[Ruling, ...]
    replays: tuple[ReplayRecord, ...] = ()  # uploaded with /replay, oldest first
