"""Opening, PRAGMAs, migrations and the newer-schema refusal."""

import sqlite3

import pytest

from storage.database import Database, SchemaTooNewError, migrations


async def test_open_creates_folder_and_applies_every_migration(tmp_path):
    path = tmp_path / "nested" / "ladder.db"
    db = await Database.open(path)
    try:
        assert path.exists()
        assert await db.schema_version() == len(migrations())
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert {"players", "player_names", "player_action_logs", "command_calls"} <= tables
    finally:
        await db.close()


async def test_reopening_is_a_no_op(tmp_path):
    for _ in range(2):
        db = await Database.open(tmp_path / "ladder.db")
        version = await db.schema_version()
        await db.close()
    assert version == len(migrations())


async def test_a_newer_database_is_refused_clearly(tmp_path):
    path = tmp_path / "ladder.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(migrations()) + 1}")
    with pytest.raises(SchemaTooNewError, match="newer ladderbot"):
        await Database.open(path)


async def test_a_failed_transaction_rolls_back(tmp_path):
    db = await Database.open(tmp_path / "ladder.db")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
                    " VALUES (1, 'a', 'x', 'x')"
                )
                raise RuntimeError("boom")
        assert (await db.fetchone("SELECT count(*) FROM players"))[0] == 0
    finally:
        await db.close()


def test_migrations_are_numbered_in_sequence():
    assert [version for version, _, _ in migrations()] == list(range(1, len(migrations()) + 1))


async def test_a_transaction_cancelled_at_begin_leaves_no_transaction_open(tmp_path):
    """SIGTERM can cancel a writer waiting on BEGIN; the connection must stay usable."""
    import asyncio

    path = tmp_path / "ladder.db"
    db = await Database.open(path)
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # makes our BEGIN wait (busy_timeout) in aiosqlite's thread

    async def write():
        async with db.transaction() as conn:
            await conn.execute("SELECT 1")

    task = asyncio.create_task(write())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises((asyncio.CancelledError, sqlite3.OperationalError)):
        await task
    other.rollback()
    other.close()
    try:
        assert not db.conn.in_transaction
        async with db.transaction() as conn:  # and the next write works
            await conn.execute(
                "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
                " VALUES (1, 'a', 'x', 'x')"
            )
        assert (await db.fetchone("SELECT count(*) FROM players"))[0] == 1
    finally:
        await db.close()


async def test_a_write_gives_up_when_other_writes_hold_the_lock_too_long(tmp_path, monkeypatch):
    """Writes queued behind a stuck one fail as busy instead of piling up past 3 seconds."""
    import asyncio

    from storage import database

    monkeypatch.setattr(database, "LOCK_WAIT_SECONDS", 0.05)
    db = await Database.open(tmp_path / "ladder.db")
    release = asyncio.Event()

    async def slow_write():
        async with db.transaction():
            await release.wait()

    holder = asyncio.create_task(slow_write())
    await asyncio.sleep(0.01)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with db.transaction():
                pass
    finally:
        release.set()
        await holder
    async with db.transaction() as conn:  # free again once the slow write is done
        await conn.execute("SELECT 1")
    await db.close()
