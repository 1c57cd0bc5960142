"""Letter ranks (S, A, B, ... F) by position among the ranked (player, race) entries.

Position is competition ranking: 1 + the number of entries with a strictly higher MMR, so tied
entries share a position and a letter. With `ahead = position - 1`, an entry gets the first
letter whose cumulative share (percent, best first) is above the fraction of entries ahead of
it: `ahead * 100 < cumulative_share * total`. So each letter covers the ceiling of its
cumulative share, the best entry is always S (a lone player is S), and with 100 entries there
is exactly one S, seven A, 21 each of B to E and eight F.

An entry is unranked (no letter, not counted) with no rated game, or none in the last
`inactive_days` days (default 14); a game exactly `inactive_days` ago still counts.
`ladder.standings.Standings` keeps the ranked entries and their letters current.
"""

from __future__ import annotations

from collections.abc import Sequence
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
