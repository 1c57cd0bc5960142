"""The dashboard's calls per day per command agree with `bot.py stats`; live counters."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta

from app import stats
from cache.players import PlayerCache
from services.analytics import calls_per_day, live_counters
from storage.command_log import CommandLogWriter
from storage.database import Database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COMMANDS = ("queue", "profile", "setup", "help")


def ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


async def test_calls_per_day_add_up_to_the_stats_report(tmp_path):
    path = tmp_path / "ladder.db"
    await (await Database.open(path)).close()
    rng = random.Random(3)
    start = datetime(2026, 3, 1, tzinfo=UTC)  # before the 7-day period, and into tomorrow
    rows = [
        (ms(start + timedelta(seconds=rng.randrange(11 * 86_400))), rng.randrange(1, 40),
         rng.choice(COMMANDS), rng.random() * 100, rng.choice(("ok", "ok", "error")))
        for _ in range(3000)
    ]  # fmt: skip
    # Both edges of the period's first day.
    rows += [(ms(datetime(2026, 3, 4, tzinfo=UTC)), 1, "help", 1.0, "ok")]
    rows += [(ms(datetime(2026, 3, 4, tzinfo=UTC)) - 1, 1, "help", 1.0, "ok")]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO command_calls (called_ms, discord_uid, command, duration_ms, outcome)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    conn = stats.open_readonly(path)
    try:
        report = stats.collect(conn, days=7, now=NOW)
        per_day = calls_per_day(
            conn, [c.command for c in report.commands], date.fromisoformat(report.first_day), 7
        )
    finally:
        conn.close()
    assert set(per_day) == set(COMMANDS)
    for command in report.commands:
        assert sum(per_day[command.command]) == command.calls
    for index, day in enumerate(report.per_day):
        assert sum(counts[index] for counts in per_day.values()) == day.calls
    # Counted by hand: help on 2026-03-04 (the first day) from 00:00:00.000 on.
    first = ms(datetime(2026, 3, 4, tzinfo=UTC))
    by_hand = sum(
        1 for at, _, command, _, _ in rows if command == "help" and first <= at < first + 86_400_000
    )
    assert per_day["help"][0] == by_hand


async def test_live_counters_are_the_writer_s_and_the_cache_s(tmp_path):
    db = await Database.open(tmp_path / "ladder.db")
    writer = CommandLogWriter(db)
    cache = PlayerCache()
    try:
        counters = live_counters(writer, cache, db.path)
        assert counters.command_log == writer.stats()
        assert counters.player_cache == cache.stats()
        assert counters.database_bytes == (tmp_path / "ladder.db").stat().st_size > 0
        assert counters.wal_bytes == (tmp_path / "ladder.db-wal").stat().st_size
    finally:
        await writer.close()
        await db.close()
    assert live_counters(writer, cache, tmp_path / "missing.db").database_bytes == 0
