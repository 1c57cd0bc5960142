"""Tests for ladder.ranks: letters at the boundaries, ties, inactivity and the live table."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.ranks import Rank, RankTable, is_ranked, rank_for

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


def test_ties_share_a_rank() -> None:
    table = RankTable.build([(k, 1500, 1, NOW) for k in range(100)], NOW)
    assert {table.rank_of(k, NOW) for k in range(100)} == {Rank("S", 1, 100)}
    table.record_game(0, 1490, NOW)
    assert table.rank_of(0, NOW) == Rank("F", 100, 100)
    assert table.rank_of(1, NOW) == Rank("S", 1, 100)


def test_table_tracks_rating_changes() -> None:
    table = RankTable()
    assert table.rank_of("x", NOW) is None
    for i in range(100):
        table.record_game(i, 1000 + i, NOW)
    assert table.rank_of(99, NOW) == Rank("S", 1, 100)
    assert table.rank_of(98, NOW) == Rank("A", 2, 100)
    assert table.rank_of(0, NOW) == Rank("F", 100, 100)
    table.record_game(0, 5000, NOW)  # from last to first
    assert table.rank_of(0, NOW) == Rank("S", 1, 100)
    assert table.rank_of(99, NOW) == Rank("A", 2, 100)
    table.update_mmr(0, 1000)  # a correction
    assert table.rank_of(0, NOW) == Rank("F", 100, 100)
    table.update_mmr("nobody", 2000)  # unranked keys stay unranked
    assert "nobody" not in table
    table.remove(99)
    assert len(table) == 99
    assert table.rank_of(98, NOW) == Rank("S", 1, 99)


def test_inactive_entries_drop_out_lazily() -> None:
    table = RankTable(inactive_days=14)
    table.record_game("old", 2000, NOW - timedelta(days=20))
    table.record_game("mid", 1800, NOW - timedelta(days=10))
    table.record_game("new", 1500, NOW)
    assert table.rank_of("mid", NOW - timedelta(days=10)) == Rank("C", 2, 3)
    assert table.rank_of("mid", NOW) == Rank("S", 1, 2)  # "old" expired
    assert "old" not in table
    assert table.rank_of("old", NOW) is None
    # playing again keeps an entry alive past its old expiry
    table.record_game("mid", 1810, NOW)
    assert table.expire(NOW + timedelta(days=13)) == []
    assert sorted(table.expire(NOW + timedelta(days=15))) == ["mid", "new"]
    assert len(table) == 0


def test_build_skips_unranked() -> None:
    rows = [
        ("a", 1500, 0, None),
        ("b", 1600, 3, NOW - timedelta(days=30)),
        ("c", 1400, 2, NOW - timedelta(days=1)),
    ]
    table = RankTable.build(rows, NOW)
    assert len(table) == 1
    assert table.rank_of("c", NOW) == Rank("S", 1, 1)


def test_table_agrees_with_a_full_recount() -> None:
    rng = random.Random(5)
    table = RankTable()
    mmrs: dict[int, int] = {}
    for step in range(3000):
        key = rng.randrange(300)
        mmrs[key] = rng.randint(1000, 2000)
        table.record_game(key, mmrs[key], NOW)
        if step % 97 == 0:
            for k, m in mmrs.items():
                position = 1 + sum(1 for other in mmrs.values() if other > m)
                assert table.rank_of(k, NOW) == Rank(rank_for(position, len(mmrs)), position,
                                                    len(mmrs))  # fmt: skip
    assert len(table._expiry) <= 2 * len(mmrs) + 64  # stale heap items get compacted
