"""`bot.py stats` counts the replays stored in the period: verified share and refusal reasons."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app import stats
from storage.database import Database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a 3-day period is 2026-03-08 .. 2026-03-10


async def new_database(path: Path) -> Path:
    db = await Database.open(path)  # the real migrations
    await db.close()
    return path


def fill(path: Path) -> None:
    """Two players and one match the replays belong to."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (?, ?, 'x', 'x')",
            [(1, "one"), (2, "two")],
        )
        conn.execute(
            "INSERT INTO matches (status, player1_uid, player1_race, player1_mmr, player2_uid,"
            " player2_race, player2_mmr, map, created_at, confirm_deadline)"
            " VALUES ('finished', 1, 'sc2_zerg', 1500, 2, 'sc2_terran', 1500, 'm', 'x', 'x')"
        )


def add_replays(path: Path, rows: list[tuple[str | None, str]]) -> None:
    conn = sqlite3.connect(path)
    try:
        match_id = conn.execute("SELECT min(id) FROM matches").fetchone()[0]
        uploader = conn.execute("SELECT player1_uid FROM matches WHERE id = ?", (match_id,))
        uid = uploader.fetchone()[0]
        for i, (reason, at) in enumerate(rows):
            conn.execute(
                "INSERT INTO replays (match_id, uploader, sha256, size, facts, verdict, reason,"
                " result, effect, uploaded_at) VALUES (?, ?, ?, 1, '{}', ?, ?, ?, 'evidence', ?)",
                (
                    match_id, uid, f"{i:064x}", "refused" if reason else "verified", reason,
                    None if reason else "p1_win", at,
                ),
            )  # fmt: skip
        conn.commit()
    finally:
        conn.close()


async def test_replays_by_verdict_in_the_period(tmp_path: Path) -> None:
    path = await new_database(tmp_path / "ladder.db")
    fill(path)
    add_replays(
        path,
        [
            (None, "2026-03-08 10:00:00.000"),
            (None, "2026-03-09 10:00:00.000"),
            (None, "2026-03-10 11:00:00.000"),
            ("names", "2026-03-09 12:00:00.000"),
            ("computer", "2026-03-10 01:00:00.000"),
            ("map", "2026-03-01 00:00:00.000"),  # before the 3-day period
        ],
    )
    # Two /replay calls refused before anything was stored (one before the period), one ok.
    day = 86_400_000
    march_9 = 20521 * day  # 2026-03-09 00:00 UTC in ms
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO command_calls (called_ms, discord_uid, player_name, command,"
            " duration_ms, outcome) VALUES (?, 1, 'one', ?, 5.0, ?)",
            [
                (march_9 + 1000, "replay", "rejected"),
                (march_9 + 2000, "replay", "rejected"),
                (march_9 - 5 * day, "replay", "rejected"),
                (march_9 + 3000, "replay", "ok"),
                (march_9 + 4000, "queue", "rejected"),
            ],
        )
    out = io.StringIO()
    assert stats.main(["--days", "3", "--format", "json"], path, out=out, now=NOW) == 0
    replays = json.loads(out.getvalue())["replays"]
    assert replays == [
        {"verdict": "verified", "uploads": 3, "share": round(3 / 7, 4)},
        {"verdict": "rejected", "uploads": 2, "share": round(2 / 7, 4)},
        {"verdict": "computer", "uploads": 1, "share": round(1 / 7, 4)},
        {"verdict": "names", "uploads": 1, "share": round(1 / 7, 4)},
    ]
    out = io.StringIO()
    assert stats.main(["--days", "3", "--section", "replays"], path, out=out, now=NOW) == 0
    assert "verified" in out.getvalue() and "42.9%" in out.getvalue()


async def test_no_replays_is_an_empty_table(tmp_path: Path) -> None:
    path = await new_database(tmp_path / "ladder.db")
    fill(path)
    out = io.StringIO()
    assert stats.main(["--days", "3", "--format", "json"], path, out=out, now=NOW) == 0
    assert json.loads(out.getvalue())["replays"] == []
