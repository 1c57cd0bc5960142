"""Reads see only committed state: they have their own read-only connection (defect 10)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from storage import database
from storage.database import Database


async def test_a_read_during_an_open_transaction_does_not_see_its_rows(tmp_path):
    db = await Database.open(tmp_path / "ladder.db")
    inserted = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
                    " VALUES (1, 'ghost', 'now', 'now')"
                )
                inserted.set()
                await release.wait()
                raise RuntimeError("rolled back")

    try:
        task = asyncio.create_task(writer())
        await inserted.wait()
        # The writer's transaction is open and holds the row: a read must not see it.
        assert await db.fetchone("SELECT * FROM players WHERE discord_uid = 1") is None
        release.set()
        await task
        assert await db.fetchone("SELECT * FROM players WHERE discord_uid = 1") is None
    finally:
        await db.close()


async def test_reads_see_what_was_committed_and_cannot_write(tmp_path):
    db = await Database.open(tmp_path / "ladder.db")
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
                " VALUES (2, 'real', 'now', 'now')"
            )
        row = await db.fetchone("SELECT discord_name FROM players WHERE discord_uid = 2")
        assert row["discord_name"] == "real"
        assert db.reader is not db.conn
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.reader.execute("DELETE FROM players")
    finally:
        await db.close()


async def test_a_read_is_not_queued_behind_a_long_write(tmp_path):
    """A write transaction left open (a big command-log batch) does not block a read."""
    db = await Database.open(tmp_path / "ladder.db")
    entered = asyncio.Event()
    release = asyncio.Event()

    async def long_write() -> None:
        async with db.transaction():
            entered.set()
            await release.wait()

    try:
        task = asyncio.create_task(long_write())
        await entered.wait()
        row = await asyncio.wait_for(db.fetchone("SELECT count(*) FROM players"), 5)
        assert row[0] == 0
        release.set()
        await task
    finally:
        await db.close()


async def test_overlapping_reads_still_see_the_latest_commit(tmp_path):
    """Reads that overlap without pause must not pin an old snapshot: a read after a commit
    sees it, however busy the read connection is (an open statement keeps SQLite's snapshot)."""
    db = await Database.open(tmp_path / "ladder.db")
    stop = asyncio.Event()
    reading = asyncio.Semaphore(0)

    async def busy_reader() -> None:
        while not stop.is_set():
            async with db.reader.execute("SELECT count(*) FROM players") as cursor:
                reading.release()
                await asyncio.sleep(0)  # other coroutines' reads start meanwhile
                await cursor.fetchall()

    readers = [asyncio.create_task(busy_reader()) for _ in range(8)]
    try:
        for _ in range(16):  # every reader is going round
            await reading.acquire()
        for uid in range(1, 21):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
                    " VALUES (?, 'p', 'now', 'now')",
                    (uid,),
                )
            row = await db.fetchone("SELECT discord_uid FROM players WHERE discord_uid = ?", (uid,))
            assert row is not None, f"player {uid} committed but not seen by the next read"
            async with db.reader.execute("SELECT count(*) FROM players") as cursor:
                assert (await cursor.fetchone())[0] == uid
    finally:
        stop.set()
        await asyncio.gather(*readers)
        await db.close()


# A count to `n` by a recursive query: 100,000 needs far more than the inline budget.
COUNT = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)"
    " SELECT count(*) FROM c"
)
LONG = 100_000


@pytest.fixture
async def traced(tmp_path):
    """A database whose reader is traced: (the statement's end, whether it ran on this thread)
    for each statement started."""
    db = await Database.open(tmp_path / "ladder.db")
    seen: list[tuple[str, bool]] = []
    here = threading.get_ident()
    await db.reader.set_trace_callback(
        lambda sql: seen.append((sql.split(" WHERE ")[-1], threading.get_ident() == here))
    )
    try:
        yield db, seen
    finally:
        await db.close()


async def test_a_short_read_runs_where_it_is_awaited(traced):
    db, seen = traced
    row = await db.fetchone("SELECT count(*) FROM players WHERE discord_uid = ?", (1,))
    assert row[0] == 0
    assert seen == [("discord_uid = 1", True)]


async def test_a_read_past_the_budget_is_stopped_and_runs_on_the_readers_thread(traced):
    db, seen = traced
    row = await db.fetchone(COUNT, (LONG,))
    assert row[0] == LONG  # the whole answer, from the thread's run
    long_read = f"x < {LONG}) SELECT count(*) FROM c"
    assert seen == [(long_read, True), (long_read, False)]  # stopped here, run there
    for _ in range(int(database.STRIKES_TO_SLOW) - 1):
        assert (await db.fetchone(COUNT, (LONG,)))[0] == LONG
    seen.clear()
    assert (await db.fetchone(COUNT, (10,)))[0] == 10
    assert seen == [("x < 10) SELECT count(*) FROM c", False)]  # the statement is slow now
    await db.fetchone("SELECT 1")
    assert seen[-1] == ("SELECT 1", True)  # other statements still run here


async def test_an_overrun_now_and_then_leaves_a_statement_where_it_is(traced):
    """One heavy player's read (or the machine busy for a moment) moves nothing."""
    db, seen = traced
    for _ in range(5):
        assert (await db.fetchone(COUNT, (LONG,)))[0] == LONG  # overruns: a strike
        for _ in range(10):  # ten reads within the budget forgive one
            assert (await db.fetchone(COUNT, (10,)))[0] == 10
    assert [here for _, here in seen].count(False) == 5  # only the five overruns left
    assert seen[-1] == ("x < 10) SELECT count(*) FROM c", True)


async def test_a_slow_statement_runs_inline_again_once_its_time_is_up(traced, monkeypatch):
    db, seen = traced
    monkeypatch.setattr(database, "SLOW_STATEMENT_SECONDS", 0.0)
    monkeypatch.setattr(database, "STRIKES_TO_SLOW", 1.0)
    assert (await db.fetchone(COUNT, (LONG,)))[0] == LONG
    assert (await db.fetchone(COUNT, (10,)))[0] == 10
    assert [here for _, here in seen] == [True, False, True]


async def test_an_inline_reads_own_error_is_raised_not_retried(traced):
    db, seen = traced
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.fetchall("SELECT * FROM no_such_table")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.reader.execute("DELETE FROM players")
    assert seen == [("DELETE FROM players", True)]  # neither went to the thread
