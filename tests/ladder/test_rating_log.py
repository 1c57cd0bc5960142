"""Tests for the rating log in ladder.rating: matches interleaved with admin adjustments."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.rating import (
    LogEntry,
    LoggedAdjustment,
    LoggedMatch,
    RatingKey,
    ReplayStep,
    Result,
    adjusted,
    diff_ratings,
    replay,
    replay_log,
    rewind_log,
)

START, K, DIV = 1500, 40, 500
A, B, C = (1, "bw_zerg"), (2, "bw_zerg"), (3, "sc2_terran")


def test_adjusted() -> None:
    assert adjusted(1500, "set", 1800) == 1800
    assert adjusted(1500, "add", -25) == 1475
    with pytest.raises(ValueError):
        adjusted(1500, "multiply", 2)


def test_matches_only_equals_replay() -> None:
    log: list[LoggedMatch | tuple[int, RatingKey, RatingKey, str]] = [
        LoggedMatch(1, A, B, Result.P1_WIN),
        (2, B, C, "draw"),
    ]
    assert replay_log(log, START, K, DIV) == replay(log, START, K, DIV)


def test_adjustments_between_matches() -> None:
    log: list[LogEntry] = [
        LoggedMatch(1, A, B, Result.P1_WIN),  # 1520 / 1480
        LoggedAdjustment(A, "add", -20),  # 1500
        LoggedAdjustment(C, "set", 1480),
        LoggedMatch(2, A, C, Result.P2_WIN),  # 1500 vs 1480: C gains 21
        LoggedAdjustment(B, "add", 5),
    ]
    out = replay_log(log, START, K, DIV)
    assert list(out.steps) == [ReplayStep(1, 1500, 1500, 20), ReplayStep(2, 1500, 1480, -21)]
    assert out.ratings == {A: 1479, B: 1485, C: 1501}


def test_adjustment_of_an_unrated_key_starts_from_start() -> None:
    out = replay_log([LoggedAdjustment(A, "add", 30)], START, K, DIV)
    assert out.ratings == {A: 1530}
    assert len(out.steps) == 0


def test_initial_is_not_modified() -> None:
    initial = {A: 1600}
    out = replay_log([LoggedAdjustment(A, "add", 1)], START, K, DIV, initial=initial)
    assert out.ratings == {A: 1601}
    assert initial == {A: 1600}


def test_rewind_undoes_adds_and_restores_match_befores() -> None:
    log: list[LogEntry] = [
        LoggedMatch(1, A, B, Result.P1_WIN),
        LoggedAdjustment(A, "add", 7),
        LoggedMatch(2, A, C, Result.DRAW),
        LoggedAdjustment(C, "add", -3),
    ]
    full = replay_log(log, START, K, DIV)
    before = rewind_log(full.ratings, log[1:], full.steps[1:], START)
    assert diff_ratings(before, replay_log(log[:1], START, K, DIV).ratings, START) == []


def test_rewind_rejects_mismatched_steps() -> None:
    log = [LoggedMatch(1, A, B, Result.P1_WIN)]
    with pytest.raises(ValueError):
        rewind_log({}, log, [], START)
    with pytest.raises(ValueError):
        rewind_log({}, log, [ReplayStep(9, 1500, 1500, 20)], START)


# --- property tests ----------------------------------------------------------------------

keys = st.tuples(st.integers(1, 5), st.sampled_from(("bw_zerg", "sc2_terran")))
results = st.sampled_from(list(Result))
adjustments = st.builds(
    LoggedAdjustment,
    keys,
    st.sampled_from(("set", "add")),
    st.integers(-300, 300) | st.integers(1000, 2500),
)


def _other_player(key: RatingKey, other: RatingKey) -> bool:
    return other[0] != key[0]


@functools.cache
def opponents(player: int) -> st.SearchStrategy[RatingKey]:
    """The keys of any other player: one strategy per player, built once (a strategy built at
    every draw was most of the draw's cost)."""
    return keys.filter(functools.partial(_other_player, (player, "")))


@st.composite
def logs(draw: st.DrawFn) -> list:
    """Draw an ordered rating log of matches (distinct players) and adjustments."""
    out: list = []
    for i in range(draw(st.integers(1, 40))):
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(adjustments))
            continue
        k1 = draw(keys)
        k2 = draw(opponents(k1[0]))
        out.append(LoggedMatch(i + 1, k1, k2, draw(results)))
    return out


@settings(max_examples=200, deadline=None)
@given(log=logs())
def test_replay_log_equals_applying_entries_one_by_one(log: list) -> None:
    ratings: dict = {}
    steps: list[ReplayStep] = []
    for entry in log:
        if isinstance(entry, LoggedAdjustment):
            ratings[entry.key] = adjusted(ratings.get(entry.key, START), entry.kind, entry.amount)
            continue
        one = replay([entry], START, K, DIV, initial=ratings)
        ratings = one.ratings
        steps.extend(one.steps)
    out = replay_log(log, START, K, DIV)
    assert out.ratings == ratings
    assert list(out.steps) == steps


@settings(max_examples=300, deadline=None)
@given(log=logs(), data=st.data())
def test_correction_replayed_from_its_entry_equals_fresh_replay(
    log: list, data: st.DataObject
) -> None:
    match_positions = [i for i, e in enumerate(log) if isinstance(e, LoggedMatch)]
    if not match_positions:
        return
    i = data.draw(st.sampled_from(match_positions))
    invalidate = data.draw(st.booleans())
    stored = replay_log(log, START, K, DIV)
    first_step = match_positions.index(i)

    fixed = [] if invalidate else [log[i]._replace(result=data.draw(results))]
    corrected = log[:i] + fixed + log[i + 1 :]

    before_i = rewind_log(stored.ratings, log[i:], stored.steps[first_step:], START)
    partial = replay_log(corrected[i:], START, K, DIV, initial=before_i)
    fresh = replay_log(corrected, START, K, DIV)
    # Keys reset by a 'set' may hold an arbitrary value in `before_i`; the results may not.
    assert diff_ratings(partial.ratings, fresh.ratings, START) == []
    assert list(partial.steps) == list(fresh.steps)[first_step:]
