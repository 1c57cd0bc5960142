"""The rating systems a ladder can use, behind one seam: `RatingSystem`.

A rating is a `RatingState` (the exact rating, Glicko-2's deviation and volatility, the games
this season and when the last one was rated). A system is a frozen dataclass of settings with
pure methods: `new` (a player's first rating), `game` (both states after one game), `adjust`
(an admin's 'set' or 'add'), `as_of` (the state a moment later: Glicko-2's deviation grows,
Elo may decay) and `provisional`. `replay_season` and `replay_seasons` fold an ordered log
through a system; they are what the stored ratings must always equal.

Elo with the default settings is exactly `ladder.rating` (integer ratings, one rounded
`delta` moving from one side to the other); its replay is delegated to `ladder.rating.replay`
and its single-game update goes through the same `_delta`, so nothing about today's Elo
figures changes. Every other combination (Elo with a provisional K or decay, Glicko-2) goes
through `game` one entry at a time.

Ratings are updated per game (see docs/ratings.md for why): each game is a one-game Glicko-2
rating period for both players, and the time between a player's games grows the deviation by
`elapsed / period_days` periods before the game is rated, as Glickman's step 6 does for
periods without games.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

from ladder.config import RatingConfig
from ladder.glicko2 import SCALE, Glicko2Rating, grow_deviation, rate_game
from ladder.rating import (
    LoggedAdjustment,
    RatingKey,
    Result,
    _delta,
    adjusted,
    replay,
    round_half_away,
    score_of,
)

DAY_US = 86_400_000_000
"""Microseconds in a day: moments in this module are integer microseconds since the epoch."""

SYSTEMS = ("elo", "glicko2")
SOFT_RESETS = ("keep", "reset", "pull")


@dataclass(frozen=True, slots=True)
class RatingState:
    """One (player, race) rating: `rating` is exact, `shown` the whole number players see.

    `deviation` and `volatility` are Glicko-2's (0 under Elo); `games` counts the rated games
    of the current season; `last_at` is when the last one was rated (µs since the epoch).
    """

    rating: float
    deviation: float = 0.0
    volatility: float = 0.0
    games: int = 0
    last_at: int | None = None

    @property
    def shown(self) -> int:
        """Return the rating as shown and stored in `ratings.mmr`: a whole number."""
        return round_half_away(self.rating)


class RatingSystem(Protocol):
    """What the ledger, the replay and the leaderboard need from a rating system."""

    @property
    def name(self) -> str: ...

    @property
    def start(self) -> int: ...

    def new(self) -> RatingState:
        """Return a new player's rating."""
        ...

    def game(
        self, a: RatingState, b: RatingState, score_a: float, at: int | None
    ) -> tuple[RatingState, RatingState]:
        """Return both ratings after A scored `score_a` against B at moment `at`."""
        ...

    def adjust(self, state: RatingState, kind: str, amount: int) -> RatingState:
        """Return the rating after an admin adjustment ('set' or 'add')."""
        ...

    def as_of(self, state: RatingState, now: int) -> RatingState:
        """Return the rating as it stands at `now` after time without games."""
        ...

    def provisional(self, state: RatingState, now: int) -> bool:
        """Return whether the rating is still provisional (shown as `1523?`) at `now`."""
        ...

    def changes_at(self, state: RatingState) -> tuple[int | None, str]:
        """Return when time away starts to change this rating, and what it does then."""
        ...

    def soft_reset(self, state: RatingState, mode: str, fraction: float) -> RatingState:
        """Return the rating a player starts the next season with."""
        ...


@dataclass(frozen=True, slots=True)
class EloSystem:
    """Elo with integer ratings; provisional K and decay are optional (off by default).

    A rating is provisional during its first `provisional_games` games of a season, and those
    games move it with `provisional_k` (default: the normal K). With `decay_after_days` > 0, a
    rating above `decay_floor` loses `decay_per_week` points per week of inactivity after that
    many days, never below the floor; the decay is a function of time, applied lazily when
    the rating is read or next played, so it cannot be applied twice.
    """

    start: int = 1500
    k_factor: float = 40
    divisor: float = 500
    provisional_games: int = 0
    provisional_k: float | None = None
    decay_after_days: int = 0
    decay_per_week: float = 0
    decay_floor: int = 1500
    name: str = field(default="elo", init=False)

    @property
    def plain(self) -> bool:
        """Whether this is today's Elo: one K for everyone and no decay (the fast replay)."""
        k = self.k_factor if self.provisional_k is None else self.provisional_k
        return (k == self.k_factor or self.provisional_games == 0) and not self.decays

    @property
    def decays(self) -> bool:
        return self.decay_after_days > 0 and self.decay_per_week > 0

    def new(self) -> RatingState:
        return RatingState(self.start)

    def _k(self, state: RatingState) -> float:
        if state.games < self.provisional_games and self.provisional_k is not None:
            return self.provisional_k
        return self.k_factor

    def game(
        self, a: RatingState, b: RatingState, score_a: float, at: int | None
    ) -> tuple[RatingState, RatingState]:
        if score_a not in (0, 0.5, 1):
            raise ValueError(f"score must be 1, 0.5 or 0, not {score_a!r}")
        if at is not None:
            a, b = self.as_of(a, at), self.as_of(b, at)
        ra, rb = int(a.rating), int(b.rating)
        ka, kb = self._k(a), self._k(b)
        da = _delta(ra - rb, float(score_a), ka, self.divisor)
        # The same rounded change both ways unless the two sides use different K factors.
        db = da if kb == ka else _delta(ra - rb, float(score_a), kb, self.divisor)
        return (
            RatingState(ra + da, games=a.games + 1, last_at=_later(at, a)),
            RatingState(rb - db, games=b.games + 1, last_at=_later(at, b)),
        )

    def adjust(self, state: RatingState, kind: str, amount: int) -> RatingState:
        return replace(state, rating=adjusted(int(state.rating), kind, amount))

    def as_of(self, state: RatingState, now: int) -> RatingState:
        if not self.decays or state.last_at is None or state.rating <= self.decay_floor:
            return state
        idle_days = (now - state.last_at) / DAY_US - self.decay_after_days
        if idle_days <= 0:
            return state
        lost = round_half_away(self.decay_per_week * idle_days / 7)
        decayed = max(self.decay_floor, int(state.rating) - lost)
        # The anchor moves with the decay applied, so a second read never takes it again.
        return replace(state, rating=decayed, last_at=now - self.decay_after_days * DAY_US)

    def provisional(self, state: RatingState, now: int) -> bool:
        return state.games < self.provisional_games

    def changes_at(self, state: RatingState) -> tuple[int | None, str]:
        if not self.decays or state.last_at is None or state.rating <= self.decay_floor:
            return None, ""
        return state.last_at + self.decay_after_days * DAY_US, "starts decaying"

    def soft_reset(self, state: RatingState, mode: str, fraction: float) -> RatingState:
        rating = _reset_rating(int(state.rating), self.start, mode, fraction)
        return RatingState(rating, last_at=state.last_at)


@dataclass(frozen=True, slots=True)
class Glicko2System:
    """Glicko-2 updated per game, with the deviation growing over time away.

    A rating is provisional while its deviation (grown to now) is above
    `provisional_deviation`.
    """

    start: int = 1500
    deviation: float = 350
    volatility: float = 0.06
    tau: float = 0.5
    period_days: float = 1
    provisional_deviation: float = 110
    name: str = field(default="glicko2", init=False)

    def new(self) -> RatingState:
        return RatingState(self.start, self.deviation, self.volatility)

    def _periods(self, state: RatingState, now: int) -> float:
        if state.last_at is None or now <= state.last_at:
            return 0.0
        return (now - state.last_at) / (self.period_days * DAY_US)

    def as_of(self, state: RatingState, now: int) -> RatingState:
        periods = self._periods(state, now)
        if periods <= 0:
            return state
        grown = grow_deviation(_g2(state), periods, self.deviation)
        return replace(state, deviation=grown.deviation)

    def game(
        self, a: RatingState, b: RatingState, score_a: float, at: int | None
    ) -> tuple[RatingState, RatingState]:
        if score_a not in (0, 0.5, 1):
            raise ValueError(f"score must be 1, 0.5 or 0, not {score_a!r}")
        na, nb = self._pair(
            (a.rating, a.deviation, a.volatility, a.last_at),
            (b.rating, b.deviation, b.volatility, b.last_at),
            score_a,
            at,
        )
        return (
            RatingState(na[0], na[1], na[2], a.games + 1, _later(at, a)),
            RatingState(nb[0], nb[1], nb[2], b.games + 1, _later(at, b)),
        )

    def _pair(
        self,
        a: tuple[float, float, float, int | None],
        b: tuple[float, float, float, int | None],
        score_a: float,
        at: int | None,
    ) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        # Both players' (rating, deviation, volatility) after one game: the deviation grown by
        # the time since each one's last game (capped), then a one-game period for each from
        # the other's rating before the game. Plain floats: this is the replay's hot loop.
        base, scale, cap = self.start, SCALE, self.deviation / SCALE
        phi_a, phi_b = a[1] / scale, b[1] / scale
        if at is not None:
            period_us = self.period_days * DAY_US
            last = a[3]
            if last is not None and at > last:
                t = (at - last) / period_us
                phi_a = min(math.sqrt(phi_a * phi_a + t * a[2] * a[2]), cap)
            last = b[3]
            if last is not None and at > last:
                t = (at - last) / period_us
                phi_b = min(math.sqrt(phi_b * phi_b + t * b[2] * b[2]), cap)
        phis = (phi_a, phi_b)
        mu_a, mu_b = (a[0] - base) / scale, (b[0] - base) / scale
        ma, pa, sa = rate_game(mu_a, phis[0], a[2], mu_b, phis[1], score_a, self.tau)
        mb, pb, sb = rate_game(mu_b, phis[1], b[2], mu_a, phis[0], 1.0 - score_a, self.tau)
        return (
            (ma * scale + base, min(pa * scale, self.deviation), sa),
            (mb * scale + base, min(pb * scale, self.deviation), sb),
        )

    def adjust(self, state: RatingState, kind: str, amount: int) -> RatingState:
        if kind == "set":
            return replace(state, rating=float(amount))
        if kind == "add":
            # On the shown rating, as the admin saw it: the result is a whole number.
            return replace(state, rating=float(state.shown + amount))
        raise ValueError(f"unknown adjustment {kind!r}")

    def provisional(self, state: RatingState, now: int) -> bool:
        return self.as_of(state, now).deviation > self.provisional_deviation

    def changes_at(self, state: RatingState) -> tuple[int | None, str]:
        """When the grown deviation passes the provisional threshold (None: already past)."""
        if state.last_at is None or state.deviation > self.provisional_deviation:
            return None, ""
        phi = state.deviation / 173.7178
        limit = self.provisional_deviation / 173.7178
        sigma2 = state.volatility * state.volatility
        if sigma2 <= 0:
            return None, ""
        periods = (limit * limit - phi * phi) / sigma2
        return state.last_at + math.ceil(periods * self.period_days * DAY_US), (
            "becomes provisional"
        )

    def soft_reset(self, state: RatingState, mode: str, fraction: float) -> RatingState:
        if mode == "reset":
            return replace(self.new(), last_at=state.last_at)
        if mode == "keep":
            return replace(state, games=0)
        if mode == "pull":
            return RatingState(
                state.rating + (self.start - state.rating) * fraction,
                state.deviation + (self.deviation - state.deviation) * fraction,
                state.volatility,
                0,
                state.last_at,
            )
        raise ValueError(f"unknown soft reset {mode!r}")


def rating_system(config: RatingConfig, name: str | None = None) -> RatingSystem:
    """Return the system `name` (default: the configured one) with the configured settings."""
    name = name or config.system
    if name == "elo":
        return EloSystem(
            start=config.start,
            k_factor=config.k_factor,
            divisor=config.divisor,
            provisional_games=config.provisional_games,
            provisional_k=config.provisional_k_factor,
            decay_after_days=config.decay_after_days,
            decay_per_week=config.decay_per_week,
            decay_floor=config.decay_floor,
        )
    if name == "glicko2":
        g = config.glicko2
        return Glicko2System(
            start=config.start,
            deviation=g.deviation,
            volatility=g.volatility,
            tau=g.tau,
            period_days=g.period_days,
            provisional_deviation=g.provisional_deviation,
        )
    raise ValueError(f"unknown rating system {name!r}: choose one of {', '.join(SYSTEMS)}")


def _later(at: int | None, state: RatingState) -> int | None:
    return state.last_at if at is None else at


def _g2(state: RatingState) -> Glicko2Rating:
    return Glicko2Rating(state.rating, state.deviation, state.volatility)


def _reset_rating(rating: int, start: int, mode: str, fraction: float) -> int:
    if mode == "keep":
        return rating
    if mode == "reset":
        return start
    if mode == "pull":
        return rating + round_half_away((start - rating) * fraction)
    raise ValueError(f"unknown soft reset {mode!r}")


# --- replaying a log ---------------------------------------------------------------------


class TimedMatch(NamedTuple):
    """A rated match in the log with the moment it was rated (µs since the epoch, or None)."""

    match_id: int
    p1_key: RatingKey
    p2_key: RatingKey
    result: Result | str
    at: int | None = None


type TimedEntry = TimedMatch | LoggedAdjustment


@dataclass(frozen=True, slots=True)
class SeasonReplay:
    """The ratings after a season's log, and each match's shown before/after ratings."""

    states: dict[RatingKey, RatingState]
    # match_id -> (shown before 1, shown before 2, shown after 1, shown after 2)
    shown: dict[int, tuple[int, int, int, int]]


def replay_season(
    system: RatingSystem,
    entries: Iterable[TimedEntry],
    initial: Mapping[RatingKey, RatingState] | None = None,
) -> SeasonReplay:
    """Fold one season's ordered log through `system`, from `initial` (absent keys: new)."""
    states: dict[RatingKey, RatingState] = dict(initial) if initial else {}
    if isinstance(system, EloSystem) and system.plain:
        return _replay_plain_elo(system, entries, states)
    if isinstance(system, Glicko2System):
        return _replay_glicko2(system, entries, states)
    shown: dict[int, tuple[int, int, int, int]] = {}
    new = system.new()
    for entry in entries:
        if isinstance(entry, LoggedAdjustment):
            states[entry.key] = system.adjust(states.get(entry.key, new), entry.kind, entry.amount)
            continue
        match_id, key1, key2, result, at = entry
        if key1 == key2:
            raise ValueError(f"match {match_id}: a rating key cannot play itself")
        a, b = states.get(key1, new), states.get(key2, new)
        na, nb = system.game(a, b, score_of(result), at)
        states[key1], states[key2] = na, nb
        shown[match_id] = (a.shown, b.shown, na.shown, nb.shown)
    return SeasonReplay(states, shown)


def _replay_plain_elo(
    system: EloSystem, entries: Iterable[TimedEntry], states: dict[RatingKey, RatingState]
) -> SeasonReplay:
    # Today's Elo: the integer fast path of ladder.rating.replay between adjustments, with
    # games and last_at counted alongside.
    ratings = {k: int(s.rating) for k, s in states.items()}
    games = {k: s.games for k, s in states.items()}
    last = {k: s.last_at for k, s in states.items()}
    shown: dict[int, tuple[int, int, int, int]] = {}
    segment: list[tuple[int, RatingKey, RatingKey, Result | str]] = []

    def flush() -> None:
        if segment:
            out = replay(segment, system.start, system.k_factor, system.divisor, ratings)
            ratings.update(out.ratings)
            s = out.steps
            for i, match_id in enumerate(s.match_ids):
                d = s.deltas[i]
                shown[match_id] = (
                    s.before_1[i],
                    s.before_2[i],
                    s.before_1[i] + d,
                    s.before_2[i] - d,
                )
            segment.clear()

    for entry in entries:
        if isinstance(entry, LoggedAdjustment):
            flush()
            ratings[entry.key] = adjusted(
                ratings.get(entry.key, system.start), entry.kind, entry.amount
            )
            continue
        match_id, key1, key2, result, at = entry
        segment.append((match_id, key1, key2, result))
        for key in (key1, key2):
            games[key] = games.get(key, 0) + 1
            if at is not None:
                last[key] = at
    flush()
    out_states = {
        k: RatingState(r, games=games.get(k, 0), last_at=last.get(k)) for k, r in ratings.items()
    }
    return SeasonReplay(out_states, shown)


def _replay_glicko2(
    system: Glicko2System, entries: Iterable[TimedEntry], states: dict[RatingKey, RatingState]
) -> SeasonReplay:
    # `Glicko2System.game` without a RatingState per step: the same `_pair`, on tuples.
    new = system.new()
    fresh = (float(new.rating), new.deviation, new.volatility, 0, None)
    live: dict[RatingKey, tuple[float, float, float, int, int | None]] = {
        k: (s.rating, s.deviation, s.volatility, s.games, s.last_at) for k, s in states.items()
    }
    shown: dict[int, tuple[int, int, int, int]] = {}
    pair = system._pair
    get = live.get
    for entry in entries:
        if isinstance(entry, LoggedAdjustment):
            r, d, v, g, last = get(entry.key, fresh)
            moved = system.adjust(RatingState(r, d, v, g, last), entry.kind, entry.amount)
            live[entry.key] = (moved.rating, d, v, g, last)
            continue
        match_id, key1, key2, result, at = entry
        if key1 == key2:
            raise ValueError(f"match {match_id}: a rating key cannot play itself")
        a, b = get(key1, fresh), get(key2, fresh)
        na, nb = pair((a[0], a[1], a[2], a[4]), (b[0], b[1], b[2], b[4]), score_of(result), at)
        live[key1] = (na[0], na[1], na[2], a[3] + 1, a[4] if at is None else at)
        live[key2] = (nb[0], nb[1], nb[2], b[3] + 1, b[4] if at is None else at)
        shown[match_id] = (
            round_half_away(a[0]),
            round_half_away(b[0]),
            round_half_away(na[0]),
            round_half_away(nb[0]),
        )
    out = {k: RatingState(*t) for k, t in live.items()}
    return SeasonReplay(out, shown)


@dataclass(frozen=True, slots=True)
class SeasonBreak:
    """Where one season ends and the next begins, and the soft reset between them."""

    mode: str = "keep"
    fraction: float = 0.0


def soft_reset_all(
    system: RatingSystem, states: Mapping[RatingKey, RatingState], reset: SeasonBreak
) -> dict[RatingKey, RatingState]:
    """Return every key's starting rating for the next season."""
    return {k: system.soft_reset(s, reset.mode, reset.fraction) for k, s in states.items()}


def replay_seasons(
    system: RatingSystem, seasons: Iterable[tuple[Iterable[TimedEntry], SeasonBreak | None]]
) -> list[SeasonReplay]:
    """Replay several seasons in order; each but the last ends with the break given with it.

    Returns each season's replay: its `states` are that season's final ratings (the archive
    for a past season, the live ratings for the current one).
    """
    out: list[SeasonReplay] = []
    initial: dict[RatingKey, RatingState] = {}
    for entries, season_break in seasons:
        done = replay_season(system, entries, initial)
        out.append(done)
        if season_break is not None:
            initial = soft_reset_all(system, done.states, season_break)
    return out


def provisional_rule(
    system: RatingSystem,
) -> Callable[[int, float | None, float | None, int], bool]:
    """Return the standings' test: is a rating with these games, deviation and volatility
    (None: a new rating's), last played at that moment (µs), provisional right after it?"""
    new = system.new()

    def rule(games: int, deviation: float | None, volatility: float | None, last: int) -> bool:
        state = RatingState(
            new.rating,
            new.deviation if deviation is None else deviation,
            new.volatility if volatility is None else volatility,
            games,
            last,
        )
        return system.provisional(state, last)

    return rule
