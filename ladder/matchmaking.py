"""Wave-based matchmaking: every wave pairs up the queue as well as it can, deterministically.

Rules of one wave (`run_wave`):

* Priority: entries are handled longest waiter first (most `waves_waited`, then earliest
  `joined_at`, then lowest uid, so the order is total and needs no randomness).
* Window: two players may meet when their MMRs differ by at most the window of the longer
  waiter, `window_base + window_growth * waves_waited`. Windows grow with waiting, so this is
  the larger of the two windows: someone who has waited long is not held back by a newcomer's
  narrow window. Since the longer waiter is always handled first, its own window decides.
* Opponent: the handled player meets the closest MMR among everyone still unpaired, over all
  race combinations (each race has its own MMR, and the race pair with the smallest difference
  is played); ties go to the longer waiter. A player is never paired with himself, whatever
  races he queued with.
* Map: drawn uniformly with the injected RNG from the pool minus both players' vetoes. If the
  two players' vetoes together cover the whole pool, it is drawn from the pool minus the maps
  *both* vetoed: each side then loses the same protection, and since config keeps
  `max_vetoes` below the pool size, at least one map remains.
* Rematches: two players who met within the last `rematch_minutes` (`RecentPairings`) are
  avoided: the handled player takes the closest opponent in his window he has *not* met
  lately, and meets a recent opponent only when nobody else is within his window. The window
  never widens for it, so no pairing is worse than the window allows.
* Last map: the map a pair played last (`RecentPairings.last_maps`) is not drawn for them
  again while another map is allowed.
* Entries not paired are returned unchanged in priority order; the caller increments their
  `waves_waited` (or recomputes it from `joined_at`) before the next wave.

The steps, in `run_wave`'s order: `priority_order`; `mmr_slots` (every entry's races as slots
sorted by MMR); `recent_rivals` (whom each entry met lately, by index); `pair_greedily` (each
entry in turn takes its `closest_fresh_opponent`, else its `closest_opponent`, among the
`FreeSlots`); `make_pairings` (a map from `allowed_maps` minus `avoid_last_map` per pairing,
drawn in pairing order).

Speed: MMR slots are sorted once and each player looks only at the nearest still-free slot on
either side of its MMR (bisect, plus a union-find that skips paired slots), so a wave costs
O(n log n) rather than comparing every pair.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from i18n import N_
from ladder.config import MatchmakingConfig
from ladder.errors import ValidationError, quoted


@dataclass(frozen=True, slots=True)
class RaceRating:
    """One race a player queued with, and his MMR with that race."""

    race: str
    mmr: int

    def __post_init__(self) -> None:
        # Ratings are integers (see ladder.rating); the wave's sort relies on it.
        if not isinstance(self.mmr, int) or isinstance(self.mmr, bool):
            raise TypeError(f"MMR must be an integer, not {self.mmr!r}")


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """A player waiting in the queue; `races` also accepts a {race: mmr} mapping or pairs."""

    uid: int
    races: tuple[RaceRating, ...]
    joined_at: datetime
    vetoes: frozenset[str] = frozenset()
    waves_waited: int = 0

    def __post_init__(self) -> None:
        races: Any = self.races
        if isinstance(races, Mapping):
            races = races.items()
        norm = tuple(r if isinstance(r, RaceRating) else RaceRating(*r) for r in races)
        if not norm:
            raise ValueError(f"queue entry {self.uid} has no race")
        if len({r.race for r in norm}) != len(norm):
            raise ValueError(f"queue entry {self.uid} lists a race twice")
        if self.waves_waited < 0:
            raise ValueError(f"queue entry {self.uid} has negative waves_waited")
        # Frozen dataclass: normalising in place needs object.__setattr__.
        object.__setattr__(self, "races", norm)
        object.__setattr__(self, "vetoes", frozenset(self.vetoes))


class Pairing(NamedTuple):
    """A match the wave made: player a is the longer waiter of the two."""

    # A NamedTuple, not a frozen dataclass: a big wave builds thousands of these, and a frozen
    # dataclass costs ~2 µs each to build (a quarter of the 10k-queue budget).

    uid_a: int
    race_a: str
    mmr_a: int
    uid_b: int
    race_b: str
    mmr_b: int
    map_name: str


@dataclass(frozen=True, slots=True)
class WaveResult:
    """Pairings in the order they were made, and the entries left waiting, in priority order."""

    pairings: tuple[Pairing, ...]
    waiting: tuple[QueueEntry, ...]


def pair_key(uid_a: int, uid_b: int) -> tuple[int, int]:
    """The key of two players in `RecentPairings`: the lower uid first."""
    return (uid_a, uid_b) if uid_a < uid_b else (uid_b, uid_a)


@dataclass(frozen=True, slots=True)
class RecentPairings:
    """Who met whom lately, keyed by `pair_key`: `rematches` are the pairs that played within
    the rematch window; `last_maps` the map of each pair's last match (any age)."""

    rematches: frozenset[tuple[int, int]] = frozenset()
    last_maps: Mapping[tuple[int, int], str] = field(default_factory=dict)


NO_RECENT = RecentPairings()


def validate_vetoes(
    vetoes: Iterable[str], map_pool: Sequence[str], max_vetoes: int
) -> frozenset[str]:
    """Return the vetoes as a set, or raise ValidationError if one is unknown or too many."""
    chosen = list(vetoes)
    unknown = [m for m in chosen if m not in map_pool]
    if unknown:
        raise ValidationError(
            "vetoes", N_("{map} is not in this season's map pool."), map=quoted(unknown[0])
        )
    result = frozenset(chosen)
    if len(result) > max_vetoes:
        raise ValidationError(
            "vetoes",
            N_("You can veto at most {max} maps; you picked {count}."),
            max=max_vetoes,
            count=len(result),
        )
    return result


def priority_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    """Return the entries in the order the wave handles them: most waves waited, then earliest
    joined, then lowest uid. A player queued twice is a bug (ValueError)."""
    # Three stable C-level sorts instead of one with a Python key.
    order = sorted(entries, key=attrgetter("uid"))
    order.sort(key=attrgetter("joined_at"))
    order.sort(key=attrgetter("waves_waited"), reverse=True)
    if len({e.uid for e in order}) != len(order):
        raise ValueError("a player is queued twice")
    return order


@dataclass(frozen=True, slots=True)
class MmrSlots:
    """Every (entry, race) of a wave as a slot, sorted by MMR, then by priority.

    Lists indexed by the position in that sort: `mmrs` (the slot's MMR), `owner` (the index of
    its entry in priority order), `race` (its race). `positions[i]` are entry i's own slots.
    """

    mmrs: list[int]
    owner: list[int]
    race: list[str]
    positions: list[list[int]]


def mmr_slots(order: Sequence[QueueEntry]) -> MmrSlots:
    """Lay out the slots of the entries (in priority order) sorted by MMR; among equal MMRs
    the longest waiter's slot comes first."""
    # Slots are numbered f in priority order, so each entry's slots are a contiguous range.
    # Sorting the integers mmr * count + f orders them by MMR, then by priority, and is much
    # faster than sorting tuples.
    first = [0]
    race_of: list[str] = []
    mmr_of: list[int] = []
    for e in order:
        for r in e.races:
            race_of.append(r.race)
            mmr_of.append(r.mmr)
        first.append(len(mmr_of))
    count = len(mmr_of)
    flat = [c % count for c in sorted([m * count + f for f, m in enumerate(mmr_of)])]
    pos_of = [0] * count  # slot number -> position in the sort
    for j, f in enumerate(flat):
        pos_of[f] = j
    owner_of = [0] * count  # slot number -> entry
    for i in range(len(order)):
        for f in range(first[i], first[i + 1]):
            owner_of[f] = i
    return MmrSlots(
        mmrs=[mmr_of[f] for f in flat],
        owner=[owner_of[f] for f in flat],
        race=[race_of[f] for f in flat],
        positions=[pos_of[first[i] : first[i + 1]] for i in range(len(order))],
    )


class FreeSlots:
    """The slots not paired yet, in MMR order: the nearest free one on either side of a
    position in near-constant time (a union-find where each taken slot points past itself)."""

    __slots__ = ("left", "right", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        # right[j]: nearest free slot at or after j (size = none). left[j + 1]: nearest free
        # slot at or before j, plus one (0 = none); the offset keeps the sentinel an index.
        self.right = list(range(size + 1))
        self.left = list(range(size + 1))

    def take(self, j: int) -> None:
        """Mark slot j as no longer free."""
        self.right[j] = j + 1
        self.left[j + 1] = j

    def at_or_after(self, j: int) -> int:
        """The nearest free slot at or after j, or `size` if there is none."""
        right = self.right
        j = right[j]
        if right[j] != j:
            j = _find(right, j)
        return j

    def before(self, j: int) -> int:
        """The nearest free slot before j (j itself taken), or -1 if there is none."""
        left = self.left
        j = left[j]
        if left[j] != j:
            j = _find(left, j)
        return j - 1


def _find(parent: list[int], j: int) -> int:
    # Union-find "next free slot" with path halving: each paired slot points past itself.
    while parent[j] != j:
        parent[j] = parent[parent[j]]
        j = parent[j]
    return j


def closest_opponent(
    own: Sequence[int], window: float, slots: MmrSlots, free: FreeSlots
) -> tuple[int, int] | None:
    """Return (own slot, opponent slot) of the smallest MMR difference, at most `window`,
    between one of `own` (taken already) and a free slot; None if none is that close.

    Equal differences go to the longer waiter (the lower owner), then to the first found.
    """
    mmrs, owner, size = slots.mmrs, slots.owner, free.size
    at_or_after, before = free.at_or_after, free.before
    best_diff = window  # only candidates within it count
    best_rank = best = best_own = -1
    for pos in own:
        mmr = mmrs[pos]
        # Equal MMRs before pos are found on the left and tie-broken there.
        j = at_or_after(pos)
        if j < size:
            d = mmrs[j] - mmr
            if d < best_diff or (d == best_diff and (best_rank < 0 or owner[j] < best_rank)):
                best_diff, best_rank, best, best_own = d, owner[j], j, pos
        j = before(pos)
        if j >= 0:
            if j > 0 and mmrs[j - 1] == mmrs[j]:
                # Among equal MMRs, prefer the leftmost free slot (the longest waiter).
                j = at_or_after(bisect_left(mmrs, mmrs[j]))
            d = mmr - mmrs[j]
            if d < best_diff or (d == best_diff and (best_rank < 0 or owner[j] < best_rank)):
                best_diff, best_rank, best, best_own = d, owner[j], j, pos
    return None if best_rank < 0 else (best_own, best)


def recent_rivals(order: Sequence[QueueEntry], recent: RecentPairings) -> dict[int, set[int]]:
    """For each entry (index in priority order) with a recent opponent in this wave, the
    indexes of those opponents."""
    if not recent.rematches:
        return {}
    index = {e.uid: i for i, e in enumerate(order)}
    rivals: dict[int, set[int]] = {}
    for a, b in recent.rematches:
        i, j = index.get(a), index.get(b)
        if i is not None and j is not None and i != j:
            rivals.setdefault(i, set()).add(j)
            rivals.setdefault(j, set()).add(i)
    return rivals


def closest_fresh_opponent(
    own: Sequence[int], window: float, slots: MmrSlots, free: FreeSlots, avoid: set[int]
) -> tuple[int, int] | None:
    """`closest_opponent`, skipping the free slots whose owner is in `avoid`."""
    mmrs, owner, size = slots.mmrs, slots.owner, free.size
    at_or_after, before = free.at_or_after, free.before
    best_diff = window
    best_rank = best = best_own = -1
    for pos in own:
        mmr = mmrs[pos]
        # Rightwards MMRs grow and equal MMRs come in priority order: the first slot not
        # avoided is this side's best.
        j = at_or_after(pos)
        while j < size and mmrs[j] - mmr <= best_diff:
            if owner[j] not in avoid:
                d = mmrs[j] - mmr
                if d < best_diff or best_rank < 0 or owner[j] < best_rank:
                    best_diff, best_rank, best, best_own = d, owner[j], j, pos
                break
            j = at_or_after(j + 1)
        # Leftwards, each MMR value is scanned from its leftmost free slot (longest waiter).
        j = before(pos)
        while j >= 0 and mmr - mmrs[j] <= best_diff:
            value = mmrs[j]
            start = bisect_left(mmrs, value)
            k = at_or_after(start)
            while k < size and mmrs[k] == value and owner[k] in avoid:
                k = at_or_after(k + 1)
            if k < size and mmrs[k] == value:
                d = mmr - value
                if d < best_diff or best_rank < 0 or owner[k] < best_rank:
                    best_diff, best_rank, best, best_own = d, owner[k], k, pos
                break
            j = before(start) if start > 0 else -1
    return None if best_rank < 0 else (best_own, best)


def pair_greedily(
    order: Sequence[QueueEntry],
    slots: MmrSlots,
    config: MatchmakingConfig,
    rivals: Mapping[int, set[int]] | None = None,
) -> list[tuple[int, int]]:
    """Pair the entries in priority order, each with its closest free opponent within its
    window, preferring one it has not met lately (`rivals`, see `recent_rivals`); return
    (own slot, opponent slot) per pairing, in the order they were made."""
    rivals = rivals or {}
    free = FreeSlots(len(slots.mmrs))
    take, positions, owner, window = free.take, slots.positions, slots.owner, config.window
    paired = bytearray(len(order))
    found: list[tuple[int, int]] = []
    for i, entry in enumerate(order):
        if paired[i]:
            continue
        # Taken out before searching, so it cannot find itself. If it finds nobody now, nobody
        # handled later can reach it either: their windows are no wider and the free set
        # only shrinks.
        own = positions[i]
        for j in own:
            take(j)
        reach = window(entry.waves_waited)
        match = closest_opponent(own, reach, slots, free)
        avoid = rivals.get(i)
        if match is not None and avoid and owner[match[1]] in avoid:
            # The closest is a recent opponent: anyone else in reach comes first.
            match = closest_fresh_opponent(own, reach, slots, free, avoid) or match
        if match is None:
            continue
        rival = owner[match[1]]
        for j in positions[rival]:
            take(j)
        paired[i] = paired[rival] = 1
        found.append(match)
    return found


def allowed_maps(
    map_pool: Sequence[str], vetoes_a: frozenset[str], vetoes_b: frozenset[str]
) -> tuple[str, ...]:
    """The maps two players may play: the pool minus either's vetoes, or, if those cover the
    whole pool, minus the maps both vetoed."""
    allowed = tuple(m for m in map_pool if m not in vetoes_a and m not in vetoes_b)
    if not allowed:
        allowed = tuple(m for m in map_pool if not (m in vetoes_a and m in vetoes_b))
    if not allowed:
        # Only possible when a side vetoed the whole pool, which validate_vetoes prevents.
        raise ValueError("the vetoes of both players cover the whole map pool")
    return allowed


def avoid_last_map(allowed: tuple[str, ...], last_map: str | None) -> tuple[str, ...]:
    """The allowed maps without the one the pair played last, unless it is the only one."""
    if last_map is None or last_map not in allowed or len(allowed) == 1:
        return allowed
    return tuple(m for m in allowed if m != last_map)


def _pick(allowed: tuple[str, ...], rng: random.Random) -> str:
    # rng.random() rather than rng.choice(): several times faster and just as deterministic;
    # the bias for a handful of maps is below 2**-50.
    return allowed[int(rng.random() * len(allowed))]


def make_pairings(
    order: Sequence[QueueEntry],
    slots: MmrSlots,
    found: Iterable[tuple[int, int]],
    map_pool: Sequence[str],
    rng: random.Random,
    last_maps: Mapping[tuple[int, int], str] | None = None,
) -> tuple[Pairing, ...]:
    """Build the pairings, drawing the maps in pairing order, never the map a pair played
    last (`last_maps`) while another is allowed."""
    # The allowed maps depend only on the two veto sets: computed once per combination.
    allowed_cache: dict[tuple[frozenset[str], frozenset[str]], tuple[str, ...]] = {}
    mmrs, race, owner = slots.mmrs, slots.race, slots.owner
    pairings = []
    for own, j in found:
        a, b = order[owner[own]], order[owner[j]]
        vetoes = (a.vetoes, b.vetoes)
        allowed = allowed_cache.get(vetoes)
        if allowed is None:
            allowed = allowed_cache[vetoes] = allowed_maps(map_pool, a.vetoes, b.vetoes)
        if last_maps:
            allowed = avoid_last_map(allowed, last_maps.get(pair_key(a.uid, b.uid)))
        pairings.append(
            Pairing(a.uid, race[own], mmrs[own], b.uid, race[j], mmrs[j], _pick(allowed, rng))
        )
    return tuple(pairings)


def run_wave(
    entries: Iterable[QueueEntry],
    config: MatchmakingConfig,
    map_pool: Sequence[str],
    rng: random.Random,
    recent: RecentPairings = NO_RECENT,
) -> WaveResult:
    """Pair the queue for one wave; deterministic for a given queue, RNG state and `recent`."""
    order = priority_order(entries)
    if not map_pool:
        raise ValueError("the map pool is empty")
    slots = mmr_slots(order)
    found = pair_greedily(order, slots, config, recent_rivals(order, recent))
    paired = {slots.owner[pos] for match in found for pos in match}
    waiting = tuple(e for i, e in enumerate(order) if i not in paired)
    pairings = make_pairings(order, slots, found, map_pool, rng, recent.last_maps)
    return WaveResult(pairings, waiting)
