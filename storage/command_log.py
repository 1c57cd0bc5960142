"""Log every application command to `command_calls` without slowing any command down.

A command calls `CommandLogWriter.record(...)`: one tuple appended to one bounded in-memory
deque, no I/O, no task, no formatting (a few hundred nanoseconds). One background task drains the
deque in batches through the bot's own `Database` connection, one `db.transaction()` per batch.

Row shape, in column order (this is exactly the tuple `record` queues):

    (interaction_id, discord_uid, player_name, command, guild_id, duration_ms, outcome, kind)
     int | None      int          str | None   str      int | None  float      str      str

The time is not passed: SQLite derives `called_ms` from the interaction's Discord snowflake
while inserting (`(id >> 22) + 1420070400000`, ms since the Unix epoch), so the conversion costs
the event loop nothing. A row without an interaction id gets the time it was written.

Guarantees:

* `record` never blocks and never raises. When the queue holds `max_queue` rows the NEW row is
  dropped and counted (`stats().dropped`); so is every row recorded after `close()` returned.
  Drops are logged: one WARNING at the first, then at most one per `warn_interval`.
* A failed batch (database locked by another process, read-only, disk full, ...) stays in memory
  and is retried with exponential backoff; one WARNING per `warn_interval` says how many attempts
  failed. Rows the database refuses as invalid (a NOT NULL column given None, an unbindable
  value) are isolated, counted as `rejected` and logged; they never block the rows behind them.
* `close()` writes everything queued before it returns, also rows recorded while it drains. If
  that is not done within `timeout` seconds (the database stays broken), it gives up, logs how
  many rows were lost at ERROR and returns that number. A crash (kill -9, power loss) loses the
  rows still queued: about `max_wait` seconds of commands at ordinary rates.

All methods must be called from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from storage.database import Database, epoch_ms

log = logging.getLogger(__name__)

# One tuple per command, in the order of `record`'s parameters (see the module docstring).
CommandRow = tuple[int | None, int, str | None, str, int | None, float, str, str]

_COLUMNS = (
    "interaction_id, called_ms, discord_uid, player_name, command, guild_id, duration_ms, outcome,"
    " kind"
)
# Snowflake -> ms since the Unix epoch; without one, now (julianday keeps sub-ms precision).
_CALLED_MS = (
    "coalesce((column1 >> 22) + 1420070400000,"
    " CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))"
)
# Rows per INSERT statement, largest first: a batch is cut into as many statements of the first
# size as fit, then of the next size, and so on. One multi-row statement is one sqlite3_step,
# run without the GIL, instead of one step per row: the connection thread has to win the GIL
# back after every step, which stalls it while the event loop is busy. Binding a statement's
# parameters holds the GIL, though: 1024 rows (~1 ms) kept the loop's lag p99 near 1.4 ms where
# 4096 rows gave 3.8 ms, at the same throughput (bench/README.md). 8 parameters a row: 8192,
# under the 32,766 SQLite allows since 3.32 (999 before, which caps a statement at 124 rows).
_PARAMS_PER_ROW = 8
_MAX_ROWS = (32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999) // _PARAMS_PER_ROW
CHUNK_SIZES: tuple[int, ...] = tuple(
    sorted({min(size, _MAX_ROWS) for size in (1024, 128, 16, 1)}, reverse=True)
)

# Errors that mean "this row is bad", not "the database is unavailable": the batch is then
# written row by row so that only the bad rows are refused.
_ROW_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
    OverflowError,
    TypeError,
    ValueError,
)

# Most rows in one transaction (see CommandLogWriter's max_batch).
MAX_BATCH = 16_384

# The calls since a moment, and the nearest-rank percentile of their durations (an hour holds a
# few thousand rows at most: sorted in SQLite).
_COUNT_SQL = "SELECT count(*) FROM command_calls WHERE called_ms >= ?"
_PERCENTILE_SQL = (
    "SELECT duration_ms FROM command_calls WHERE called_ms >= ?"
    " ORDER BY duration_ms LIMIT 1 OFFSET ?"
)


@functools.cache
def _insert_sql(rows: int) -> str:
    """The INSERT for `rows` rows of 8 parameters each (see CommandRow)."""
    values = ", ".join(["(" + ", ".join("?" * _PARAMS_PER_ROW) + ")"] * rows)
    return (
        f"INSERT INTO command_calls ({_COLUMNS}) "
        f"SELECT column1, {_CALLED_MS}, column2, column3, column4, column5, column6, column7,"
        " column8 "
        f"FROM (VALUES {values})"
    )


@dataclass(frozen=True, slots=True)
class CommandLogStats:
    """A snapshot of the writer's counters. enqueued == written + rejected + lost + queue_depth."""

    enqueued: int  # rows record() accepted
    written: int  # rows committed to command_calls
    dropped: int  # rows record() refused: queue full, or the writer already closed
    rejected: int  # rows the database refused as invalid (logged, not retried)
    lost: int  # rows close() gave up on because the database stayed broken
    failed_batches: int  # write attempts that failed and were retried
    queue_depth: int  # rows accepted but not committed yet (queued + the batch being written)
    last_batch_ms: float | None  # wall time of the last committed batch (transaction included)
    last_error: str | None  # the most recent write error, "Type: message"


@dataclass(frozen=True, slots=True)
class RecentCalls:
    """The commands written since a moment: how many, and a percentile of their durations."""

    count: int
    percentile_ms: float | None  # None without calls


class CommandLogWriter:
    """One bounded queue and one batched background writer for `command_calls`."""

    def __init__(
        self,
        db: Database,
        *,
        max_queue: int = 100_000,
        batch_size: int = 500,
        max_batch: int = MAX_BATCH,
        max_wait: float = 0.25,
        max_in_flight: int = 1,
        retry_initial: float = 0.1,
        retry_max: float = 5.0,
        warn_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the writer; `start()` launches it.

        batch_size: write as soon as this many rows wait (otherwise after max_wait seconds).
        max_batch: most rows in one transaction; under load a batch takes whatever is queued,
            up to this, so batches grow with the load. Large batches write faster (each index
            page a batch dirties is written once per commit, however many rows it took); a full
            one holds the write lock ~0.1 s, well inside LOCK_WAIT_SECONDS for the ladder's
            writes waiting behind it.
        max_in_flight: most batches being written at once. SQLite writes one at a time (one
            connection, one writer); a subclass whose batches go through connections of their
            own may write more (PostgreSQL: while one batch waits for its commit, the next is
            sent, and the server works on both).
        retry_initial, retry_max: the backoff after a failed write doubles from one to the other.
        warn_interval: at most one WARNING about failing writes per this many seconds.
        clock: the time source of warn_interval (tests pass a fake one).
        """
        if not 1 <= batch_size <= max_batch:
            raise ValueError("need 1 <= batch_size <= max_batch")
        if max_in_flight < 1:
            raise ValueError("need max_in_flight >= 1")
        self._db = db
        self._queue: deque[CommandRow] = deque()
        self._limit = max_queue  # set to 0 once closed, so record() drops
        self._batch_size = batch_size
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._max_in_flight = max_in_flight
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._warn_interval = warn_interval
        self._clock = clock
        self._wake = asyncio.Event()  # set by record() when batch_size rows wait, and by close()
        self._nudge = asyncio.Event()  # cuts a retry backoff short (close() sets it)
        self._batch_ended = asyncio.Event()  # set after each batch (see written_at_least)
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._give_up = False
        self._stopped = False  # record() refuses everything (set when the writer stops)
        self._closed = False
        self._in_flight = 0  # rows in the batches being written
        self._written = 0
        self._dropped = 0
        self._rejected = 0
        self._lost = 0
        self._failed_batches = 0
        self._failures_unreported = 0
        self._next_warning_at: float | None = None
        self._warned = False
        self._next_reject_log_at: float | None = None
        self._next_drop_log_at: float | None = None
        self._dropped_reported = 0
        self._last_batch_ms: float | None = None
        self._last_error: str | None = None

    # --- hot path -------------------------------------------------------------------------

    def record(
        self,
        interaction_id: int | None,
        discord_uid: int,
        player_name: str | None,
        command: str,
        guild_id: int | None,
        duration_ms: float,
        outcome: str,
        kind: str = "slash",
    ) -> None:
        """Queue one interaction's row. O(1), never blocks, never raises; drops it if full."""
        queue = self._queue
        if len(queue) < self._limit:
            queue.append(
                (
                    interaction_id,
                    discord_uid,
                    player_name,
                    command,
                    guild_id,
                    duration_ms,
                    outcome,
                    kind,
                )
            )
            if len(queue) == self._batch_size:
                self._wake.set()
        else:
            self._dropped += 1
            self._report_drop()

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Launch the background writer task (idempotent); call it with the loop running."""
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name="command-log-writer")
            self._task.add_done_callback(self._task_done)

    # A deadline is this method's contract (a caller's asyncio.timeout would cancel the drain).
    async def close(self, timeout: float = 10.0, *, grace: float = 2.0) -> int:  # noqa: ASYNC109
        """Write every queued row, stop the writer and return how many rows were lost.

        Rows recorded while close() drains are written too; after it returns, record() drops.
        `timeout` bounds the whole drain (a healthy database writes 100k rows in a few seconds
        at worst). Past it, the writer stops after its current attempt (cancelled if that takes
        `grace` more seconds), the unwritten rows are logged at ERROR and their number returned.
        Idempotent. Close the Database only after this.
        """
        if self._closed:
            return self._lost
        self.start()
        task = self._task
        assert task is not None
        self._closing = True
        self._wake.set()
        self._nudge.set()  # retry a failed batch now instead of after its backoff
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                self._give_up = True
                self._nudge.set()
                done, _ = await asyncio.wait({task}, timeout=grace)
                if not done:
                    task.cancel()
                    await asyncio.wait({task})
        self._stop_accepting()  # also when the task was cancelled or crashed
        self._closed = True
        if self._lost:
            log.error(
                "Command log: %d command rows could not be written before shutdown (%s)",
                self._lost,
                self._last_error or "the writer stopped",
            )
        return self._lost

    def stats(self) -> CommandLogStats:
        """Return a snapshot of the counters."""
        depth = len(self._queue) + self._in_flight
        return CommandLogStats(
            enqueued=self._written + self._rejected + self._lost + depth,
            written=self._written,
            dropped=self._dropped,
            rejected=self._rejected,
            lost=self._lost,
            failed_batches=self._failed_batches,
            queue_depth=depth,
            last_batch_ms=self._last_batch_ms,
            last_error=self._last_error,
        )

    async def written_at_least(self, rows: int) -> None:
        """Return once `rows` rows have been committed, or the writer has stopped; woken by
        each batch's end (callers bound the wait with a timeout)."""
        while self._written < rows and not self._stopped:
            self._batch_ended.clear()
            await self._batch_ended.wait()

    async def recent_calls(self, since: datetime, percentile: int) -> RecentCalls:
        """Count the rows written since `since`; take the nearest-rank `percentile` (1-100)
        of their durations. Rows still queued are not counted."""
        since_ms = epoch_ms(since)
        row = await self._db.fetchone(_COUNT_SQL, (since_ms,))
        assert row is not None  # COUNT(*) without GROUP BY returns one row
        count = row[0]
        if not count:
            return RecentCalls(0, None)
        rank = (percentile * count + 99) // 100
        row = await self._db.fetchone(_PERCENTILE_SQL, (since_ms, rank - 1))
        return RecentCalls(count, row[0] if row is not None else None)  # rows may have vanished

    # --- the writer task ------------------------------------------------------------------

    async def _run(self) -> None:
        queue = self._queue
        writing: set[asyncio.Task[None]] = set()  # batches in flight (max_in_flight > 1 only)
        try:
            while not self._give_up:
                if len(writing) >= self._max_in_flight:
                    await self._one_written(writing)
                    continue
                if len(queue) < self._batch_size and not self._closing:
                    # Nothing is awaited between this check and clear(), so no wake-up is missed.
                    self._wake.clear()
                    try:
                        async with asyncio.timeout(self._max_wait):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                if not queue:
                    if self._closing:
                        if not writing:
                            break
                        await self._one_written(writing)  # rows may come in meanwhile
                    continue
                # With several batches free to start (a backlog after a pause, the drain in
                # close()), share the queue among them so that they end together.
                free = self._max_in_flight - len(writing)
                share = max(self._batch_size, -(-len(queue) // free))
                take = min(len(queue), self._max_batch, share)
                batch = [queue.popleft() for _ in range(take)]
                if self._max_in_flight == 1:
                    await self._write_batch(batch)
                else:
                    writing.add(asyncio.create_task(self._write_batch(batch)))
            while writing:  # giving up: each batch gives up after its current attempt
                await self._one_written(writing)
        finally:
            if writing:  # cancelled (close() past its grace) or a bug: stop the other batches
                for task in writing:
                    task.cancel()
                await asyncio.wait(writing)
        self._stop_accepting()
        self._batch_ended.set()

    @staticmethod
    async def _one_written(writing: set[asyncio.Task[None]]) -> None:
        """Wait until one of the batches in flight is done; raise what it raised (a bug)."""
        done, _ = await asyncio.wait(writing, return_when=asyncio.FIRST_COMPLETED)
        writing.difference_update(done)
        for task in done:
            task.result()

    async def _write_batch(self, batch: list[CommandRow]) -> None:
        self._in_flight += len(batch)
        try:
            await self._write_until_done(batch)
        except BaseException:  # cancelled (close() past its grace) or a bug: count the batch
            self._lost += len(batch)
            raise
        finally:
            self._in_flight -= len(batch)
            self._batch_ended.set()

    def _stop_accepting(self) -> None:
        """Refuse new rows from now on; whatever is still queued is lost."""
        self._stopped = True
        self._limit = 0
        self._lost += len(self._queue)
        self._queue.clear()

    async def _write_until_done(self, batch: list[CommandRow]) -> None:
        delay = self._retry_initial
        while True:
            try:
                await self._write(batch)
            except Exception as exc:  # any failure stays here: retried, never raised
                self._failed(exc, len(batch))
                if self._give_up:
                    self._lost += len(batch)
                    return
                try:
                    async with asyncio.timeout(delay):
                        await self._nudge.wait()
                except TimeoutError:
                    pass
                self._nudge.clear()  # a nudge cuts one backoff short, not every later one
                delay = min(delay * 2, self._retry_max)
                if self._give_up:
                    self._lost += len(batch)
                    return
            else:
                if self._warned:
                    log.info(
                        "Command log: writing again (%d rows); %d failed attempts since the last"
                        " warning",
                        len(batch),
                        self._failures_unreported,
                    )
                    self._warned = False
                self._failures_unreported = 0
                return

    async def _write(self, batch: list[CommandRow]) -> None:
        started = time.perf_counter_ns()
        try:
            await self._insert(batch)
        except _ROW_ERRORS:
            # Some row is invalid (or the connection is gone: then the retry below fails at
            # BEGIN and is handled as an ordinary failed batch).
            rejected = await self._insert_row_by_row(batch)
            self._rejected += len(rejected)
            self._written += len(batch) - len(rejected)
            self._report_rejected(rejected)
        else:
            self._written += len(batch)
        self._last_batch_ms = (time.perf_counter_ns() - started) / 1e6

    async def _insert(self, batch: list[CommandRow]) -> None:
        async with self._db.transaction() as conn:
            start = 0
            for size in CHUNK_SIZES:
                end = start + (len(batch) - start) // size * size
                if end == start:
                    continue
                params: Iterable[Sequence[Any]]
                if size == 1:
                    params = batch[start:end]
                else:
                    # A generator: the connection's thread flattens each chunk just before
                    # binding it, so the event loop never does that work. `batch` is private to
                    # this call and never changes while the statement runs.
                    params = (
                        list(chain.from_iterable(batch[i : i + size]))
                        for i in range(start, end, size)
                    )
                await conn.executemany(_insert_sql(size), params)
                start = end

    async def _insert_row_by_row(
        self, batch: list[CommandRow]
    ) -> list[tuple[CommandRow, Exception]]:
        """Insert the valid rows one statement each; return the refused rows and their errors.

        executemany stops at the first bad row; total_changes says how many rows went in before
        it, so the bad row is skipped and the rest continue: one hop per bad row, not per row.
        A failed statement is undone on its own; the transaction and earlier rows stay.
        """
        rejected: list[tuple[CommandRow, Exception]] = []
        sql = _insert_sql(1)
        async with self._db.transaction() as conn:
            start = 0
            while start < len(batch):
                before = conn.total_changes
                try:
                    await conn.executemany(sql, batch[start:])
                except _ROW_ERRORS as exc:
                    bad = start + conn.total_changes - before
                    rejected.append((batch[bad], exc))
                    start = bad + 1
                else:
                    break
        return rejected

    # --- reporting ------------------------------------------------------------------------

    def _failed(self, exc: Exception, rows: int) -> None:
        self._failed_batches += 1
        self._failures_unreported += 1
        self._last_error = f"{type(exc).__name__}: {exc}"
        now = self._clock()
        if self._next_warning_at is None or now >= self._next_warning_at:
            log.warning(
                "Command log: cannot write to the database (%s); %d failed attempts since the"
                " last warning, %d rows waiting; retrying with backoff",
                self._last_error,
                self._failures_unreported,
                len(self._queue) + rows,
            )
            self._failures_unreported = 0
            self._next_warning_at = now + self._warn_interval
            self._warned = True

    def _report_drop(self) -> None:
        """Say that rows are being dropped: at the first drop, then once per warn_interval."""
        now = self._clock()
        if self._next_drop_log_at is not None and now < self._next_drop_log_at:
            return
        self._next_drop_log_at = now + self._warn_interval
        dropped = self._dropped - self._dropped_reported
        self._dropped_reported = self._dropped
        if self._stopped:
            reason = "the command log is closed"
        else:
            reason = f"the queue is full ({self._limit} rows waiting for the database)"
        log.warning(
            "Command log: %s; dropping new rows (%d dropped since the last warning, %d in all)",
            reason,
            dropped,
            self._dropped,
        )

    def _report_rejected(self, rejected: list[tuple[CommandRow, Exception]]) -> None:
        if not rejected:
            return
        now = self._clock()
        if self._next_reject_log_at is None or now >= self._next_reject_log_at:
            row, exc = rejected[0]
            log.error(
                "Command log: the database refused %d invalid rows (%d in total so far),"
                " e.g. %r: %s: %s",
                len(rejected),
                self._rejected,
                row,
                type(exc).__name__,
                exc,
            )
            self._next_reject_log_at = now + self._warn_interval

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            if not self._give_up:
                log.warning("Command log writer was cancelled; queued rows will not be written")
            return
        exc = task.exception()
        if exc is not None:
            log.error("Command log writer crashed", exc_info=exc)
