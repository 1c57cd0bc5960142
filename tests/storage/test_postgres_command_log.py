"""The command log on PostgreSQL: CommandLogWriter's contract, batches written with COPY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from storage.postgres import PostgresDatabase
from storage.postgres_command_log import MAX_IN_FLIGHT, PostgresCommandLogWriter
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer, until_server

# A snowflake made at 2026-03-01 12:00:00.250 UTC.
MOMENT = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
SNOWFLAKE = (int(MOMENT.timestamp() * 1000) - 1420070400000) << 22


@pytest.fixture
async def db(postgres_server: PostgresServer) -> AsyncIterator[PostgresDatabase]:
    database = await PostgresDatabase.open(await postgres_databases(postgres_server).new_url())
    try:
        yield database
    finally:
        await database.close()


def row(i: int, **changes: object) -> tuple:
    values = {
        "interaction_id": SNOWFLAKE + i,
        "discord_uid": 1000 + i,
        "player_name": f"p{i}",
        "command": "queue",
        "guild_id": None,
        "duration_ms": 1.5,
        "outcome": "ok",
        "kind": "slash",
    }
    values.update(changes)
    return tuple(values.values())


async def count(db: PostgresDatabase) -> int:
    found = await db.fetchone("SELECT count(*) FROM command_calls")
    return int(found[0])


def failures_seen(writer: PostgresCommandLogWriter, wanted: int) -> asyncio.Event:
    """An event set once the writer has seen `wanted` failed attempts."""
    seen = asyncio.Event()
    original = writer._failed

    def failed(exc: Exception, rows: int) -> None:
        original(exc, rows)
        if writer.stats().failed_batches >= wanted:
            seen.set()

    writer._failed = failed  # type: ignore[method-assign]
    return seen


async def test_rows_are_written_with_their_time_and_close_drains_everything(db):
    writer = PostgresCommandLogWriter(db, batch_size=100, max_wait=10.0)
    writer.start()
    for i in range(1050):
        writer.record(*row(i))
    writer.record(None, 7, None, "help", 5, 2.0, "error", "component")  # no snowflake: now
    assert await writer.close() == 0
    stats = writer.stats()
    assert (stats.written, stats.lost, stats.dropped, stats.queue_depth) == (1051, 0, 0, 0)
    assert await count(db) == 1051
    first = await db.fetchone(
        "SELECT called_ms, called_at, discord_uid, kind FROM command_calls"
        " WHERE interaction_id = ?",
        (SNOWFLAKE,),
    )
    assert tuple(first) == (
        int(MOMENT.timestamp() * 1000),
        "2026-03-01 12:00:00.250",
        1000,
        "slash",
    )
    now_row = await db.fetchone("SELECT called_ms FROM command_calls WHERE discord_uid = 7")
    assert abs(now_row[0] / 1000 - datetime.now(UTC).timestamp()) < 60


async def test_called_at_is_computed_when_read_and_the_view_takes_inserts(db):
    """command_calls is a view over command_call_rows (migration 0017): called_at is not stored,
    and an INSERT through the view lands in the table with its id from the table's identity."""
    stored = await db.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        ("command_call_rows",),
    )
    assert "called_at" not in {r[0] for r in stored} and "called_ms" in {r[0] for r in stored}
    called_ms = int(MOMENT.timestamp() * 1000)
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO command_calls (interaction_id, called_ms, discord_uid, command,"
            " duration_ms, outcome) VALUES (NULL, ?, 5, 'help', 1.0, 'ok')",
            (called_ms,),
        )
    got = await db.fetchone(
        "SELECT id, called_at, kind FROM command_calls c WHERE c.called_ms = ?", (called_ms,)
    )
    assert got is not None and got[0] >= 1
    assert tuple(got[1:]) == ("2026-03-01 12:00:00.250", "slash")
    with pytest.raises(Exception, match="called_at"):  # computed: nothing to write
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO command_calls (called_ms, called_at, discord_uid, command,"
                " duration_ms, outcome) VALUES (1, 'x', 5, 'help', 1.0, 'ok')"
            )


async def test_rows_after_close_and_past_the_queue_limit_are_dropped_and_counted(db):
    writer = PostgresCommandLogWriter(db, max_queue=10, batch_size=5)
    for i in range(15):  # not started: the queue fills up
        writer.record(*row(i))
    assert writer.stats().dropped == 5
    assert await writer.close() == 0
    writer.record(*row(99))
    stats = writer.stats()
    assert (stats.written, stats.dropped) == (10, 6)
    assert await count(db) == 10


async def test_an_invalid_row_is_rejected_alone(db):
    writer = PostgresCommandLogWriter(db, batch_size=50)
    rows = [row(i) for i in range(20)]
    rows[7] = row(7, discord_uid=None)  # NOT NULL
    rows[12] = row(12, duration_ms="slow")  # not a number
    for values in rows:
        writer.record(*values)
    assert await writer.close() == 0
    stats = writer.stats()
    assert (stats.written, stats.rejected) == (18, 2)
    assert await count(db) == 18


async def test_a_failing_database_is_retried_and_nothing_is_lost(db):
    writer = PostgresCommandLogWriter(db, batch_size=10, retry_initial=0.01, retry_max=0.05)
    admin = await asyncpg.connect(db.url)
    try:
        await admin.execute("ALTER TABLE command_call_rows RENAME TO command_calls_away")
        failing = failures_seen(writer, 2)
        writer.start()
        for i in range(30):
            writer.record(*row(i))
        async with asyncio.timeout(10):
            await failing.wait()
        assert writer.stats().written == 0
        await admin.execute("ALTER TABLE command_calls_away RENAME TO command_call_rows")
    finally:
        await admin.close()
    assert await writer.close() == 0
    stats = writer.stats()
    assert (stats.written, stats.lost) == (30, 0)
    assert "command_call_rows" in (stats.last_error or "")
    assert await count(db) == 30


async def test_close_gives_up_on_a_database_that_stays_broken_and_counts_the_loss(db):
    writer = PostgresCommandLogWriter(db, batch_size=5, retry_initial=0.01, retry_max=0.02)
    admin = await asyncpg.connect(db.url)
    try:
        await admin.execute("ALTER TABLE command_call_rows RENAME TO command_calls_away")
        for i in range(12):
            writer.record(*row(i))
        assert await writer.close(timeout=0.3) == 12
    finally:
        await admin.close()
    assert writer.stats().lost == 12


async def test_recent_calls_reads_postgresql(db):
    writer = PostgresCommandLogWriter(db)
    for i, duration in enumerate((1.0, 2.0, 3.0, 4.0)):
        writer.record(*row(i, duration_ms=duration))
    await writer.close()
    recent = await writer.recent_calls(datetime(2026, 1, 1, tzinfo=UTC), 50)
    assert (recent.count, recent.percentile_ms) == (4, 2.0)


async def test_calls_since_use_the_brin_index_on_time(db):
    method = await db.fetchone(
        "SELECT am.amname FROM pg_class AS c JOIN pg_am AS am ON am.oid = c.relam"
        " WHERE c.relname = 'command_calls_by_time'"
    )
    assert method[0] == "brin"  # no B-tree insert per COPY row (migration 0015)
    writer = PostgresCommandLogWriter(db, batch_size=1000)
    for i in range(3000):  # ~9 s of calls, 3 ms apart, in time order
        writer.record(*row(i * 3 << 22, duration_ms=float(i)))
    writer.record(*row(0, interaction_id=None))  # no snowflake: written at the time now
    assert await writer.close() == 0
    recent = await writer.recent_calls(MOMENT.replace(second=6), 50)
    assert (recent.count, recent.percentile_ms) == (1001, 2499.0)


async def test_two_batches_are_written_at_once_and_close_drains_the_rest(db):
    """While one COPY waits (here for a lock; in production for its commit), the next batch
    is already on the server, on a connection of its own; never more than MAX_IN_FLIGHT."""
    writer = PostgresCommandLogWriter(db, batch_size=10, max_batch=10, max_wait=0.01)
    locker = await asyncpg.connect(db.url)
    # Another connection: pg_stat_activity keeps one snapshot for a whole transaction.
    watcher = await asyncpg.connect(db.url)
    waiting = (  # the writer's connections blocked by the lock below
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        locked = locker.transaction()
        await locked.start()
        await locker.execute("LOCK TABLE command_call_rows IN ACCESS EXCLUSIVE MODE")
        writer.start()
        for i in range(50):  # five batches of 10
            writer.record(*row(i))
        await until_server(  # both batches blocked
            lambda: watcher.fetchval(waiting), lambda n: n >= MAX_IN_FLIGHT, "two blocked COPYs"
        )
        assert writer.stats().queue_depth == 50  # two batches in flight, three queued
        assert writer.stats().written == 0
        assert await watcher.fetchval(waiting) == MAX_IN_FLIGHT == 2
        await locked.rollback()
        writer.record(*row(50))  # recorded while batches are in flight: drained by close()
        assert await writer.close() == 0
    finally:
        await locker.close()
        await watcher.close()
    stats = writer.stats()
    assert (stats.written, stats.lost, stats.queue_depth) == (51, 0, 0)
    assert await count(db) == 51


async def test_rows_are_queued_as_copy_records_with_their_time(db):
    writer = PostgresCommandLogWriter(db)
    writer.record(*row(0))
    writer.record(None, 7, None, "help", 5, 2.0, "error", "component")
    writer.record("not a snowflake", 8, None, "help", 5, 2.0, "ok")  # never raises
    queued = list(writer._queue)
    assert queued[0][:3] == (SNOWFLAKE, int(MOMENT.timestamp() * 1000), 1000)
    assert abs(queued[1][1] / 1000 - datetime.now(UTC).timestamp()) < 60
    assert queued[2][1] is None
    assert await writer.close() == 0
    stats = writer.stats()
    assert (stats.written, stats.rejected) == (2, 1)  # the bad row refused alone
