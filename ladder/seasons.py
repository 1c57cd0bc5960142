"""Seasons: what one is, and the final standings a season's end archives.

A season is numbered from 1; exactly one is open (the current one). Ending it archives every
(player, race) rating of the season with its record, its place and its letter, then starts
the next season from the soft reset of those ratings (`RatingSystem.soft_reset`). The
archive is what `/leaderboard season:` and `/profile season:` show for a past season.

A season's place counts the entries that played at least one game in the season (a banned
player's entries are left out), by shown rating, highest first; ties share a place
(competition ranking) and a letter, as on the live leaderboard (`ladder.ranks`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from i18n import N_
from ladder.errors import ValidationError
from ladder.ranks import Shares, rank_for
from ladder.rating import RatingKey
from ladder.rating_systems import RatingState, RatingSystem, SeasonBreak

NAME_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Season:
    """One season: its number, name, when it ran, its map pool and rating settings."""

    number: int
    name: str
    started_at: datetime
    ended_at: datetime | None
    map_pool: tuple[str, ...] | None  # None: the pool in data/ladder.toml
    rating_system: str
    soft_reset: str
    pull_fraction: float

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class Record:
    """A (player, race)'s games and W/L/D in one season, and when it last played."""

    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    last_played_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ArchivedEntry:
    """One (player, race) in a season's final standings."""

    uid: int
    race: str
    state: RatingState
    record: Record
    place: int | None  # None: unranked (no game this season, or banned)
    rank: str | None
    provisional: bool

    @property
    def key(self) -> RatingKey:
        return (self.uid, self.race)

    @property
    def mmr(self) -> int:
        return self.state.shown


def valid_season_name(name: str | None) -> str:
    """Return a season's name, stripped, or raise ValidationError with what is wrong."""
    text = (name or "").strip()
    if not text:
        raise ValidationError("name", N_("A season needs a name, for example `Spring 2027`."))
    if len(text) > NAME_LIMIT:
        raise ValidationError(
            "name", N_("A season's name can be at most {max} characters."), max=NAME_LIMIT
        )
    if any(ch in text for ch in "\n\r\t") or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValidationError("name", N_("A season's name must be one line of ordinary text."))
    return text


def places_by_rating(shown: Iterable[int], shares: Shares) -> dict[int, tuple[int, str]]:
    """Return the place and letter of each shown rating among the ranked entries of a season
    (`shown`: one rating per ranked entry). Highest first; ties share a place and a letter
    (competition ranking: 1, 2, 2, 4), so an entry's place depends on its rating alone, and
    the letters are computed once per distinct rating, not once per entry."""
    counts = Counter(shown)
    total = sum(counts.values())
    out: dict[int, tuple[int, str]] = {}
    place = 1
    for value in sorted(counts, reverse=True):
        out[value] = (place, rank_for(place, total, shares))
        place += counts[value]
    return out


def soft_resets(
    system: RatingSystem, states: Iterable[RatingState], reset: SeasonBreak
) -> dict[tuple[float, float, float], RatingState]:
    """Return the next season's starting rating of each distinct (rating, deviation,
    volatility) among `states` that the soft reset changes (`RatingSystem.soft_reset`).

    A soft reset maps a rating to a rating: it does not look at the games played or at when
    the rating last moved (both systems carry those through untouched), so it is computed once
    per distinct rating. 100k Elo entries share a few hundred; Glicko-2's are mostly distinct.
    """
    out: dict[tuple[float, float, float], RatingState] = {}
    seen: set[tuple[float, float, float]] = set()
    for state in states:
        key = (state.rating, state.deviation, state.volatility)
        if key in seen:
            continue
        seen.add(key)
        after = system.soft_reset(RatingState(*key), reset.mode, reset.fraction)
        if (after.rating, after.deviation, after.volatility) != key:
            out[key] = after
    return out


def final_standings(
    system: RatingSystem,
    states: Mapping[RatingKey, RatingState],
    records: Mapping[RatingKey, Record],
    banned: Iterable[int],
    now_us: int,
    shares: Shares,
) -> list[ArchivedEntry]:
    """Return the archive of a season: every key's rating, record, place and letter.

    Sorted by place (unranked last), then uid and race, so the archive reads in order.
    """
    banned_uids = set(banned)
    shown = {k: s.shown for k, s in states.items()}
    no_record = Record()
    ranked = [k for k in shown if records.get(k, no_record).games > 0 and k[0] not in banned_uids]
    by_rating = places_by_rating((shown[k] for k in ranked), shares)
    places = {k: by_rating[shown[k]] for k in ranked}
    out = []
    new = system.new()
    for k in set(states) | set(records):
        state = states.get(k, new)
        p = places.get(k)
        out.append(
            ArchivedEntry(
                k[0],
                k[1],
                state,
                records.get(k, no_record),
                p[0] if p else None,
                p[1] if p else None,
                system.provisional(state, now_us),
            )
        )
    out.sort(key=lambda e: (e.place is None, e.place or 0, e.uid, e.race))
    return out
