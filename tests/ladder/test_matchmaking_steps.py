"""The named steps of a wave, each on its own: the rule it holds, on the smallest input."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ladder.config import MatchmakingConfig
from ladder.matchmaking import (
    FreeSlots,
    QueueEntry,
    allowed_maps,
    closest_opponent,
    make_pairings,
    mmr_slots,
    pair_greedily,
    priority_order,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CFG = MatchmakingConfig(window_base=100, window_growth=50)


def entry(uid: int, races: dict[str, int], waves: int = 0, joined: int = 0, vetoes=()):
    joined_at = T0 + timedelta(seconds=joined)
    return QueueEntry(uid, races, joined_at, frozenset(vetoes), waves)  # type: ignore[arg-type]  # QueueEntry normalises a mapping or pairs


def test_priority_is_waves_waited_then_joined_then_uid() -> None:
    entries = [
        entry(5, {"t": 1500}, waves=0, joined=0),
        entry(4, {"t": 1500}, waves=2, joined=9),
        entry(3, {"t": 1500}, waves=2, joined=1),
        entry(2, {"t": 1500}, waves=0, joined=0),
    ]
    assert [e.uid for e in priority_order(entries)] == [3, 4, 2, 5]


def test_priority_refuses_a_player_queued_twice() -> None:
    with pytest.raises(ValueError, match="queued twice"):
        priority_order([entry(1, {"t": 1500}), entry(1, {"z": 1500})])


def test_slots_are_sorted_by_mmr_and_equal_mmrs_by_priority() -> None:
    order = [entry(1, {"t": 1600, "z": 1400}), entry(2, {"p": 1400})]
    slots = mmr_slots(order)
    assert slots.mmrs == [1400, 1400, 1600]
    assert slots.owner == [0, 1, 0]  # the first in priority holds the leftmost equal slot
    assert slots.race == ["z", "p", "t"]
    assert slots.positions == [[2, 0], [1]]  # entry 0's races in its own order


def test_free_slots_skip_taken_ones_on_both_sides() -> None:
    free = FreeSlots(5)
    for j in (1, 2, 3):
        free.take(j)
    assert free.at_or_after(1) == 4
    assert free.before(3) == 0
    free.take(0)
    free.take(4)
    assert free.at_or_after(0) == free.size  # none
    assert free.before(4) == -1  # none


def test_the_closest_opponent_is_within_the_window_and_ties_go_to_the_longer_waiter() -> None:
    # Entry 0 at 1500; entries 1 and 2 both 100 away, on either side (the one above is found
    # first); entry 3 is 101 away.
    order = [
        entry(10, {"t": 1500}),
        entry(11, {"t": 1400}),
        entry(12, {"t": 1600}),
        entry(13, {"t": 1399}),
    ]
    slots = mmr_slots(order)
    free = FreeSlots(len(slots.mmrs))
    own = slots.positions[0]
    free.take(own[0])
    found = closest_opponent(own, 100, slots, free)
    assert found is not None
    own_slot, rival = found
    assert slots.owner[rival] == 1  # equal distance: the longer waiter (handled earlier)
    assert own_slot == own[0]
    assert closest_opponent(own, 99, slots, free) is None  # nobody within 99


def test_pairing_is_greedy_in_priority_order() -> None:
    # The longest waiter takes his closest opponent even if that leaves another unpaired.
    order = priority_order(
        [entry(1, {"t": 1500}, waves=1), entry(2, {"t": 1540}), entry(3, {"t": 1580})]
    )
    slots = mmr_slots(order)
    found = pair_greedily(order, slots, CFG)
    assert [(order[slots.owner[a]].uid, order[slots.owner[b]].uid) for a, b in found] == [(1, 2)]


def test_allowed_maps_drop_either_players_vetoes() -> None:
    pool = ("A", "B", "C", "D")
    assert allowed_maps(pool, frozenset({"A"}), frozenset({"B"})) == ("C", "D")


def test_allowed_maps_when_vetoes_cover_the_pool_drop_only_the_shared_ones() -> None:
    pool = ("A", "B", "C")
    assert allowed_maps(pool, frozenset({"A", "B"}), frozenset({"B", "C"})) == ("A", "C")
    with pytest.raises(ValueError):
        allowed_maps(pool, frozenset(pool), frozenset(pool))


def test_pairings_carry_races_mmrs_and_a_map_neither_vetoed() -> None:
    order = [entry(1, {"t": 1500}, vetoes=("A",)), entry(2, {"z": 1520}, vetoes=("B",))]
    slots = mmr_slots(order)
    found = pair_greedily(order, slots, CFG)
    (pairing,) = make_pairings(order, slots, found, ("A", "B", "C"), random.Random(0))
    assert pairing == (1, "t", 1500, 2, "z", 1520, "C")
