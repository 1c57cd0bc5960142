"""The queue board's text: counts per race and region, the longest wait in whole minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ladder.queue_board import BoardEntry, board_text, wait_text

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NAMES = {"bw_zerg": "BW Zerg", "sc2_terran": "SC2 Terran"}
ORDER = ("bw_zerg", "sc2_terran")


def test_an_empty_queue() -> None:
    assert board_text([], NOW, NAMES, ORDER) == "Nobody is queueing right now. Use /queue to play."


def test_counts_per_race_and_region_and_the_longest_wait() -> None:
    entries = [
        BoardEntry(("sc2_terran", "bw_zerg"), "EU", NOW - timedelta(seconds=30)),
        BoardEntry(("bw_zerg",), "EU", NOW - timedelta(minutes=3, seconds=5)),
        BoardEntry(("bw_zerg",), None, NOW),
    ]
    assert board_text(entries, NOW, NAMES, ORDER).splitlines() == [
        "**3 queueing**",
        "BW Zerg · EU: 2",
        "BW Zerg · no region: 1",
        "SC2 Terran · EU: 1",
        "Longest wait: 3 minutes",
        "Use /queue to play.",
    ]


def test_the_text_changes_only_with_whole_minutes() -> None:
    entry = [BoardEntry(("bw_zerg",), "EU", NOW)]
    texts = {board_text(entry, NOW + timedelta(seconds=s), NAMES, ORDER) for s in range(0, 60)}
    assert len(texts) == 1
    assert wait_text(59.9) == "under a minute" and wait_text(60) == "1 minute"
    assert wait_text(-5) == "under a minute" and wait_text(3600) == "60 minutes"
