"""A small ladder written with plain SQL, numbers known by hand: Neo's finished matches, the
ratings and the players (tests/storage/test_leaderboard.py counts them; the profile cache's
tests write over them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.database import Database, format_time

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
NEO, TRIN, MORPH, SMITH = 101, 102, 103, 104


def at(days_ago: float) -> str:
    return format_time(NOW - timedelta(days=days_ago))


async def execute(db: Database, sql: str, rows: list[tuple]) -> None:
    async with db.transaction() as conn:
        await conn.executemany(sql, rows)


async def add_players(db: Database) -> None:
    await execute(
        db,
        "INSERT INTO players (discord_uid, discord_name, player_name, country, banned,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (NEO, "neo_discord", "Neo", "FR", 0, at(100), at(100)),
            (TRIN, "trin_discord", "Trinity", "DE", 0, at(100), at(100)),
            (MORPH, "morpheus", None, None, 0, at(100), at(100)),  # no setup: Discord name
            (SMITH, "smith", "Smith", "KR", 1, at(100), at(100)),  # banned
        ],
    )


MATCH_SQL = (
    "INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr, player2_uid,"
    " player2_race, player2_mmr, map, created_at, confirm_deadline, result, mmr_change, ended_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def match(mid, status, p1, r1, m1, p2, r2, m2, result, change, days_ago, map_="Eclipse"):
    ended = at(days_ago)
    return (mid, status, p1, r1, m1, p2, r2, m2, map_, ended, ended, result, change, ended)


async def add_matches(db: Database) -> None:
    """Neo's finished matches (his side, days ago): W 1, L 5, D 10, W 20, L 40, W 100; plus
    matches that must not count: aborted, cancelled, invalidated, and others' games."""
    await execute(
        db,
        MATCH_SQL,
        [
            match(1, "finished", NEO, "bw_zerg", 1500, TRIN, "bw_terran", 1500, "p1_win", 20, 100),
            match(2, "finished", TRIN, "bw_terran", 1480, NEO, "bw_zerg", 1520, "p1_win", 22, 40),
            match(3, "finished", MORPH, "sc2_zerg", 1500, NEO, "bw_zerg", 1498, "p2_win", 20, 20),
            match(4, "finished", NEO, "bw_terran", 1500, TRIN, "bw_zerg", 1500, "draw", 0, 10),
            match(5, "finished", NEO, "bw_zerg", 1518, MORPH, "sc2_zerg", 1480, "p2_win", -23, 5),
            match(
                6,
                "finished",
                TRIN,
                "bw_terran",
                1502,
                NEO,
                "bw_zerg",
                1495,
                "p2_win",
                -20,
                1,
                "Polypoid",
            ),
            match(7, "aborted", NEO, "bw_zerg", 1515, TRIN, "bw_terran", 1482, None, None, 0.5),
            match(8, "cancelled", TRIN, "bw_terran", 1482, NEO, "bw_zerg", 1515, None, None, 0.4),
            match(9, "invalidated", NEO, "bw_zerg", 1515, MORPH, "sc2_zerg", 1503, None, None, 0.3),
            match(
                10, "finished", TRIN, "bw_terran", 1482, MORPH, "sc2_zerg", 1503, "p1_win", 21, 0.2
            ),
        ],
    )


async def add_ratings(db: Database) -> None:
    await execute(
        db,
        "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws, last_played_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (NEO, "bw_zerg", 1515, 5, 3, 2, 0, at(1)),
            (NEO, "bw_terran", 1500, 1, 0, 0, 1, at(10)),
            (TRIN, "bw_terran", 1503, 5, 2, 3, 0, at(0.2)),
            (TRIN, "bw_zerg", 1500, 1, 0, 0, 1, at(10)),
            (MORPH, "sc2_zerg", 1482, 3, 1, 2, 0, at(20)),  # inactive
            (SMITH, "bw_zerg", 1900, 9, 9, 0, 0, at(1)),  # banned
        ],
    )
