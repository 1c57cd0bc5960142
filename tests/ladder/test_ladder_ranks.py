"""Tests for ladder.ranks: letters at the boundaries and inactivity (live ranks: Standings)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.ranks import is_ranked, rank_for

NOW = datetime(2025, 3, 15, tzinfo=UTC)


def letters(total: int) -> Counter[str]:
    """Count the letters of positions 1..total with no ties."""
    return Counter(rank_for(p, total) for p in range(1, total + 1))


def test_one_player_is_s() -> None:
    assert rank_for(1, 1) == "S"


def test_hundred_players_get_the_exact_shares() -> None:
    assert letters(100) == {"S": 1, "A": 7, "B": 21, "C": 21, "D": 21, "E": 21, "F": 8}
    assert [rank_for(p, 100) for p in (1, 2, 8, 9, 29, 30, 92, 93, 100)] == [
        "S", "A", "A", "B", "B", "C", "E", "F", "F",
    ]  # fmt: skip


def test_small_ladders_round_up_from_the_top() -> None:
    assert [rank_for(p, 10) for p in range(1, 11)] == list("SBBCCDDDEE")
    assert [rank_for(p, 2) for p in (1, 2)] == ["S", "D"]
    assert letters(200)["S"] == 2
    assert letters(150)["S"] == 2  # ceil(1.5)


def test_custom_shares() -> None:
    shares = (("Gold", 10), ("Silver", 40), ("Bronze", 50))
    assert [rank_for(p, 10, shares) for p in (1, 2, 5, 6, 10)] == [
        "Gold", "Silver", "Silver", "Bronze", "Bronze",
    ]  # fmt: skip


def test_bad_positions() -> None:
    with pytest.raises(ValueError):
        rank_for(0, 10)
    with pytest.raises(ValueError):
        rank_for(11, 10)


@settings(max_examples=200)
@given(total=st.integers(1, 3000))
def test_letters_are_monotonic_and_close_to_the_shares(total: int) -> None:
    order = "SABCDEF"
    seq = [order.index(rank_for(p, total)) for p in range(1, total + 1)]
    assert seq == sorted(seq)
    assert seq[0] == 0
    counts = letters(total)
    cumulative = 0
    for letter, share in (("S", 1), ("A", 7), ("B", 21), ("C", 21), ("D", 21), ("E", 21)):
        cumulative += share
        upto = sum(counts[x] for x in order[: order.index(letter) + 1])
        assert upto == -(-cumulative * total // 100)  # ceil


def test_is_ranked() -> None:
    assert not is_ranked(0, None, NOW)
    assert not is_ranked(0, NOW, NOW)
    assert is_ranked(1, NOW - timedelta(days=14), NOW)  # exactly 14 days: still ranked
    assert not is_ranked(1, NOW - timedelta(days=14, seconds=1), NOW)
    assert is_ranked(5, NOW - timedelta(days=20), NOW, inactive_days=30)
