"""Tests for ladder.rating: Elo, rounding, and replay == incremental."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.rating import (
    LoggedMatch,
    RatingChange,
    RatingKey,
    ReplayStep,
    Result,
    diff_ratings,
    elo_update,
    rating_changes,
    replay,
    rewind_log,
    round_half_away,
    score_of,
)

START, K, DIV = 1500, 40, 500


def test_even_match_win() -> None:
    assert elo_update(1500, 1500, 1, K, DIV) == (1520, 1480)
    assert elo_update(1500, 1500, 0, K, DIV) == (1480, 1520)
    assert elo_update(1500, 1500, 0.5, K, DIV) == (1500, 1500)


def test_favourite_gains_less() -> None:
    new_a, new_b = elo_update(1700, 1500, 1, K, DIV)
    assert 0 < new_a - 1700 < 20
    assert new_a - 1700 == 1500 - new_b  # zero-sum
    # 1700 beats 1500: 40 * (1 - 1/(1+10**-0.4)) = 11.38 -> 11.
    assert new_a == 1711


def test_draw_moves_points_to_the_underdog() -> None:
    new_a, new_b = elo_update(1700, 1500, 0.5, K, DIV)
    assert new_a < 1700
    assert new_b > 1500


def test_bad_score() -> None:
    with pytest.raises(ValueError):
        elo_update(1500, 1500, 2, K, DIV)
    with pytest.raises(ValueError):
        score_of("p3_win")


@pytest.mark.parametrize(
    ("x", "expected"),
    [(2.5, 3), (-2.5, -3), (2.4999, 2), (-2.4999, -2), (0.49999999999999994, 0), (0.5, 1),
     (-0.5, -1), (0.0, 0), (19.999, 20), (-7.6, -8)],
)  # fmt: skip
def test_round_half_away(x: float, expected: int) -> None:
    assert round_half_away(x) == expected


def test_replay_small_log() -> None:
    a, b, c = (1, "bw_zerg"), (2, "sc2_terran"), (1, "sc2_zerg")
    log = [
        LoggedMatch(10, a, b, Result.P1_WIN),
        LoggedMatch(11, b, c, Result.DRAW),
        (12, c, a, "p2_win"),  # plain tuples and strings are fine
    ]
    out = replay(log, START, K, DIV)
    assert list(out.steps) == [
        ReplayStep(10, 1500, 1500, 20),
        ReplayStep(11, 1480, 1500, 1),
        ReplayStep(12, 1499, 1520, -19),  # c is 21 below a: 40 * (0 - 0.4758) = -19.03
    ]
    assert out.ratings == {a: 1539, b: 1481, c: 1480}
    assert sum(out.ratings.values()) == 3 * START
    assert out.steps[1:] == [ReplayStep(11, 1480, 1500, 1), ReplayStep(12, 1499, 1520, -19)]


def test_replay_rejects_self_play_and_bad_results() -> None:
    with pytest.raises(ValueError):
        replay([(1, (1, "x"), (1, "x"), Result.DRAW)], START, K, DIV)
    with pytest.raises(ValueError):
        replay([(1, (1, "x"), (2, "x"), "win")], START, K, DIV)


def test_rating_changes_after_invalidating_a_match() -> None:
    a, b, c = (1, "bw_zerg"), (2, "bw_zerg"), (3, "bw_zerg")
    log = [(1, a, b, Result.P1_WIN), (2, b, c, Result.P1_WIN)]
    stored = replay(log, START, K, DIV).ratings
    _, changes = rating_changes(stored, log[1:], START, K, DIV)  # match 1 invalidated
    assert changes == [
        RatingChange(a, 1520, 1500),
        RatingChange(b, 1501, 1520),
        RatingChange(c, 1479, 1480),
    ]
    assert [ch.delta for ch in changes] == [-20, 19, 1]


def test_rating_changes_none_when_unchanged() -> None:
    log = [(1, (1, "r"), (2, "r"), Result.DRAW)]
    stored = replay(log, START, K, DIV).ratings
    assert rating_changes(stored, log, START, K, DIV)[1] == []


def test_diff_ratings_treats_missing_as_start() -> None:
    assert diff_ratings({(1, "r"): 1500}, {}, START) == []
    assert diff_ratings({}, {(1, "r"): 1510}, START) == [RatingChange((1, "r"), 1500, 1510)]


# --- property tests ----------------------------------------------------------------------

RACES = ("bw_terran", "sc2_zerg")
keys = st.tuples(st.integers(1, 6), st.sampled_from(RACES))
results = st.sampled_from(list(Result))


def _other_player(key: RatingKey, other: RatingKey) -> bool:
    return other[0] != key[0]


@functools.cache
def opponents(player: int) -> st.SearchStrategy[RatingKey]:
    """The keys of any other player: one strategy per player, built once (a strategy built at
    every draw was most of the draw's cost)."""
    return keys.filter(functools.partial(_other_player, (player, "")))


@st.composite
def logs(draw: st.DrawFn, min_size: int = 0) -> list[LoggedMatch]:
    """Draw a random ordered log of finalised matches between distinct players."""
    n = draw(st.integers(min_size, 40))
    out = []
    for i in range(n):
        k1 = draw(keys)
        k2 = draw(opponents(k1[0]))
        out.append(LoggedMatch(i + 1, k1, k2, draw(results)))
    return out


k_factors = st.sampled_from([16, 32, 40, 24.5])
divisors = st.sampled_from([400, 500, 173.2])


@settings(max_examples=200, deadline=None)
@given(log=logs(), k=k_factors, divisor=divisors)
def test_incremental_equals_replay(log: list[LoggedMatch], k: float, divisor: float) -> None:
    ratings: dict = {}
    steps = []
    for match_id, k1, k2, result in log:
        r1, r2 = ratings.get(k1, START), ratings.get(k2, START)
        n1, n2 = elo_update(r1, r2, score_of(result), k, divisor)
        ratings[k1], ratings[k2] = n1, n2
        steps.append(ReplayStep(match_id, r1, r2, n1 - r1))
    out = replay(log, START, k, divisor)
    assert out.ratings == ratings
    assert list(out.steps) == steps
    assert sum(out.ratings.values()) == START * len(out.ratings)


@settings(max_examples=200, deadline=None)
@given(log=logs(min_size=1), data=st.data())
def test_correction_replayed_from_its_match_equals_fresh_replay(
    log: list[LoggedMatch], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(log) - 1))
    invalidate = data.draw(st.booleans())
    stored = replay(log, START, K, DIV)

    old = log[i]
    fixed = [] if invalidate else [old._replace(result=data.draw(results))]
    corrected = log[:i] + fixed + log[i + 1 :]

    # Ratings absent from a snapshot are at START, so snapshots are compared with diff_ratings.
    before_i = rewind_log(stored.ratings, log[i:], stored.steps[i:], START)
    assert diff_ratings(before_i, replay(log[:i], START, K, DIV).ratings, START) == []
    partial = replay(corrected[i:], START, K, DIV, initial=before_i)
    fresh = replay(corrected, START, K, DIV)
    assert diff_ratings(partial.ratings, fresh.ratings, START) == []
    assert list(partial.steps) == list(fresh.steps)[i:]


@settings(max_examples=100, deadline=None)
@given(log=logs(min_size=1), data=st.data())
def test_rating_changes_lists_exactly_the_moved_ratings(
    log: list[LoggedMatch], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(log) - 1))
    stored = replay(log, START, K, DIV).ratings
    corrected = log[:i] + log[i + 1 :]
    fresh, changes = rating_changes(stored, corrected, START, K, DIV)
    moved = {c.key: (c.old, c.new) for c in changes}
    for key in stored.keys() | fresh.ratings.keys():
        old, new = stored.get(key, START), fresh.ratings.get(key, START)
        assert (key in moved) == (old != new)
        if key in moved:
            assert moved[key] == (old, new)
