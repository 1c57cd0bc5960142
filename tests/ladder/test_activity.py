"""The best hours to queue, from the activity grids."""

from __future__ import annotations

from ladder.activity import BusyHour, best_hours


def grid(cells: dict[tuple[int, int], int]) -> list[list[int]]:
    return [[cells.get((day, hour), 0) for hour in range(24)] for day in range(7)]


def test_busiest_first_by_matches_then_joins_then_earliest() -> None:
    matches = grid({(5, 20): 9, (2, 19): 4, (0, 18): 4})
    joins = grid({(5, 20): 1, (2, 19): 8, (0, 18): 8, (6, 23): 50})
    assert best_hours(matches, joins) == [
        BusyHour(5, 20, 9, 1),
        BusyHour(0, 18, 4, 8),
        BusyHour(2, 19, 4, 8),
    ]
    assert str(BusyHour(6, 23, 0, 50)) == "Sunday 23:00-00:00"


def test_empty_hours_are_never_best() -> None:
    assert best_hours(grid({}), grid({})) == []
    assert best_hours(grid({}), grid({(3, 4): 1}), top=5) == [BusyHour(3, 4, 0, 1)]
