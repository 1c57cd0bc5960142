"""Tests for ladder.glicko2 and ladder.rating_systems: Glickman's example, Elo unchanged,
provisional ratings, inactivity, soft resets and replays across seasons."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.config import ConfigError, RatingConfig, parse_ladder_config
from ladder.glicko2 import SCALE, Game, Glicko2Rating, grow_deviation, rate_period
from ladder.rating import LoggedAdjustment, Result, replay_log
from ladder.rating_systems import (
    DAY_US,
    EloSystem,
    Glicko2System,
    RatingState,
    SeasonBreak,
    TimedMatch,
    rating_system,
    replay_season,
    replay_seasons,
)

# Glickman, "Example of the Glicko-2 system" (2013): the player and the three opponents.
PLAYER = Glicko2Rating(1500, 200, 0.06)
GAMES = [
    Game(Glicko2Rating(1400, 30, 0.06), 1),
    Game(Glicko2Rating(1550, 100, 0.06), 0),
    Game(Glicko2Rating(1700, 300, 0.06), 0),
]


def test_glickman_worked_example() -> None:
    after = rate_period(PLAYER, GAMES, tau=0.5, base=1500)
    # The paper's figures, to the paper's precision: μ' = -0.2069, φ' = 0.8722, σ' = 0.05999,
    # which it converts to r' = 1464.06 and RD' = 151.52.
    assert round((after.rating - 1500) / SCALE, 4) == -0.2069
    assert round(after.deviation / SCALE, 4) == 0.8722
    assert after.volatility == pytest.approx(0.05999, abs=1e-5)
    assert after.rating == pytest.approx(1464.06, abs=0.01)
    assert round(after.deviation, 2) == 151.52
    # The unrounded values. PyPI's glicko2 2.1.0 gives σ' 0.0599934 here: its f(x) squares
    # the rating μ where the paper has φ, so its σ' also moves when every rating is shifted.
    assert after.rating == pytest.approx(1464.0506705, abs=1e-6)
    assert after.deviation == pytest.approx(151.5165241, abs=1e-6)
    assert after.volatility == pytest.approx(0.0599959843, abs=1e-9)


def test_glicko2_does_not_depend_on_where_the_scale_starts() -> None:
    shifted = rate_period(
        Glicko2Rating(2100, 200, 0.06),
        [
            Game(Glicko2Rating(g.opponent.rating + 600, g.opponent.deviation, 0.06), g.score)
            for g in GAMES
        ],
        tau=0.5,
        base=1500,
    )
    plain = rate_period(PLAYER, GAMES, tau=0.5, base=1500)
    assert shifted.rating - 600 == pytest.approx(plain.rating, abs=1e-9)
    assert shifted.volatility == pytest.approx(plain.volatility, abs=1e-12)


def test_no_games_only_grows_the_deviation() -> None:
    after = rate_period(PLAYER, [], tau=0.5, base=1500)
    assert after.rating == 1500 and after.volatility == 0.06
    # Step 6: φ* = √(φ² + σ²), back on the Glicko scale.
    assert after.deviation == pytest.approx(((200 / SCALE) ** 2 + 0.06**2) ** 0.5 * SCALE)
    assert grow_deviation(PLAYER, 10_000, 350).deviation == 350  # capped at a stranger's


def test_elo_system_matches_todays_elo_exactly() -> None:
    system = rating_system(RatingConfig())
    assert isinstance(system, EloSystem) and system.plain
    a, b = system.game(RatingState(1700), RatingState(1500), 1, None)
    assert (a.rating, b.rating, a.games, b.games) == (1711, 1489, 1, 1)


log_entries = st.lists(
    st.one_of(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 5),
            st.sampled_from(list(Result)),
            st.integers(0, 40 * DAY_US),
        ),
        st.tuples(st.integers(0, 5), st.sampled_from(["set", "add"]), st.integers(-300, 300)),
    ),
    max_size=60,
)


def _timed(raw: list[tuple]) -> list:
    out: list = []
    clock = 0
    for i, item in enumerate(raw):
        if len(item) == 4:
            p1, p2, result, gap = item
            if p1 == p2:
                continue
            clock += gap
            out.append(TimedMatch(i, (p1, "r"), (p2, "r"), result, clock))
        else:
            p, kind, amount = item
            out.append(LoggedAdjustment((p, "r"), kind, 1500 + amount if kind == "set" else amount))
    return out


@settings(max_examples=80, deadline=None)
@given(log_entries)
def test_the_fast_elo_replay_equals_game_by_game(raw: list[tuple]) -> None:
    entries = _timed(raw)
    plain = EloSystem()
    slow = EloSystem(provisional_games=3, provisional_k=40)  # same K: not "plain" by code path
    fast = replay_season(plain, entries)
    one_by_one = replay_season(slow, entries)
    assert fast.states == one_by_one.states
    assert fast.shown == one_by_one.shown
    # And both are today's ladder.rating.replay_log.
    old = replay_log(
        [e if isinstance(e, LoggedAdjustment) else e[:4] for e in entries], 1500, 40, 500
    )
    assert {k: int(s.rating) for k, s in fast.states.items()} == old.ratings


def test_elo_provisional_k_and_flag() -> None:
    system = EloSystem(provisional_games=2, provisional_k=80)
    a, b = system.new(), system.new()
    assert system.provisional(a, 0)
    a, b = system.game(a, b, 1, 0)
    assert (a.rating, b.rating) == (1540, 1460)  # K 80 while provisional
    a, b = system.game(a, b, 1, 0)
    a, b = system.game(a, b, 1, 0)
    assert a.games == 3 and not system.provisional(a, 0)
    settled = system.game(a, RatingState(int(a.rating), games=5), 1, 0)[0]
    assert settled.rating - a.rating == 20  # K 40 once settled


def test_elo_decay_is_off_by_default_and_lazy_when_on() -> None:
    state = RatingState(1800, games=10, last_at=0)
    assert EloSystem().as_of(state, 400 * DAY_US) == state
    decaying = EloSystem(decay_after_days=30, decay_per_week=7, decay_floor=1600)
    assert decaying.as_of(state, 30 * DAY_US) == state
    at_44 = decaying.as_of(state, 44 * DAY_US)  # 14 days of decay at 1 point a day
    assert at_44.rating == 1786
    # Reading twice never takes the decay twice.
    assert decaying.as_of(at_44, 44 * DAY_US) == at_44
    assert decaying.as_of(at_44, 58 * DAY_US).rating == decaying.as_of(state, 58 * DAY_US).rating
    assert decaying.as_of(state, 10_000 * DAY_US).rating == 1600  # never below the floor
    assert decaying.changes_at(state) == (30 * DAY_US, "starts decaying")


def test_glicko2_deviation_grows_with_time_away_and_turns_provisional() -> None:
    system = Glicko2System()
    a = RatingState(1600, 60, 0.06, games=30, last_at=0)
    assert not system.provisional(a, 0)
    when, what = system.changes_at(a)
    assert what == "becomes provisional" and when is not None
    assert not system.provisional(a, when - DAY_US)
    assert system.provisional(a, when + 1)
    assert system.as_of(a, 10**6 * DAY_US).deviation == 350


def test_glicko2_per_game_update_is_a_one_game_period() -> None:
    system = Glicko2System()
    a = RatingState(1500, 200, 0.06, last_at=0)
    b = RatingState(1400, 30, 0.06, last_at=0)
    na, nb = system.game(a, b, 1, 0)
    expected = rate_period(
        Glicko2Rating(1500, 200, 0.06), [Game(Glicko2Rating(1400, 30, 0.06), 1)], 0.5, 1500, 350
    )
    assert (na.rating, na.deviation, na.volatility) == (
        expected.rating,
        expected.deviation,
        expected.volatility,
    )
    assert na.rating > 1500 > nb.rating and na.games == nb.games == 1
    # Ten days away first: the deviation grows before the game, so the game moves it more.
    late = system.game(a, b, 1, 10 * DAY_US)[0]
    assert late.rating - 1500 > na.rating - 1500


@pytest.mark.parametrize(
    ("mode", "fraction", "expected"),
    [("keep", 0.5, 1800), ("reset", 0.5, 1500), ("pull", 0.25, 1725)],
)
def test_soft_resets(mode: str, fraction: float, expected: int) -> None:
    start = RatingState(1800, games=12, last_at=5)
    assert EloSystem().soft_reset(start, mode, fraction) == RatingState(expected, last_at=5)
    g = Glicko2System().soft_reset(RatingState(1800, 50, 0.06, 12, 5), mode, fraction)
    assert g.shown == expected and g.games == 0


def test_replay_seasons_applies_each_break() -> None:
    p, q = (1, "r"), (2, "r")
    s1 = [TimedMatch(1, p, q, Result.P1_WIN, 0)]
    s2 = [TimedMatch(2, p, q, Result.P1_WIN, DAY_US)]
    out = replay_seasons(EloSystem(), [(s1, SeasonBreak("reset")), (s2, None)])
    assert out[0].states[p].rating == 1520
    assert out[1].states[p].rating == 1520 and out[1].states[p].games == 1
    kept = replay_seasons(EloSystem(), [(s1, SeasonBreak("keep")), (s2, None)])
    assert kept[1].states[p].rating == 1520 + 18


def test_config_selects_and_checks_the_system() -> None:
    base = {"season": {"map_pool": ["A", "B"], "max_vetoes": 0}}
    config = parse_ladder_config({**base, "rating": {"system": "glicko2", "glicko2": {"tau": 0.3}}})
    system = rating_system(config.rating)
    assert isinstance(system, Glicko2System) and system.tau == 0.3
    assert rating_system(parse_ladder_config(base).rating) == EloSystem()
    with pytest.raises(ConfigError, match=r"rating\.system must be"):
        parse_ladder_config({**base, "rating": {"system": "trueskill"}})
    with pytest.raises(ConfigError, match=r"rating\.glicko2\.tua is not a known setting"):
        parse_ladder_config({**base, "rating": {"glicko2": {"tua": 0.3}}})
    with pytest.raises(ConfigError, match=r"season\.soft_reset must be"):
        parse_ladder_config({"season": {**base["season"], "soft_reset": "wipe"}})
    with pytest.raises(ConfigError, match=r"leaderboard\.require_settled must be true or false"):
        parse_ladder_config({**base, "leaderboard": {"require_settled": "yes"}})
