"""Migrations 0003/0004: the views exist and return hand-computed numbers; the indexes are there."""

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Database, epoch_ms, format_time, parse_time

VIEWS = {"daily_command_usage", "command_latency", "active_players", "player_overview"}
# Exactly these on command_calls: every index more costs the command log writer (migration 0004).
INDEXES = {"command_calls_by_time", "command_calls_by_command", "command_calls_by_player"}


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


async def insert_calls(db, calls):
    """calls: (called_at text, discord_uid, player_name, command, duration_ms, outcome)."""
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO command_calls (called_ms, discord_uid, player_name, command,"
            " duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [(epoch_ms(parse_time(call[0])), *call[1:]) for call in calls],
        )


async def rows(db, sql, params=()):
    return [tuple(r) for r in await db.fetchall(sql, params)]


async def test_views_and_indexes_exist_after_migration(db):
    found = await rows(db, "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'index')")
    assert {name for kind, name in found if kind == "view"} == VIEWS
    indexes = await rows(
        db, "SELECT name FROM sqlite_master WHERE tbl_name = 'command_calls' AND type = 'index'"
    )
    assert {name for (name,) in indexes} == INDEXES
    for view in VIEWS:  # each one compiles and runs on an empty database
        assert await rows(db, f"SELECT * FROM {view}") == []


async def test_daily_command_usage(db):
    await insert_calls(
        db,
        [
            ("2026-03-01 00:00:00.000", 1, "a", "queue", 10.0, "ok"),
            ("2026-03-01 10:00:00.000", 1, "a", "queue", 20.0, "error"),
            ("2026-03-01 23:59:59.999", 2, "b", "queue", 30.0, "refused:terms"),
            ("2026-03-01 12:00:00.000", 2, "b", "help", 1.0, "ok"),
            ("2026-03-02 00:00:00.000", 1, "a", "queue", 40.0, "rejected"),
            ("2026-03-02 01:00:00.000", 3, "c", "queue", 50.0, "cancelled"),
            ("2026-03-02 02:00:00.000", 3, "c", "queue", 61.0, "refused:setup"),
        ],
    )
    got = await rows(db, "SELECT * FROM daily_command_usage ORDER BY day, command")
    # day, command, calls, players, ok, refused, rejected, errors, cancelled, avg_ms
    assert got == [
        ("2026-03-01", "help", 1, 1, 1, 0, 0, 0, 0, 1.0),
        ("2026-03-01", "queue", 3, 2, 1, 1, 0, 1, 0, 20.0),
        ("2026-03-02", "queue", 3, 2, 0, 1, 1, 0, 1, 50.3),
    ]


async def test_command_latency_is_nearest_rank(db):
    calls = [("2026-03-01 00:00:00.000", 1, "a", "ten", float(v), "ok") for v in range(10, 0, -1)]
    calls += [("2026-03-01 00:00:00.000", 1, "a", "twenty", float(v), "ok") for v in range(1, 21)]
    calls += [("2026-03-01 00:00:00.000", 1, "a", "one", 7.5, "ok")]
    calls += [("2026-03-01 00:00:00.000", 1, "a", "ties", v, "ok") for v in (5.0, 5.0, 5.0, 9.0)]
    await insert_calls(db, calls)
    got = await rows(db, "SELECT * FROM command_latency ORDER BY command")
    # command, calls, p50 (rank ceil(.5n)), p95 (ceil(.95n)), p99 (ceil(.99n)), max
    assert got == [
        ("one", 1, 7.5, 7.5, 7.5, 7.5),
        ("ten", 10, 5.0, 10.0, 10.0, 10.0),  # ranks 5, 10, 10
        ("ties", 4, 5.0, 9.0, 9.0, 9.0),  # ranks 2, 4, 4
        ("twenty", 20, 10.0, 19.0, 20.0, 20.0),  # ranks 10, 19, 20
    ]


async def test_command_latency_matches_python_on_random_data(db):
    rng = random.Random(5)
    calls = [
        ("2026-03-01 00:00:00.000", 1, "a", rng.choice("abcde"), float(rng.randrange(500)), "ok")
        for _ in range(2000)
    ]
    await insert_calls(db, calls)
    for command, n, p50, p95, p99, top in await rows(db, "SELECT * FROM command_latency"):
        values = sorted(c[4] for c in calls if c[3] == command)
        assert n == len(values)
        assert p50 == values[-(-50 * n // 100) - 1]
        assert p95 == values[-(-95 * n // 100) - 1]
        assert p99 == values[-(-99 * n // 100) - 1]
        assert top == values[-1]


async def test_active_players(db):
    now = datetime.now(UTC)

    def ago(**delta):
        return format_time(now - timedelta(**delta))

    hour, two_days, twenty_days = ago(hours=1), ago(days=2), ago(days=20)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO players (discord_uid, discord_name, player_name, completed_setup,"
            " created_at, updated_at) VALUES (1, 'disc1', 'Neo', 1, 'x', 'x'),"
            " (2, 'disc2', NULL, 0, 'x', 'x')"
        )
    await insert_calls(
        db,
        [
            (hour, 1, "Neo", "queue", 1.0, "ok"),
            (ago(days=3), 1, "Neo", "profile", 1.0, "ok"),
            (ago(days=10), 1, "Neo", "help", 1.0, "ok"),
            (ago(days=40), 1, "Neo", "help", 1.0, "ok"),  # too old: not counted
            (twenty_days, 2, "disc2", "termsofservice", 1.0, "ok"),
            (two_days, 3, "stranger", "help", 1.0, "ok"),  # no players row
            (ago(days=35), 4, "gone", "help", 1.0, "ok"),  # not active: not listed
        ],
    )
    got = await rows(db, "SELECT * FROM active_players ORDER BY discord_uid")
    # discord_uid, name, last_seen, calls_7d, calls_30d, has_player, completed_setup, banned
    assert got == [
        (1, "Neo", hour, 2, 3, 1, 1, 0),
        (2, "disc2", twenty_days, 0, 1, 1, 0, 0),
        (3, "stranger", two_days, 1, 1, 0, 0, 0),
    ]
    week = await rows(db, "SELECT discord_uid FROM active_players WHERE calls_7d > 0")
    assert week == [(1,), (3,)]


async def test_player_overview(db):
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO players (discord_uid, discord_name, player_name, country, region,"
            " accepted_tos, completed_setup, created_at, updated_at) VALUES"
            " (1, 'd1', 'Neo', 'FR', 'EU', 1, 1, '2026-01-01 00:00:00.000', 'x'),"
            " (2, 'd2', NULL, NULL, NULL, 1, 0, '2026-01-02 00:00:00.000', 'x')"
        )
        await conn.execute(
            "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws,"
            " last_played_at) VALUES"
            " (1, 'terran', 1520, 10, 6, 3, 1, '2026-02-01 00:00:00.000'),"
            " (1, 'zerg', 1490, 4, 1, 3, 0, '2026-02-03 00:00:00.000')"
        )
    got = await rows(db, "SELECT * FROM player_overview ORDER BY discord_uid")
    assert got == [
        (1, "Neo", "d1", "FR", "EU", 1, 1, 0, "2026-01-01 00:00:00.000",
         2, 1520, 14, 7, 6, 1, "2026-02-03 00:00:00.000"),
        (2, None, "d2", None, None, 1, 0, 0, "2026-01-02 00:00:00.000",
         0, None, 0, 0, 0, 0, None),
    ]  # fmt: skip


async def test_views_can_be_read_by_a_read_only_connection(db):
    await insert_calls(db, [("2026-03-01 00:00:00.000", 1, "a", "queue", 10.0, "ok")])
    conn = sqlite3.connect(f"{db.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        for view in VIEWS:
            conn.execute(f"SELECT * FROM {view}").fetchall()
    finally:
        conn.close()
