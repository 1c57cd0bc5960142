"""/activity's lines: each best hour with its counts in the singular or the plural, in the
reader's language (the command itself runs in tests/e2e/test_activity.py)."""

from __future__ import annotations

import pytest

import i18n
from cogs.activity import hour_line
from i18n import speaking
from ladder.activity import BusyHour


def test_one_match_is_not_one_matches() -> None:
    assert hour_line(BusyHour(5, 6, 1, 2)) == "• Saturday 06:00-07:00: 1 match, 2 queue joins"
    assert hour_line(BusyHour(0, 23, 3, 1)) == "• Monday 23:00-00:00: 3 matches, 1 queue join"


def test_big_counts_are_grouped_as_the_reader_writes_numbers() -> None:
    assert "1,234 matches" in hour_line(BusyHour(0, 0, 1234, 0))


@pytest.mark.parametrize("language", i18n.LOCALES)
def test_the_line_renders_in_every_language(language: str) -> None:
    with speaking(language):
        line = hour_line(BusyHour(2, 20, 12, 1))
    assert line.startswith("•") and "20:00-21:00" in line and "{" not in line, line
