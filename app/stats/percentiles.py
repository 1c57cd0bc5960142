"""Nearest-rank percentiles, and the brackets that let the report compute them from a small
part of the durations.

A sample of a command's durations brackets the median (`brackets`' low and high) and the tail
from p95 up (from `tail`); `from_brackets` then reads each percentile's rank from the sorted
durations inside those brackets, given how many calls fall below the median's bracket, or says
it cannot (None: the sample was not like the period, and the caller sorts them all instead).
"""

from __future__ import annotations

import bisect
import math

from app.stats.report import SLOWEST_CALLS

# The first is bracketed on its own (the median); the others come from the tail, which starts
# at the second.
PERCENTILES = (50, 95, 99)
# A bracket reaches this many standard errors of the sample quantile beyond the estimate: wide
# enough that a sample spread over the period misses only by a fluke, narrow enough that the
# brackets hold about a tenth of the calls.
BRACKET_SIGMAS = 5.0


def percentile_rank(p: int, n: int) -> int:
    """The 1-based nearest rank of percentile `p` (integer, 1..100) among n > 0 values."""
    return (p * n + 99) // 100  # ceil(p * n / 100), in integers


def brackets(sample: list[float]) -> tuple[float, float, float]:
    """(low, high) around the first percentile, and where the tail starts, from a sorted sample.

    A bound past either end of the sample is -inf or inf: with few calls, everything. The tail
    never starts below `low` (the durations query relies on it).
    """
    return (
        _bound(sample, PERCENTILES[0], -1),
        _bound(sample, PERCENTILES[0], 1),
        _bound(sample, PERCENTILES[1], -1),
    )


def _bound(sample: list[float], p: int, side: int) -> float:
    """The sample value BRACKET_SIGMAS standard errors below (side -1) or above (1) percentile p."""
    n, q = len(sample), p / 100
    spread = BRACKET_SIGMAS * math.sqrt(n * q * (1 - q)) + 1
    index = math.floor(q * n - spread) if side < 0 else math.ceil(q * n + spread)
    if index < 0:
        return -math.inf
    if index >= n:
        return math.inf
    return sample[index]


def from_brackets(
    durations: list[float], calls: int, below_low: int, brackets: tuple[float, float, float]
) -> tuple[float, ...] | None:
    """Percentiles and max from the sorted durations in the brackets; None if one missed.

    `durations` holds every call in [low, high) and every call from `tail` up, and `below_low`
    calls are shorter than `low`: a rank is known if it falls in the first, or in the tail
    (counted from the longest call). The tail must also hold the slowest calls.
    """
    low, high, tail = brackets
    in_tail = len(durations) - bisect.bisect_left(durations, tail)
    if in_tail < min(calls, SLOWEST_CALLS):
        return None
    window = bisect.bisect_left(durations, low)
    in_window = bisect.bisect_left(durations, high) - window
    values = []
    for p in PERCENTILES:
        rank = percentile_rank(p, calls)
        if calls - rank < in_tail:
            values.append(durations[len(durations) - 1 - (calls - rank)])
        elif below_low < rank <= below_low + in_window:
            values.append(durations[window + rank - below_low - 1])
        else:
            return None
    return (*values, durations[-1])
