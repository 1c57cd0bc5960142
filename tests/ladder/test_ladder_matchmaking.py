"""Tests for ladder.matchmaking: wave rules, map draw, determinism, and a brute-force check."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.config import MatchmakingConfig
from ladder.errors import ValidationError
from ladder.matchmaking import (
    Pairing,
    QueueEntry,
    RaceRating,
    run_wave,
    validate_vetoes,
)

CFG = MatchmakingConfig(wave_interval_seconds=45, window_base=100, window_growth=50)
POOL = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta")
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def entry(
    uid: int,
    races: dict[str, int],
    waves: int = 0,
    joined: int = 0,
    vetoes: tuple[str, ...] = (),
) -> QueueEntry:
    """Build a queue entry; `joined` is seconds after T0."""
    joined_at = T0 + timedelta(seconds=joined)
    return QueueEntry(uid, races, joined_at, frozenset(vetoes), waves)  # type: ignore[arg-type]  # QueueEntry normalises a mapping or pairs


def wave(entries: list[QueueEntry], seed: int = 0, pool: tuple[str, ...] = POOL):
    """Run one wave with a seeded RNG."""
    return run_wave(entries, CFG, pool, random.Random(seed))


def test_window_grows_per_wave() -> None:
    assert [CFG.window(w) for w in range(4)] == [100, 150, 200, 250]


def test_entry_normalises_races() -> None:
    e = entry(1, {"bw_zerg": 1500, "sc2_zerg": 1600})
    assert e.races == (RaceRating("bw_zerg", 1500), RaceRating("sc2_zerg", 1600))
    with pytest.raises(ValueError):
        QueueEntry(1, (), T0)
    with pytest.raises(ValueError):
        QueueEntry(1, (("a", 1), ("a", 2)), T0)  # type: ignore[arg-type]  # QueueEntry normalises a mapping or pairs


def test_empty_and_single_queues() -> None:
    assert wave([]).pairings == ()
    assert wave([]).waiting == ()
    alone = entry(1, {"bw_zerg": 1500})
    result = wave([alone])
    assert result.pairings == ()
    assert result.waiting == (alone,)


def test_a_player_with_two_races_is_not_paired_with_himself() -> None:
    e = entry(1, {"bw_zerg": 1500, "sc2_zerg": 1500})
    assert wave([e]).pairings == ()


def test_a_player_queued_twice_is_a_bug() -> None:
    with pytest.raises(ValueError):
        wave([entry(1, {"a": 1500}), entry(1, {"b": 1500})])


def test_simple_pair() -> None:
    result = wave([entry(1, {"bw_zerg": 1500}), entry(2, {"sc2_terran": 1550}, joined=5)])
    (p,) = result.pairings
    assert (p.uid_a, p.race_a, p.mmr_a, p.uid_b, p.race_b, p.mmr_b) == (
        1, "bw_zerg", 1500, 2, "sc2_terran", 1550,
    )  # fmt: skip
    assert p.map_name in POOL
    assert result.waiting == ()


def test_window_is_respected_at_the_boundary() -> None:
    assert len(wave([entry(1, {"r": 1500}), entry(2, {"r": 1600})]).pairings) == 1
    assert len(wave([entry(1, {"r": 1500}), entry(2, {"r": 1601})]).pairings) == 0


def test_the_longer_waiters_window_applies() -> None:
    # 180 apart: too far for a newcomer (100), close enough for someone on his third wave.
    old, new = entry(1, {"r": 1500}, waves=2), entry(2, {"r": 1680})
    assert len(wave([old, new]).pairings) == 1
    assert len(wave([entry(1, {"r": 1500}, waves=1), new]).pairings) == 0


def test_longer_waiters_go_first() -> None:
    x = entry(1, {"r": 1500}, joined=10)
    y = entry(2, {"r": 1510}, joined=11)
    veteran = entry(3, {"r": 1525}, waves=2, joined=0)
    result = wave([x, y, veteran])
    (p,) = result.pairings
    assert (p.uid_a, p.uid_b) == (3, 2)  # the veteran takes the closest, y
    assert result.waiting == (x,)


def test_earlier_join_breaks_equal_waves() -> None:
    a = entry(1, {"r": 1500}, joined=20)
    b = entry(2, {"r": 1500}, joined=10)
    c = entry(3, {"r": 1500}, joined=30)
    (p,) = wave([a, b, c]).pairings
    assert (p.uid_a, p.uid_b) == (2, 1)


def test_ties_in_distance_go_to_the_longer_waiter() -> None:
    me = entry(1, {"r": 1500}, waves=3)
    below = entry(2, {"r": 1450}, waves=1)
    above = entry(3, {"r": 1550}, waves=2)
    result = wave([me, below, above])
    assert (result.pairings[0].uid_a, result.pairings[0].uid_b) == (1, 3)
    # equal MMR, both on the same side
    e1, e2 = entry(4, {"r": 1400}, joined=5), entry(5, {"r": 1400}, joined=1)
    result = wave([entry(1, {"r": 1450}, waves=3), e1, e2])
    assert result.pairings[0].uid_b == 5


def test_the_closest_race_pair_is_played() -> None:
    a = entry(1, {"bw_zerg": 1200, "sc2_terran": 1800})
    b = entry(2, {"bw_protoss": 1500, "sc2_zerg": 1790})
    (p,) = wave([a, b]).pairings
    assert {(p.uid_a, p.race_a), (p.uid_b, p.race_b)} == {(1, "sc2_terran"), (2, "sc2_zerg")}
    assert abs(p.mmr_a - p.mmr_b) == 10


def test_vetoed_maps_are_not_drawn() -> None:
    a = entry(1, {"r": 1500}, vetoes=("Alpha", "Beta", "Gamma", "Delta"))
    b = entry(2, {"r": 1500}, vetoes=("Epsilon", "Zeta"))
    maps = {wave([a, b], seed).pairings[0].map_name for seed in range(50)}
    assert maps == {"Eta"}


def test_when_vetoes_cover_the_pool_maps_both_vetoed_are_still_excluded() -> None:
    pool = ("M1", "M2", "M3")
    a = entry(1, {"r": 1500}, vetoes=("M1", "M2"))
    b = entry(2, {"r": 1500}, vetoes=("M2", "M3"))
    drawn = {wave([a, b], seed, pool).pairings[0].map_name for seed in range(100)}
    assert drawn == {"M1", "M3"}


def test_wave_is_deterministic_for_a_seed() -> None:
    rng = random.Random(7)
    queue = [
        entry(uid, {"r": rng.randint(1200, 1800)}, waves=rng.randint(0, 3), joined=uid)
        for uid in range(200)
    ]
    assert wave(queue, seed=3) == wave(list(reversed(queue)), seed=3)
    maps_by_seed = {wave(queue, seed=s).pairings for s in range(5)}
    assert len(maps_by_seed) > 1  # the seed only changes the maps


def test_waiting_entries_come_back_unchanged_in_priority_order() -> None:
    far = [entry(1, {"r": 1000}, joined=3), entry(2, {"r": 2000}, waves=1), entry(3, {"r": 3000})]
    result = wave(far)
    assert result.waiting == (far[1], far[2], far[0])


def test_validate_vetoes() -> None:
    assert validate_vetoes(["Alpha", "Beta"], POOL, 4) == {"Alpha", "Beta"}
    assert validate_vetoes(["Alpha", "Alpha"], POOL, 1) == {"Alpha"}
    with pytest.raises(ValidationError, match="Nowhere"):
        validate_vetoes(["Nowhere"], POOL, 4)
    with pytest.raises(ValidationError, match="at most 4"):
        validate_vetoes(POOL[:5], POOL, 4)


# --- property tests ----------------------------------------------------------------------

RACES = ("bw_terran", "bw_zerg", "sc2_protoss")


# Built once, not at every draw in the loop below (Hypothesis validates a new strategy each time).
RACE_SETS = st.lists(st.sampled_from(RACES), min_size=1, max_size=3, unique=True)
CLUSTERED_MMRS = st.integers(1300, 1700).map(lambda m: m - m % 25)
VETOES = st.lists(st.sampled_from(POOL), max_size=4, unique=True)
WAVES_WAITED = st.integers(0, 4)
JOIN_ORDER = st.integers(0, 5)


@st.composite
def queues(draw: st.DrawFn) -> list[QueueEntry]:
    """Draw a queue with clustered MMRs (to force ties) and random vetoes of up to 4 maps."""
    n = draw(st.integers(0, 30))
    out = []
    for uid in range(n):
        races = draw(RACE_SETS)
        mmrs = [draw(CLUSTERED_MMRS) for _ in races]
        vetoes = draw(VETOES)
        out.append(
            entry(uid, dict(zip(races, mmrs, strict=True)), draw(WAVES_WAITED), draw(JOIN_ORDER),
                  tuple(vetoes))
        )  # fmt: skip
    return out


def reference_wave(entries: list[QueueEntry], seed: int) -> list[tuple[int, int, int, str]]:
    """Apply the documented rules with an obvious O(n²) scan: (uid a, uid b, diff, map)."""
    rng = random.Random(seed)
    order = sorted(entries, key=lambda e: (-e.waves_waited, e.joined_at, e.uid))
    paired: set[int] = set()
    out = []
    for a in order:
        if a.uid in paired:
            continue
        paired.add(a.uid)  # never himself
        best = None
        for other_rank, b in enumerate(order):
            if b.uid in paired:
                continue
            diff = min(abs(ra.mmr - rb.mmr) for ra in a.races for rb in b.races)
            if best is None or (diff, other_rank) < best[:2]:
                best = (diff, other_rank, b)
        if best is None or best[0] > CFG.window(a.waves_waited):
            continue
        b = best[2]
        paired.add(b.uid)
        out.append((a.uid, b.uid, best[0], reference_map(POOL, a.vetoes, b.vetoes, rng)))
    return out


def reference_map(pool, vetoes_a: frozenset[str], vetoes_b: frozenset[str], rng) -> str:
    """A map neither vetoed, else one not both vetoed, drawn as run_wave draws it."""
    allowed = [m for m in pool if m not in vetoes_a | vetoes_b]
    allowed = allowed or [m for m in pool if m not in vetoes_a & vetoes_b]
    return allowed[int(rng.random() * len(allowed))]


@settings(max_examples=150, deadline=None)
@given(queue=queues(), seed=st.integers(0, 2**32))
def test_wave_matches_the_brute_force_rules(queue: list[QueueEntry], seed: int) -> None:
    result = run_wave(queue, CFG, POOL, random.Random(seed))
    got = [(p.uid_a, p.uid_b, abs(p.mmr_a - p.mmr_b), p.map_name) for p in result.pairings]
    assert got == reference_wave(queue, seed)


@settings(max_examples=150, deadline=None)
@given(queue=queues(), seed=st.integers(0, 2**32))
def test_wave_invariants(queue: list[QueueEntry], seed: int) -> None:
    result = run_wave(queue, CFG, POOL, random.Random(seed))
    by_uid = {e.uid: e for e in queue}
    seen: list[int] = []
    for p in result.pairings:
        assert isinstance(p, Pairing)
        a, b = by_uid[p.uid_a], by_uid[p.uid_b]
        assert p.uid_a != p.uid_b
        assert RaceRating(p.race_a, p.mmr_a) in a.races
        assert RaceRating(p.race_b, p.mmr_b) in b.races
        # the race pair played is the closest one of these two players
        assert abs(p.mmr_a - p.mmr_b) == min(abs(x.mmr - y.mmr) for x in a.races for y in b.races)
        # within the window of the longer waiter, who is player a
        assert a.waves_waited >= b.waves_waited
        assert abs(p.mmr_a - p.mmr_b) <= CFG.window(a.waves_waited)
        if not (a.vetoes | b.vetoes) >= set(POOL):
            assert p.map_name not in a.vetoes | b.vetoes
        assert not (p.map_name in a.vetoes and p.map_name in b.vetoes)
        seen += [p.uid_a, p.uid_b]
    # every player is either paired once or waiting
    assert len(seen) == len(set(seen))
    assert sorted(seen + [e.uid for e in result.waiting]) == sorted(by_uid)
    # nobody left waiting could have been paired with another waiting player
    for i, x in enumerate(result.waiting):
        for y in result.waiting[i + 1 :]:
            diff = min(abs(r.mmr - s.mmr) for r in x.races for s in y.races)
            assert diff > CFG.window(max(x.waves_waited, y.waves_waited))
