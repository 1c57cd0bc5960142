"""Letter ranks (S, A, B, ... F) by position among the ranked (player, race) entries.

Position is competition ranking: 1 + the number of entries with a strictly higher MMR, so tied
entries share a position and a letter. With `ahead = position - 1`, an entry gets the first
letter whose cumulative share (percent, best first) is above the fraction of entries ahead of
it: `ahead * 100 < cumulative_share * total`. So each letter covers the ceiling of its
cumulative share, the best entry is always S (a lone player is S), and with 100 entries there
is exactly one S, seven A, 21 each of B to E and eight F.

An entry is unranked (no letter, not counted) with no rated game, or none in the last
`inactive_days` days (default 14); a game exactly `inactive_days` ago still counts.

`RankTable` keeps the ranked MMRs in a sorted list so a rank is two bisects, and each rating
change is one removal and one insertion; expiry of inactive entries is lazy, from a heap
ordered by last game, so reading a rank never rescans the ladder.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ladder.config import DEFAULT_RANK_SHARES

type Shares = Sequence[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class Rank:
    """A ranked entry's letter, its position (1 = best, ties share) and how many are ranked."""

    letter: str
    position: int
    total: int


def rank_for(position: int, total: int, shares: Shares = DEFAULT_RANK_SHARES) -> str:
    """Return the letter for a 1-based position among `total` ranked entries."""
    if not 1 <= position <= total:
        raise ValueError(f"position {position} is not within 1..{total}")
    if not shares:
        raise ValueError("no rank shares given")
    ahead = position - 1
    cumulative = 0.0
    for letter, share in shares:
        cumulative += share
        # Multiplied out rather than divided, so 29/100 * 100 rounding can't move a boundary.
        if ahead * 100 < cumulative * total:
            return letter
    return shares[-1][0]  # only reachable if the shares add up to slightly under 100


def is_ranked(
    games_played: int, last_played: datetime | None, now: datetime, inactive_days: int = 14
) -> bool:
    """Return whether an entry is ranked: it has a game within the last `inactive_days`."""
    if games_played <= 0 or last_played is None:
        return False
    return now - last_played <= timedelta(days=inactive_days)


class RankTable:
    """The ranked entries' MMRs, kept sorted so ranks stay current without rescanning."""

    def __init__(self, shares: Shares = DEFAULT_RANK_SHARES, inactive_days: int = 14) -> None:
        self._shares = tuple(shares)
        self._inactive = timedelta(days=inactive_days)
        self._mmrs: list[int] = []  # ascending, one per ranked entry
        self._entries: dict[Hashable, tuple[int, datetime]] = {}  # key -> (mmr, last played)
        # (last played, tie-breaker, key); stale items (the key played again since) are
        # skipped when popped, and the heap is rebuilt when they outnumber live ones.
        self._expiry: list[tuple[datetime, int, Hashable]] = []
        self._seq = 0

    @classmethod
    def build(
        cls,
        entries: Iterable[tuple[Hashable, int, int, datetime | None]],
        now: datetime,
        shares: Shares = DEFAULT_RANK_SHARES,
        inactive_days: int = 14,
    ) -> RankTable:
        """Build a table from (key, mmr, games played, last played) rows, keeping ranked ones."""
        table = cls(shares, inactive_days)
        for key, mmr, games, last in entries:
            if is_ranked(games, last, now, inactive_days):
                assert last is not None
                table._entries[key] = (mmr, last)
        table._mmrs = sorted(mmr for mmr, _ in table._entries.values())
        table._rebuild_heap()
        return table

    def __len__(self) -> int:
        return len(self._mmrs)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def record_game(self, key: Hashable, mmr: int, played_at: datetime) -> None:
        """Record a rated game for `key`: it is ranked with this MMR from now on."""
        old = self._entries.get(key)
        if old is not None:
            self._remove_mmr(old[0])
            played_at = max(played_at, old[1])
        self._entries[key] = (mmr, played_at)
        insort(self._mmrs, mmr)
        self._push(played_at, key)

    def update_mmr(self, key: Hashable, mmr: int) -> None:
        """Change a ranked entry's MMR (after a correction); unranked keys are ignored."""
        old = self._entries.get(key)
        if old is None or old[0] == mmr:
            return
        self._remove_mmr(old[0])
        insort(self._mmrs, mmr)
        self._entries[key] = (mmr, old[1])

    def remove(self, key: Hashable) -> None:
        """Drop an entry (e.g. a banned player); unknown keys are ignored."""
        old = self._entries.pop(key, None)
        if old is not None:
            self._remove_mmr(old[0])

    def expire(self, now: datetime) -> list[Hashable]:
        """Drop entries whose last game is more than `inactive_days` before `now`."""
        cutoff = now - self._inactive
        dropped = []
        heap = self._expiry
        while heap and heap[0][0] < cutoff:
            last, _, key = heapq.heappop(heap)
            entry = self._entries.get(key)
            if entry is not None and entry[1] == last:
                self.remove(key)
                dropped.append(key)
        return dropped

    def rank_of(self, key: Hashable, now: datetime) -> Rank | None:
        """Return the key's rank at `now`, or None if it is unranked."""
        self.expire(now)
        entry = self._entries.get(key)
        if entry is None:
            return None
        return self.rank_of_mmr(entry[0])

    def rank_of_mmr(self, mmr: int) -> Rank:
        """Return the rank a ranked entry with this MMR has (its ties share it)."""
        total = len(self._mmrs)
        if total == 0:
            raise ValueError("no ranked entries")
        ahead = total - bisect_right(self._mmrs, mmr)
        # An MMR below everyone's would be position total + 1: clamp to the last place.
        position = min(ahead + 1, total)
        return Rank(rank_for(position, total, self._shares), position, total)

    def _remove_mmr(self, mmr: int) -> None:
        i = bisect_right(self._mmrs, mmr) - 1
        if i < 0 or self._mmrs[i] != mmr:
            raise RuntimeError(f"rank table out of sync: MMR {mmr} missing")
        del self._mmrs[i]

    def _push(self, played_at: datetime, key: Hashable) -> None:
        self._seq += 1
        heapq.heappush(self._expiry, (played_at, self._seq, key))
        if len(self._expiry) > 2 * len(self._entries) + 64:
            self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        self._expiry = []
        for key, (_, last) in self._entries.items():
            self._seq += 1
            self._expiry.append((last, self._seq, key))
        heapq.heapify(self._expiry)
