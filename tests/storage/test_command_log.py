"""CommandLogWriter against real SQLite files: batching, dropping, faults, shutdown.

No mocks and no timed assertions: faults are real (another connection holding the write lock,
`PRAGMA query_only`, `PRAGMA max_page_count`), and waiting is done by polling a condition with a
generous deadline that only guards against hanging.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from storage import command_log
from storage.command_log import CommandLogWriter
from storage.database import Database, format_time

DISCORD_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
LOGGER = "storage.command_log"
FAST_RETRY = {"retry_initial": 0.01, "retry_max": 0.05}


def snowflake(moment: datetime, low_bits: int = 0) -> int:
    ms = (moment - DISCORD_EPOCH) // timedelta(milliseconds=1)
    return (ms << 22) | low_bits


def expected_called_at(interaction_id: int) -> str:
    return format_time(DISCORD_EPOCH + timedelta(milliseconds=interaction_id >> 22))


def make_row(i: int) -> tuple:
    """A valid row; every 5th is a DM (guild NULL), every 7th has no player name."""
    moment = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(milliseconds=1237 * i)
    return (
        snowflake(moment, i % 4096),
        10**17 + i % 13,
        None if i % 7 == 0 else f"player {i % 13}",
        "ladder queue" if i % 2 else "admin resolve",
        None if i % 5 == 0 else 900_000_000_000_000_000 + i % 3,
        i / 8,
        "ok" if i % 3 else "refused:setup",
    )


async def wait_until(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll until condition() holds; the limit only keeps a broken writer from hanging the run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.005)


async def table_rows(db: Database) -> list[tuple]:
    rows = await db.fetchall(
        "SELECT interaction_id, discord_uid, player_name, command, guild_id, duration_ms,"
        " outcome, called_at FROM command_calls ORDER BY id"
    )
    return [tuple(r) for r in rows]


def warnings_from(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == level]


def assert_consistent(writer: CommandLogWriter) -> None:
    s = writer.stats()
    assert s.enqueued == s.written + s.rejected + s.lost + s.queue_depth


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


# --- writing --------------------------------------------------------------------------------


async def test_rows_from_many_tasks_are_all_written_with_their_fields(db):
    writer = CommandLogWriter(db, batch_size=64, max_wait=0.01)
    writer.start()
    tasks, per_task = 40, 125
    rows = [make_row(i) for i in range(tasks * per_task)]

    async def command_task(k: int) -> None:
        for i in range(k, len(rows), tasks):
            writer.record(*rows[i])
            if i % 3 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(*(command_task(k) for k in range(tasks)))
    lost = await writer.close()

    assert lost == 0
    stored = await table_rows(db)
    assert len(stored) == len(rows) == 5000
    by_id = {row[0]: row for row in stored}
    assert len(by_id) == len(rows)  # each row exactly once
    for row in rows:
        assert by_id[row[0]] == (*row, expected_called_at(row[0]))
    dms = [row for row in stored if row[4] is None]
    assert len(dms) == 1000  # guild NULL for the DMs, not 0 or ''
    s = writer.stats()
    assert (s.enqueued, s.written, s.dropped, s.queue_depth, s.failed_batches) == (
        5000,
        5000,
        0,
        0,
        0,
    )
    assert s.last_batch_ms is not None and s.last_batch_ms > 0
    assert_consistent(writer)


async def test_called_at_is_derived_from_the_snowflake_exactly(db):
    rng = random.Random(7)
    moments = [
        DISCORD_EPOCH,
        datetime(2016, 2, 29, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(2024, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 1000, tzinfo=UTC),
        datetime(2084, 9, 6, 15, 47, 35, 551000, tzinfo=UTC),  # near the 63-bit limit
    ]
    ids = [snowflake(m, rng.randrange(1 << 22)) for m in moments]
    ids += [(1 << 63) - 1, 0, 1 << 22]
    ids += [rng.randrange(1 << 63) for _ in range(3000)]
    writer = CommandLogWriter(db)
    for interaction_id in ids:
        writer.record(interaction_id, 1, None, "setup", None, 1.0, "ok")
    writer.start()
    assert await writer.close() == 0

    stored = {row[0]: row[7] for row in await table_rows(db)}
    mismatches = [i for i in ids if stored[i] != expected_called_at(i)]
    assert mismatches == []
    assert stored[ids[1]] == "2016-02-29 23:59:59.999"
    # called_ms is what is stored and indexed; called_at is computed from it when read.
    stored_ms = dict(await db.fetchall("SELECT interaction_id, called_ms FROM command_calls"))
    assert [i for i in ids if stored_ms[i] != (i >> 22) + 1420070400000] == []


async def test_a_row_without_interaction_id_gets_the_time_it_was_written(db):
    writer = CommandLogWriter(db)
    before = format_time(datetime.now(UTC) - timedelta(seconds=1))
    writer.record(None, 1, "x", "setup", None, 1.0, "ok")
    writer.start()
    await writer.close()
    after = format_time(datetime.now(UTC) + timedelta(seconds=1))
    [row] = await table_rows(db)
    assert row[0] is None
    assert before <= row[7] <= after


async def test_a_full_batch_is_written_without_waiting_for_max_wait(db):
    writer = CommandLogWriter(db, batch_size=10, max_wait=3600)
    writer.start()
    await asyncio.sleep(0.01)  # the writer is now waiting for a full batch or an hour
    for i in range(10):
        writer.record(*make_row(i))
    await wait_until(lambda: writer.stats().written == 10, "the batch of 10 is written")
    assert len(await table_rows(db)) == 10
    await writer.close()


async def test_a_partial_batch_is_written_after_max_wait(db):
    writer = CommandLogWriter(db, batch_size=1000, max_wait=0.02)
    writer.start()
    for i in range(3):
        writer.record(*make_row(i))
    await wait_until(lambda: writer.stats().written == 3, "3 rows are written by the timer")
    assert len(await table_rows(db)) == 3
    await writer.close()


async def test_the_writer_keeps_writing_after_idle_periods(db):
    writer = CommandLogWriter(db, max_wait=0.01)
    writer.start()
    for round_ in range(3):
        await asyncio.sleep(0.05)  # several empty max_wait periods pass
        writer.record(*make_row(round_))
        await wait_until(lambda n=round_ + 1: writer.stats().written == n, "the row is written")
    assert len(await table_rows(db)) == 3
    await writer.close()


async def test_big_batches_use_multi_row_statements_and_cap_the_transaction(db):
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    writer = CommandLogWriter(db, batch_size=2000, max_batch=2000)
    for i in range(3100):
        writer.record(*make_row(i))
    writer.start()
    await writer.close()
    await db.conn.set_trace_callback(None)

    assert len(await table_rows(db)) == 3100
    inserts = [s for s in statements if s.startswith("INSERT INTO command_calls")]
    begins = [s for s in statements if s == "BEGIN IMMEDIATE"]
    # 2000 + 1100 rows: two transactions; 2000 = 1024 + 7*128 + 5*16 and 1100 = 1024 + 4*16 + 12.
    assert len(begins) == 2
    assert len(inserts) == (1 + 7 + 5) + (1 + 4 + 12)
    assert command_log.CHUNK_SIZES == (1024, 128, 16, 1)


# --- the hot path ---------------------------------------------------------------------------


async def test_a_full_queue_drops_the_new_rows_and_counts_them(db, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert not inspect.iscoroutinefunction(CommandLogWriter.record)
    now = [0.0]
    # Not started: nothing drains the queue.
    writer = CommandLogWriter(db, max_queue=10, warn_interval=30, clock=lambda: now[0])
    results = [writer.record(*make_row(i)) for i in range(25)]
    assert results == [None] * 25
    s = writer.stats()
    assert (s.enqueued, s.dropped, s.queue_depth, s.written) == (10, 15, 10, 0)
    [warning] = warnings_from(caplog, logging.WARNING)  # one for 15 drops
    assert "queue is full (10 rows" in warning.getMessage()
    now[0] += 31
    writer.record(*make_row(99))
    writer.record(*make_row(99))
    drops = warnings_from(caplog, logging.WARNING)
    assert len(drops) == 2
    assert "(15 dropped since the last warning, 16 in all)" in drops[1].getMessage()

    writer.start()
    assert await writer.close() == 0
    stored = await table_rows(db)
    assert [row[0] for row in stored] == [make_row(i)[0] for i in range(10)]  # the first ten
    assert_consistent(writer)


async def test_record_after_close_is_dropped_and_counted(db, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    writer = CommandLogWriter(db)
    writer.start()
    writer.record(*make_row(1))
    await writer.close()
    assert warnings_from(caplog, logging.WARNING) == []
    writer.record(*make_row(2))
    writer.record(*make_row(3))
    s = writer.stats()
    assert (s.written, s.dropped, s.queue_depth) == (1, 2, 0)
    [warning] = warnings_from(caplog, logging.WARNING)
    assert "the command log is closed" in warning.getMessage()
    assert len(await table_rows(db)) == 1
    assert await writer.close() == 0  # idempotent


async def test_invalid_rows_are_rejected_without_blocking_the_others(db, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    writer = CommandLogWriter(db, batch_size=200, max_wait=0.01)
    bad = [
        (123, 1, "x", "setup", None, None, "ok"),  # duration_ms NOT NULL
        (124, 1, "x", "setup", None, 1.0, object()),  # cannot be bound
        (125, 1, "x", None, None, 1.0, "ok"),  # command NOT NULL
        (126, 1 << 64, "x", "setup", None, 1.0, "ok"),  # too big for SQLite
    ]
    writer.record(*bad[0])  # first in the batch
    for i in range(60):
        writer.record(*make_row(i))
    writer.record(*bad[1])  # two in a row
    writer.record(*bad[2])
    for i in range(60, 100):
        writer.record(*make_row(i))
    writer.record(*bad[3])  # last in the batch
    writer.start()
    assert await writer.close() == 0

    s = writer.stats()
    assert (s.written, s.rejected, s.queue_depth, s.failed_batches) == (100, 4, 0, 0)
    stored = await table_rows(db)
    assert [row[0] for row in stored] == [make_row(i)[0] for i in range(100)]  # in order, once
    errors = warnings_from(caplog, logging.ERROR)
    assert len(errors) == 1  # one message for the batch, not one per row
    assert "refused 4 invalid rows" in errors[0].getMessage()
    assert_consistent(writer)


# --- faults ---------------------------------------------------------------------------------


class LockedByAnotherConnection:
    """Another connection to the same file holds the write lock (BEGIN IMMEDIATE)."""

    error = "locked"

    def __init__(self, db: Database) -> None:
        self.other = sqlite3.connect(db.path, isolation_level=None)

    async def apply(self) -> None:
        self.other.execute("BEGIN IMMEDIATE")

    async def clear(self) -> None:
        self.other.execute("ROLLBACK")
        self.other.close()


class ReadOnly:
    """The connection may not write (tests run as root, so chmod would not stop it)."""

    error = "readonly"

    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply(self) -> None:
        await self.db.conn.execute("PRAGMA query_only = ON")

    async def clear(self) -> None:
        await self.db.conn.execute("PRAGMA query_only = OFF")


class DiskFull:
    """The file may not grow: max_page_count is pinned to its current size."""

    error = "full"

    def __init__(self, db: Database) -> None:
        self.db = db

    async def apply(self) -> None:
        pages = (await self.db.fetchone("PRAGMA page_count"))[0]
        await self.db.conn.execute(f"PRAGMA max_page_count = {pages}")

    async def clear(self) -> None:
        await self.db.conn.execute("PRAGMA max_page_count = 1073741823")


FAULTS = [LockedByAnotherConnection, ReadOnly, DiskFull]


def big_row(i: int) -> tuple:
    """A row with a long name, so that a few hundred of them must grow the file."""
    row = make_row(i)
    return (row[0], row[1], f"{'long player name ' * 8}{i}", *row[3:])


@pytest.mark.parametrize("fault_type", FAULTS, ids=lambda f: f.__name__)
async def test_a_fault_never_reaches_record_and_the_rows_land_once_it_clears(
    db, caplog, fault_type
):
    caplog.set_level(logging.INFO, logger=LOGGER)
    fault = fault_type(db)
    await fault.apply()
    writer = CommandLogWriter(db, batch_size=50, max_wait=0.01, **FAST_RETRY)
    rows = [big_row(i) for i in range(700)]

    async def command_task(first: int, last: int) -> None:
        for i in range(first, last):
            assert writer.record(*rows[i]) is None
            await asyncio.sleep(0)

    # 600 rows queue up first: the first batch (all of them) needs new pages, so even the
    # disk-full fault cannot be dodged by free space left in the file.
    await asyncio.gather(*(command_task(k * 30, k * 30 + 30) for k in range(20)))
    writer.start()
    await wait_until(lambda: writer.stats().failed_batches >= 3, "several attempts failed")
    await asyncio.gather(*(command_task(600 + k * 10, 610 + k * 10) for k in range(10)))
    await wait_until(lambda: writer.stats().failed_batches >= 5, "more attempts failed")

    s = writer.stats()
    assert s.written == 0
    assert s.queue_depth == len(rows)  # nothing lost while failing
    assert s.dropped == 0
    assert fault_type.error in (s.last_error or "")
    warnings = warnings_from(caplog, logging.WARNING)
    assert len(warnings) == 1 < s.failed_batches  # once per interval, not once per attempt

    await fault.clear()
    await wait_until(lambda: writer.stats().written == len(rows), "the rows land")
    assert await writer.close() == 0
    stored = await table_rows(db)
    assert sorted(row[0] for row in stored) == sorted(row[0] for row in rows)
    infos = [r for r in warnings_from(caplog, logging.INFO) if "writing again" in r.getMessage()]
    assert len(infos) == 1
    assert_consistent(writer)


async def test_failure_warnings_repeat_once_per_interval_with_a_count(db, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    now = [1000.0]
    fault = ReadOnly(db)
    await fault.apply()
    writer = CommandLogWriter(
        db, max_wait=0.01, warn_interval=30, clock=lambda: now[0], **FAST_RETRY
    )
    writer.start()
    writer.record(*make_row(1))
    await wait_until(lambda: writer.stats().failed_batches >= 3, "3 attempts failed")
    assert len(warnings_from(caplog, logging.WARNING)) == 1
    now[0] += 31
    failed = writer.stats().failed_batches
    await wait_until(lambda: writer.stats().failed_batches > failed, "one more attempt failed")
    now[0] += 1  # still inside the new interval: no third warning
    failed = writer.stats().failed_batches
    await wait_until(lambda: writer.stats().failed_batches >= failed + 2, "more attempts failed")

    warnings = warnings_from(caplog, logging.WARNING)
    assert len(warnings) == 2
    assert warnings[0].args[1] == 1  # failed attempts since the last warning
    assert warnings[1].args[1] >= 3
    await fault.clear()
    assert await writer.close() == 0
    assert len(await table_rows(db)) == 1


# --- shutdown -------------------------------------------------------------------------------


async def test_close_drains_everything_without_waiting_for_max_wait(db):
    writer = CommandLogWriter(db, batch_size=4096, max_wait=3600)
    writer.start()
    for i in range(1234):
        writer.record(*make_row(i))
    await asyncio.sleep(0)  # the writer is now waiting for a full batch or an hour
    assert writer.stats().written == 0
    assert await writer.close() == 0
    assert len(await table_rows(db)) == 1234
    assert writer.stats().queue_depth == 0


async def test_rows_recorded_while_close_drains_are_written(db):
    writer = CommandLogWriter(db)
    writer.start()
    writer.record(*make_row(0))
    async with db.transaction():  # another writer holds the lock: the drain has to wait
        closing = asyncio.create_task(writer.close())
        await asyncio.sleep(0.01)
        assert not closing.done()
        writer.record(*make_row(1))
        writer.record(*make_row(2))
    assert await closing == 0
    assert [row[0] for row in await table_rows(db)] == [make_row(i)[0] for i in range(3)]
    writer.record(*make_row(3))
    assert writer.stats().dropped == 1


@pytest.mark.parametrize("fault_type", FAULTS, ids=lambda f: f.__name__)
async def test_close_with_a_persistent_fault_gives_up_after_its_timeout(db, caplog, fault_type):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    fault = fault_type(db)
    await fault.apply()
    writer = CommandLogWriter(db, max_wait=0.01, **FAST_RETRY)
    writer.start()
    for i in range(400):
        writer.record(*big_row(i))

    # A huge grace: close() must stop the writer itself after the timeout, not by cancelling it.
    lost = await asyncio.wait_for(writer.close(timeout=0.3, grace=3600), 60)

    assert lost == 400
    s = writer.stats()
    assert (s.lost, s.written, s.queue_depth, s.enqueued) == (400, 0, 0, 400)
    assert s.failed_batches >= 1
    errors = warnings_from(caplog, logging.ERROR)
    assert len(errors) == 1
    assert "400 command rows could not be written" in errors[0].getMessage()
    writer.record(*make_row(1))
    assert writer.stats().dropped == 1
    await fault.clear()
    assert await table_rows(db) == []
    assert_consistent(writer)


async def test_close_without_start_still_writes_the_queued_rows(db):
    writer = CommandLogWriter(db)
    for i in range(5):
        writer.record(*make_row(i))
    assert await writer.close() == 0
    assert len(await table_rows(db)) == 5
