"""Fewer rematches and no map twice in a row: the wave's `RecentPairings` rule.

Hypothesis over random queues: no pairing is worse than the window allows; a rematch is made
only when the handled player had nobody else free in his window at that moment; with no
recent pairings the wave is exactly what it was without the rule; the last map is never drawn
again while another is allowed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.config import MatchmakingConfig
from ladder.matchmaking import (
    NO_RECENT,
    QueueEntry,
    RaceRating,
    RecentPairings,
    avoid_last_map,
    pair_key,
    priority_order,
    run_wave,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CFG = MatchmakingConfig(window_base=100, window_growth=50)
MAPS = ("A", "B", "C", "D")
RACES = ("t", "z", "p")


def entry(uid: int, mmr: int, waves: int = 0, race: str = "t") -> QueueEntry:
    return QueueEntry(
        uid, (RaceRating(race, mmr),), T0 + timedelta(seconds=uid), frozenset(), waves
    )


def recent(*pairs: tuple[int, int]) -> RecentPairings:
    return RecentPairings(frozenset(pair_key(a, b) for a, b in pairs), {})


def test_the_closest_opponent_is_passed_over_for_one_not_met_lately() -> None:
    queue = [entry(1, 1500, waves=1), entry(2, 1500), entry(3, 1560)]
    plain = run_wave(queue, CFG, MAPS, random.Random(1))
    assert {(p.uid_a, p.uid_b) for p in plain.pairings} == {(1, 2)}
    wave = run_wave(queue, CFG, MAPS, random.Random(1), recent((1, 2)))
    assert {(p.uid_a, p.uid_b) for p in wave.pairings} == {(1, 3)}
    assert [e.uid for e in wave.waiting] == [2]


def test_a_rematch_is_made_when_nobody_else_is_in_the_window() -> None:
    queue = [entry(1, 1500, waves=1), entry(2, 1500), entry(3, 1800)]
    wave = run_wave(queue, CFG, MAPS, random.Random(1), recent((1, 2)))
    assert {(p.uid_a, p.uid_b) for p in wave.pairings} == {(1, 2)}


def test_the_window_never_widens_for_the_rule() -> None:
    # 3 is outside 1's window (150 after one wave): 1 and 2 meet again rather than 1 and 3.
    queue = [entry(1, 1500, waves=1), entry(2, 1510), entry(3, 1651)]
    wave = run_wave(queue, CFG, MAPS, random.Random(1), recent((1, 2)))
    assert {(p.uid_a, p.uid_b) for p in wave.pairings} == {(1, 2)}


def test_equal_ratings_skip_only_the_recent_opponents() -> None:
    # Everyone at 1500 (a season's start): 1 met 2 and 3 lately, so it meets 4, the longest
    # waiter it has not met.
    queue = [entry(uid, 1500) for uid in range(1, 7)]
    wave = run_wave(queue, CFG, MAPS, random.Random(1), recent((1, 2), (1, 3)))
    assert (wave.pairings[0].uid_a, wave.pairings[0].uid_b) == (1, 4)


def test_the_last_map_is_avoided_while_another_is_allowed() -> None:
    assert avoid_last_map(("A", "B"), "A") == ("B",)
    assert avoid_last_map(("A",), "A") == ("A",)
    assert avoid_last_map(("A", "B"), "C") == ("A", "B")
    assert avoid_last_map(("A", "B"), None) == ("A", "B")
    last = RecentPairings(frozenset(), {pair_key(1, 2): "B"})
    for seed in range(50):
        queue = [entry(1, 1500), entry(2, 1500)]
        wave = run_wave(queue, CFG, ("A", "B"), random.Random(seed), last)
        assert wave.pairings[0].map_name == "A"


# Built once: a strategy made inside the loop below is built again at every draw (Hypothesis
# validates it each time), which was most of this module's CPU.
RACE_SETS = st.lists(st.sampled_from(RACES), min_size=1, max_size=3, unique=True)
MMRS = st.integers(1300, 1700)
VETOES = st.lists(st.sampled_from(MAPS), max_size=2, unique=True)
JOINED_S = st.integers(0, 60)
WAVES_WAITED = st.integers(0, 3)


@st.composite
def queues(draw: st.DrawFn) -> tuple[list[QueueEntry], RecentPairings]:
    size = draw(st.integers(2, 24))
    entries = []
    for uid in range(size):
        races = draw(RACE_SETS)
        ratings = tuple(RaceRating(r, draw(MMRS)) for r in races)
        vetoes = frozenset(draw(VETOES))
        entries.append(
            QueueEntry(uid, ratings, T0 + timedelta(seconds=draw(JOINED_S)), vetoes,
                       draw(WAVES_WAITED))
        )  # fmt: skip
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
                lambda p: p[0] != p[1]
            ),
            max_size=size * 2,
        )
    )
    maps = draw(st.lists(st.sampled_from(MAPS), min_size=len(pairs), max_size=len(pairs)))
    keys = [pair_key(a, b) for a, b in pairs]
    return entries, RecentPairings(frozenset(keys), dict(zip(keys, maps, strict=True)))


def gap(a: QueueEntry, b: QueueEntry) -> int:
    return min(abs(x.mmr - y.mmr) for x in a.races for y in b.races)


@settings(max_examples=300, deadline=None)
@given(queues(), st.integers(0, 2**32))
def test_random_queues_rematch_only_when_nothing_else_is_in_reach(
    case: tuple[list[QueueEntry], RecentPairings], seed: int
) -> None:
    entries, recent_pairs = case
    by_uid = {e.uid: e for e in entries}
    wave = run_wave(entries, CFG, MAPS, random.Random(seed), recent_pairs)
    order = {e.uid: i for i, e in enumerate(priority_order(entries))}
    taken: set[int] = set()
    for p in wave.pairings:
        a, b = by_uid[p.uid_a], by_uid[p.uid_b]
        window = CFG.window(a.waves_waited)
        assert order[a.uid] < order[b.uid]
        assert abs(p.mmr_a - p.mmr_b) <= window  # never a worse window than the rule allows
        if pair_key(a.uid, b.uid) in recent_pairs.rematches:
            # Nobody free when a was handled (not paired before, not a) was in a's window
            # without being a recent opponent of a.
            for c in entries:
                if c.uid in taken or c.uid in (a.uid, b.uid):
                    continue
                if pair_key(a.uid, c.uid) in recent_pairs.rematches:
                    continue
                assert gap(a, c) > window, (a.uid, b.uid, c.uid)
        last = recent_pairs.last_maps.get(pair_key(a.uid, b.uid))
        allowed = [m for m in MAPS if m not in a.vetoes and m not in b.vetoes]
        if last is not None and len(allowed) > 1:
            assert p.map_name != last
        taken |= {a.uid, b.uid}


@settings(max_examples=200, deadline=None)
@given(queues(), st.integers(0, 2**32))
def test_with_nothing_recent_the_wave_is_unchanged(
    case: tuple[list[QueueEntry], RecentPairings], seed: int
) -> None:
    entries, _ = case
    before = run_wave(entries, CFG, MAPS, random.Random(seed))
    assert run_wave(entries, CFG, MAPS, random.Random(seed), NO_RECENT) == before
    # Pairs that never share a wave change nothing either.
    stranger = RecentPairings(frozenset({(10**6, 10**6 + 1)}), {})
    assert run_wave(entries, CFG, MAPS, random.Random(seed), stranger) == before


@settings(max_examples=200, deadline=None)
@given(queues())
def test_nobody_waits_while_someone_free_is_in_his_window(
    case: tuple[list[QueueEntry], RecentPairings],
) -> None:
    # The rule only reorders preferences: a player who could meet someone (even again) does.
    entries, recent_pairs = case
    wave = run_wave(entries, CFG, MAPS, random.Random(0), recent_pairs)
    waiting = list(wave.waiting)  # in priority order: a was handled before b, b was free
    for i, a in enumerate(waiting):
        for b in waiting[i + 1 :]:
            assert gap(a, b) > CFG.window(a.waves_waited), (a.uid, b.uid)
