"""Provisional ratings in the standings: shown as `1523?`, or left out and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ladder.rating_systems import EloSystem, Glicko2System, provisional_rule
from ladder.standings import LeaderboardFilters, Standings

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
RECENT = NOW - timedelta(days=1)
ALL = LeaderboardFilters()


def _row(uid: int, mmr: int, games: int, deviation: float | None = None) -> tuple:
    return (uid, "t", mmr, games, games, 0, 0, RECENT, f"p{uid}", None, 0, None, deviation, 0.06)


def test_elo_provisional_entries_are_marked() -> None:
    rule = provisional_rule(EloSystem(provisional_games=5))
    standings = Standings.load([_row(1, 1600, 2), _row(2, 1550, 9)], NOW, provisional=rule)
    page = standings.page(ALL, 1, now=NOW)
    assert [(e.uid, e.shown_mmr) for e in page.entries] == [(1, "1600?"), (2, "1550")]
    assert page.left_out == 0
    standings.update(1, "t", 1610, 5, RECENT)  # the fifth game settles it
    assert standings.page(ALL, 1, now=NOW).entries[0].shown_mmr == "1610"


def test_required_settled_and_min_games_leave_entries_out_and_count_them() -> None:
    rule = provisional_rule(Glicko2System())
    rows = [_row(1, 1700, 3, 200.0), _row(2, 1600, 30, 60.0), _row(3, 1500, 1, 80.0)]
    standings = Standings.load(rows, NOW, provisional=rule, require_settled=True, min_games=2)
    page = standings.page(ALL, 1, now=NOW)
    assert [e.uid for e in page.entries] == [2]
    assert page.left_out == 2 and page.ranked_entries == 1
    # The deviation drops below the threshold: the entry joins the ladder.
    standings.update(1, "t", 1690, 4, NOW, deviation=100.0, volatility=0.06)
    page = standings.page(ALL, 1, now=NOW)
    assert [e.uid for e in page.entries] == [1, 2] and page.left_out == 1
    # Left-out entries that go inactive stop being counted.
    assert standings.page(ALL, 1, now=NOW + timedelta(days=30)).left_out == 0
