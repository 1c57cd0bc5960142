"""The seasons' Discord text: the provisional mark and /profile's inactivity notice, and
escaping of the names an admin or a player typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cogs.seasons import escaped, rating_notes
from ladder.rating_systems import EloSystem, Glicko2System

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_glicko2_says_when_the_rating_becomes_provisional() -> None:
    system = Glicko2System()
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, NOW - timedelta(days=1), NOW)
    assert (shown, notice) == ("1623", "")  # played yesterday: nothing to say
    away = NOW - timedelta(days=20)
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, away, NOW)
    assert shown == "1623" and notice.startswith(f"inactive since <t:{int(away.timestamp())}:D>")
    assert "your rating becomes provisional on <t:" in notice
    long_gone = NOW - timedelta(days=400)
    shown, notice = rating_notes(system, 1623, 40, 60.0, 0.06, long_gone, NOW)
    assert shown == "1623?" and "became provisional on" in notice


def test_elo_decay_notice_and_provisional_games() -> None:
    decaying = EloSystem(decay_after_days=30, decay_per_week=10, decay_floor=1400)
    away = NOW - timedelta(days=10)
    shown, notice = rating_notes(decaying, 1700, 12, None, None, away, NOW)
    expected = int((away + timedelta(days=30)).timestamp())
    assert shown == "1700" and notice.endswith(f"your rating starts decaying on <t:{expected}:D>")
    assert rating_notes(EloSystem(), 1700, 12, None, None, away, NOW) == (
        "1700",
        f"inactive since <t:{int(away.timestamp())}:D>",
    )
    assert rating_notes(EloSystem(provisional_games=5), 1530, 2, None, None, NOW, NOW)[0] == "1530?"


def test_names_are_escaped() -> None:
    assert escaped("**Spring** @everyone") == "\\*\\*Spring\\*\\* @\u200beveryone"
    assert escaped("x" * 40).endswith("…") and len(escaped("x" * 40)) == 32
