"""`bot.py migrate --to postgresql://...`: a populated SQLite file copied, counted, replayed."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from app.pg_migrate import MigrateError, copy_database, main
from app.running import RunningLock
from bench.gen_ladder_db import generate
from ladder.config import LadderConfig
from storage.postgres import PostgresDatabase
from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer

__all__ = ["postgres_server"]

CONFIG = LadderConfig(map_pool=("Polypoid",))


async def empty_database(server: PostgresServer, name: str) -> str:
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return server.url(name)


@pytest.fixture
def ladder_file(tmp_path: Path) -> Path:
    """The ladder benchmark's database, scaled down (bench/gen_ladder_db.py)."""
    path = tmp_path / "ladder.db"
    generate(path, players=300, races_each=2, matches=3000, seed=5)
    return path


async def test_a_populated_file_is_copied_and_verified(ladder_file, postgres_server):
    url = await empty_database(postgres_server, "migrate_full")
    out = io.StringIO()
    report = await copy_database(ladder_file, url, CONFIG, out=out)
    with sqlite3.connect(ladder_file) as lite:
        for table in ("players", "matches", "rating_log", "ratings", "command_calls"):
            expected = lite.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert report.tables[table] == expected, table
        assert report.tables["matches"] > 3000 and report.tables["ratings"] == 600
        stored = dict(lite.execute("SELECT discord_uid || race, mmr FROM ratings").fetchall())
    assert report.ratings_checked == 600
    assert "Row counts equal; rating log replayed: 600 ratings equal." in out.getvalue()
    db = await PostgresDatabase.open(url)
    try:
        rows = await db.fetchall("SELECT discord_uid || race AS key, mmr FROM ratings")
        assert {r["key"]: r["mmr"] for r in rows} == stored
        # The identities continue after the copied ids: a new match gets the next id.
        async with db.transaction() as conn:
            first = await db.fetchone("SELECT player1_uid, player2_uid FROM matches LIMIT 1")
            cursor = await conn.execute(
                "INSERT INTO matches (status, player1_uid, player1_race, player1_mmr,"
                " player2_uid, player2_race, player2_mmr, map, created_at, confirm_deadline)"
                " VALUES ('cancelled', ?, 'x', 1, ?, 'y', 1, 'm', 'now', 'now')",
                (first[0], first[1]),
            )
            assert cursor.lastrowid == report.tables["matches"] + 1
    finally:
        await db.close()


async def test_a_database_that_is_not_empty_is_refused(ladder_file, postgres_server):
    url = await postgres_databases(postgres_server).new_url()  # migrated: it has tables
    with pytest.raises(MigrateError, match="not empty"):
        await copy_database(ladder_file, url, CONFIG)


def test_the_command_refuses_while_the_bot_runs(tmp_path, capsys):
    path = tmp_path / "ladder.db"
    path.touch()
    lock = RunningLock(path)
    lock.acquire("the bot")
    try:
        assert main(["--to", "postgresql://127.0.0.1:1/none"], path, CONFIG) == 1
    finally:
        lock.release()
    assert "Nothing was changed" in capsys.readouterr().err


def test_the_target_must_be_postgresql(tmp_path, capsys):
    assert main(["--to", "mysql://x/y"], tmp_path / "ladder.db", CONFIG) == 2
    assert "postgresql://" in capsys.readouterr().err
