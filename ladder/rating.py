"""Elo ratings, kept as integers, and the replay that recomputes them from the match log.

Ratings are integers. A match moves `delta` points from one side to the other, where
`delta = round_half_away_from_zero(k * (score_1 - expected_1))`; player 1 gains `delta` and
player 2 loses exactly the same amount. So the sum of all ratings never drifts, the numbers
shown, stored and compared are the same integers, and SQLite stores them exactly.

Ratings are a pure function of the ordered log of finalised matches (ordered by the moment
each match was finalised, which is when storage appends it): `elo_update` (one match, applied
as it finalises) and `replay` (a whole log, or its tail after a correction) call the same
`_delta`, so a full recompute reproduces the incremental ratings exactly. A rating key is
`(player_uid, race)`: each race a player plays has its own rating.

The expected score uses floating point (`10 ** x`), then rounds to an integer; a one-ulp
difference between C libraries could only matter exactly at a .5 tie, so ratings are
reproducible in practice across machines and exactly on the same one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, overload

type RatingKey = tuple[int, str]
"""(player_uid, race code): each race a player plays has its own rating."""


class Result(StrEnum):
    """How a finalised match ended, from player 1's side of the match."""

    P1_WIN = "p1_win"
    P2_WIN = "p2_win"
    DRAW = "draw"


# Player 1's score for each result. Keyed by the StrEnum, which hashes like its string, so
# storage may pass plain "p1_win" strings too.
_SCORE: dict[str, float] = {Result.P1_WIN: 1.0, Result.DRAW: 0.5, Result.P2_WIN: 0.0}


class LoggedMatch(NamedTuple):
    """One finalised match in the rating log, in log order (a plain tuple works as well)."""

    match_id: int
    p1_key: RatingKey
    p2_key: RatingKey
    result: Result


@dataclass(frozen=True, slots=True)
class ReplayStep:
    """What one match did: both ratings before it and player 1's gain (player 2 lost it)."""

    match_id: int
    before_1: int
    before_2: int
    delta: int


class Steps(Sequence[ReplayStep]):
    """One `ReplayStep` per replayed match, in log order, stored as columns.

    A million small objects would cost more than the replay itself, so the columns are kept as
    plain lists and a `ReplayStep` is built only when one is read.
    """

    __slots__ = ("before_1", "before_2", "deltas", "match_ids")

    def __init__(
        self, match_ids: list[int], before_1: list[int], before_2: list[int], deltas: list[int]
    ) -> None:
        self.match_ids = match_ids
        self.before_1 = before_1
        self.before_2 = before_2
        self.deltas = deltas

    def __len__(self) -> int:
        return len(self.match_ids)

    @overload
    def __getitem__(self, i: int) -> ReplayStep: ...
    @overload
    def __getitem__(self, i: slice) -> list[ReplayStep]: ...
    def __getitem__(self, i: int | slice) -> ReplayStep | list[ReplayStep]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return ReplayStep(self.match_ids[i], self.before_1[i], self.before_2[i], self.deltas[i])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Steps):
            return (self.match_ids, self.before_1, self.before_2, self.deltas) == (
                other.match_ids,
                other.before_1,
                other.before_2,
                other.deltas,
            )
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Steps({len(self)} matches)"


@dataclass(frozen=True, slots=True)
class Replay:
    """The outcome of replaying a log: final ratings and one step per match, in order."""

    ratings: dict[RatingKey, int]
    steps: Steps


@dataclass(frozen=True, slots=True)
class RatingChange:
    """One rating that a correction moved, for the admin ruling message."""

    key: RatingKey
    old: int
    new: int

    @property
    def delta(self) -> int:
        """Return how far the rating moved."""
        return self.new - self.old


def round_half_away(x: float) -> int:
    """Round to the nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3)."""
    # Not `int(x + 0.5)`: 0.49999999999999994 + 0.5 == 1.0 in floating point.
    f = math.floor(x)
    frac = x - f
    if frac > 0.5 or (frac == 0.5 and x > 0):
        return f + 1
    return f


def _expected(diff: float, divisor: float) -> float:
    # Expected score of the side that is `diff` points above the other.
    return 1.0 / (1.0 + 10.0 ** (-diff / divisor))


def _delta(diff: int, score: float, k: float, divisor: float) -> int:
    # The single place a rating change is computed, so incremental and replay always agree.
    return round_half_away(k * (score - _expected(diff, divisor)))


def score_of(result: Result | str) -> float:
    """Return player 1's score (1, 0.5 or 0) for a result."""
    try:
        return _SCORE[result]
    except KeyError:
        raise ValueError(f"unknown match result {result!r}") from None


def elo_update(mmr_a: int, mmr_b: int, score_a: float, k: float, divisor: float) -> tuple[int, int]:
    """Return both new ratings after A scored `score_a` (1 win, 0.5 draw, 0 loss) against B."""
    if score_a not in (0, 0.5, 1):
        raise ValueError(f"score must be 1, 0.5 or 0, not {score_a!r}")
    d = _delta(mmr_a - mmr_b, float(score_a), k, divisor)
    return mmr_a + d, mmr_b - d


def replay(
    matches: Iterable[tuple[int, RatingKey, RatingKey, Result | str]],
    start: int,
    k: float,
    divisor: float,
    initial: Mapping[RatingKey, int] | None = None,
) -> Replay:
    """Replay an ordered log of finalised matches from `initial` (or everyone at `start`)."""
    ratings: dict[RatingKey, int] = dict(initial) if initial else {}
    ids: list[int] = []
    b1: list[int] = []
    b2: list[int] = []
    ds: list[int] = []
    # The change depends only on the rating difference and the result, and differences are
    # small integers, so each distinct (result, difference) is computed once: this is what
    # makes a million-match replay take about a second.
    caches: dict[str, dict[int, int]] = {r: {} for r in _SCORE}
    get = ratings.get
    add_id, add_b1, add_b2, add_d = ids.append, b1.append, b2.append, ds.append
    for match_id, key1, key2, result in matches:
        if key1 == key2:
            raise ValueError(f"match {match_id}: a rating key cannot play itself")
        r1 = get(key1, start)
        r2 = get(key2, start)
        try:
            cache = caches[result]
        except KeyError:
            raise ValueError(f"match {match_id}: unknown result {result!r}") from None
        diff = r1 - r2
        d = cache.get(diff)
        if d is None:
            d = cache[diff] = _delta(diff, _SCORE[result], k, divisor)
        ratings[key1] = r1 + d
        ratings[key2] = r2 - d
        add_id(match_id)
        add_b1(r1)
        add_b2(r2)
        add_d(d)
    return Replay(ratings, Steps(ids, b1, b2, ds))


def diff_ratings(
    before: Mapping[RatingKey, int], after: Mapping[RatingKey, int], start: int
) -> list[RatingChange]:
    """List the keys whose rating differs between two snapshots (absent means `start`)."""
    changes = [
        RatingChange(key, old, new)
        for key in before.keys() | after.keys()
        if (old := before.get(key, start)) != (new := after.get(key, start))
    ]
    # Sorted so the admin message and tests are stable.
    changes.sort(key=lambda c: c.key)
    return changes


def rating_changes(
    stored: Mapping[RatingKey, int],
    matches: Iterable[tuple[int, RatingKey, RatingKey, Result | str]],
    start: int,
    k: float,
    divisor: float,
) -> tuple[Replay, list[RatingChange]]:
    """Replay the corrected log and list whose ratings differ from the stored ones."""
    fresh = replay(matches, start, k, divisor)
    return fresh, diff_ratings(stored, fresh.ratings, start)


# --- the rating log: matches interleaved with admin adjustments --------------------------


class LoggedAdjustment(NamedTuple):
    """An admin MMR adjustment in the rating log: `kind` 'set' (to `amount`) or 'add'."""

    key: RatingKey
    kind: str
    amount: int


type LogEntry = LoggedMatch | LoggedAdjustment
"""One rating-log entry; a match may also be a plain (match_id, p1_key, p2_key, result) tuple."""


def adjusted(value: int, kind: str, amount: int) -> int:
    """Return a rating after an adjustment ('set' replaces it, 'add' adds a signed amount)."""
    if kind == "set":
        return amount
    if kind == "add":
        return value + amount
    raise ValueError(f"unknown adjustment {kind!r}")


def replay_log(
    entries: Iterable[LogEntry | tuple[int, RatingKey, RatingKey, Result | str]],
    start: int,
    k: float,
    divisor: float,
    initial: Mapping[RatingKey, int] | None = None,
) -> Replay:
    """Replay an ordered rating log of matches and adjustments; steps list the matches only."""
    ratings: dict[RatingKey, int] = dict(initial) if initial else {}
    ids: list[int] = []
    b1: list[int] = []
    b2: list[int] = []
    ds: list[int] = []
    segment: list = []

    def flush() -> None:
        # Matches between two adjustments are replayed in one call, keeping replay's speed.
        if segment:
            out = replay(segment, start, k, divisor, initial=ratings)
            ratings.update(out.ratings)
            ids.extend(out.steps.match_ids)
            b1.extend(out.steps.before_1)
            b2.extend(out.steps.before_2)
            ds.extend(out.steps.deltas)
            segment.clear()

    for entry in entries:
        if isinstance(entry, LoggedAdjustment):
            flush()
            ratings[entry.key] = adjusted(ratings.get(entry.key, start), entry.kind, entry.amount)
        else:
            segment.append(entry)
    flush()
    return Replay(ratings, Steps(ids, b1, b2, ds))


def rewind_log(
    current: Mapping[RatingKey, int],
    tail: Sequence[LogEntry | tuple[int, RatingKey, RatingKey, Result | str]],
    tail_steps: Sequence[ReplayStep],
    start: int,
) -> dict[RatingKey, int]:
    """Return ratings as they were before the first entry of `tail` (a log suffix).

    `tail_steps` holds one stored step per match of `tail`, in order; a key absent from
    `current` is at `start`. Walking backwards, a match restores both "before" values and an
    'add' is undone. A 'set' forgets the value it replaced, so that key keeps an arbitrary
    value until an earlier match of it restores it; nothing in the tail reads that value before
    the 'set' overwrites it, so replaying the tail from the result still gives exactly the
    ratings and steps of a full replay.
    """
    matches = [e for e in tail if not isinstance(e, LoggedAdjustment)]
    if len(matches) != len(tail_steps):
        raise ValueError("tail_steps must hold one step per match of the tail")
    ratings = dict(current)
    steps = iter(reversed(tail_steps))
    for entry in reversed(tail):
        if isinstance(entry, LoggedAdjustment):
            if entry.kind == "add":
                ratings[entry.key] = ratings.get(entry.key, start) - entry.amount
            elif entry.kind != "set":
                raise ValueError(f"unknown adjustment {entry.kind!r}")
            continue
        match_id, key1, key2, _ = entry
        step = next(steps)
        if step.match_id != match_id:
            raise ValueError(f"step for match {step.match_id} paired with match {match_id}")
        ratings[key1] = step.before_1
        ratings[key2] = step.before_2
    return ratings
