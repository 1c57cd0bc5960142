"""Open the ladder's SQLite file, migrate it, and hand out transactions and reads.

The bot keeps two aiosqlite connections for its whole life: one that writes, one that only
reads. aiosqlite runs every call on its connection's own thread, which matches SQLite's single
writer. Several coroutines share the writer, so a write transaction holds an asyncio lock:
otherwise one coroutine's COMMIT or ROLLBACK would also end another coroutine's half-done
transaction. Reads go to the read-only connection: in WAL mode it sees the last committed state
without waiting for the writer, so a read never returns rows of another coroutine's open (and
maybe rolled back) transaction, and never queues behind a 16k-row command-log batch.

A read first runs right where it is awaited, on a second read-only connection of plain sqlite3,
with a budget of `INLINE_READ_BUDGET_S`: most reads are index lookups of 10-200 us, less than a
trip to aiosqlite's thread costs (bench/README.md). A read that overruns the budget, or finds the
file busy, is stopped and runs on the reader's thread instead; a statement that keeps overrunning
then goes straight there for `SLOW_STATEMENT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, overload

import aiosqlite

from storage.files import create_private_file, make_private_dir

log = logging.getLogger(__name__)

# A write waits this long for another process's lock before SQLite gives up. Short on purpose:
# the connection thread is shared, so a long wait here would stall every other query.
BUSY_TIMEOUT_MS = 200
# A write waits at most this long for this process's own writers before giving up as busy, so
# that a queue of writes behind another process's lock cannot push a player's answer past
# Discord's 3 seconds (20 writes x 200 ms each would).
LOCK_WAIT_SECONDS = 1.0

# Every connection's settings, in order. WAL: readers (`bot.py stats`, backups) never block the
# writer; synchronous NORMAL is durable across a process crash in WAL mode (a power cut can lose
# the last commits, never corrupt). The page cache stays SQLite's 2 MiB: 32 MiB made the command
# log writer no faster, even on a table of a million rows (bench/README.md).
CONNECTION_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)

# A read runs on the event loop's thread for at most this long; past it, SQLite stops it and
# it runs again on the reader's thread. A progress check every `_CHECK_EVERY` virtual-machine
# steps (a few per 100 us) keeps the check's own cost small.
INLINE_READ_BUDGET_S = 0.001
_CHECK_EVERY = 2_000
# A statement that keeps overrunning the budget goes straight to the reader's thread for this
# long. Each overrun is a strike and each read within the budget takes a tenth of one away, so
# one heavy player's /profile (or the machine being busy for a moment) moves nothing, but a
# statement that overruns in more than about one call in ten soon does.
SLOW_STATEMENT_SECONDS = 30.0
STRIKES_TO_SLOW = 3.0
_STRIKE_FORGIVEN = 0.1
_STATEMENTS_KEPT = 256
# An inline read that fails with one of these runs on the reader's thread: stopped past its
# budget, or the file busy or locked (the thread's connection may wait for it). Any other
# error (no such table, readonly, ...) is the read's own and is raised.
_RUN_ON_THE_THREAD = frozenset(
    {sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
)

# Positional (?) or named (:name) parameters, as sqlite3 takes them.
Params = Sequence[Any] | Mapping[str, Any]
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer ladderbot than this one."""

    def __init__(self, path: Path, found: int, known: int) -> None:
        super().__init__(
            f"{path} has schema version {found}, but this ladderbot knows only up to {known}. "
            "It was written by a newer ladderbot: upgrade ladderbot (or restore a backup)."
        )
        self.found = found
        self.known = known


def utc_now() -> str:
    """Return the current UTC time in the format every *_at column uses."""
    return format_time(datetime.now(UTC))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch, as command_calls.called_ms stores (exact, no float)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def format_time(moment: datetime) -> str:
    """Format an aware datetime as the UTC text stored in *_at columns."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@overload
def parse_time(text: str) -> datetime: ...
@overload
def parse_time(text: None) -> None: ...
@overload
def parse_time(text: str | None) -> datetime | None: ...
def parse_time(text: str | None) -> datetime | None:
    """Parse a stored *_at value back into an aware UTC datetime."""
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def migrations(folder: str = "migrations") -> list[tuple[int, str, str]]:
    """Return the packaged migrations in `folder` (SQLite's; `migrations_pg` for PostgreSQL) as
    (version, name, sql), in order, checking the numbering."""
    found = []
    for entry in resources.files("storage").joinpath(folder).iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (version, name, _) in enumerate(found, start=1):
        if version != expected:
            raise RuntimeError(f"migration {name} is out of sequence: expected {expected:04d}_*")
    return found


class FetchedRows:
    """A finished query's rows, read like an aiosqlite cursor (fetchone/fetchmany/fetchall)."""

    def __init__(self, rows: list[sqlite3.Row]) -> None:
        self._rows = rows
        self._at = 0

    async def fetchone(self) -> sqlite3.Row | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchmany(self, size: int) -> list[sqlite3.Row]:
        rows = self._rows[self._at : self._at + size]
        self._at += len(rows)
        return rows

    async def fetchall(self) -> list[sqlite3.Row]:
        rows = self._rows[self._at :]
        self._at = len(self._rows)
        return rows

    async def __aenter__(self) -> FetchedRows:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Query:
    """`reader.execute(...)`: awaited, or used as `async with ... as cursor`, like aiosqlite's."""

    def __init__(self, run: Callable[[], Awaitable[FetchedRows]]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, FetchedRows]:
        return self._run().__await__()

    async def __aenter__(self) -> FetchedRows:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class ReadConnection:
    """The read-only connection, used as repositories use an aiosqlite connection.

    Every query runs and is read to the end in ONE call. With aiosqlite's own cursors, a
    statement stays open between `execute` and `fetchall` while other coroutines' reads run on
    the same connection; SQLite keeps one read snapshot while any statement is open, so under a
    steady stream of overlapping reads the reader could keep seeing the database as it was
    before the latest commits (a player who had just accepted the terms was "not found"). Here
    no statement outlives its call.

    With `inline` (a plain sqlite3 read-only connection of the event loop's thread), a read
    runs there first, within `INLINE_READ_BUDGET_S`; without it (the website's own reader),
    every read runs on aiosqlite's thread.
    """

    def __init__(
        self, conn: aiosqlite.Connection, inline: sqlite3.Connection | None = None
    ) -> None:
        self.raw = conn  # for a streamed read when nothing else runs (start-up's standings)
        self._inline = inline
        self._deadline = 0.0
        self._slow: dict[str, float] = {}  # statement -> until when it runs on the thread
        self._strikes: dict[str, float] = {}  # statement -> its overruns, less those forgiven
        if inline is not None:
            inline.set_progress_handler(self._overrun, _CHECK_EVERY)

    def execute(self, sql: str, params: Params = ()) -> _Query:
        async def run() -> FetchedRows:
            return FetchedRows(await self.execute_fetchall(sql, params))

        return _Query(run)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        if self._inline is not None and self._may_run_inline(sql):
            try:
                self._deadline = time.perf_counter() + INLINE_READ_BUDGET_S
                rows = self._inline.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                code = error.sqlite_errorcode & 0xFF  # the primary result code
                if code not in _RUN_ON_THE_THREAD:
                    raise
                if code == sqlite3.SQLITE_INTERRUPT:
                    self._strike(sql)
            else:
                if self._strikes and sql in self._strikes:
                    self._forgive(sql)
                return rows
        return list(await self.raw.execute_fetchall(sql, params))

    async def set_trace_callback(self, trace: Callable[[str], None]) -> None:
        """Trace every statement this reader runs, on either of its connections."""
        if self._inline is not None:
            self._inline.set_trace_callback(trace)
        await self.raw.set_trace_callback(trace)

    async def close(self) -> None:
        try:
            if self._inline is not None:
                self._inline.close()
        finally:
            await self.raw.close()

    def _overrun(self) -> bool:
        return time.perf_counter() > self._deadline  # True: SQLite stops the statement

    def _may_run_inline(self, sql: str) -> bool:
        until = self._slow.get(sql)
        if until is None:
            return True
        if time.monotonic() < until:
            return False
        del self._slow[sql]
        return True

    def _strike(self, sql: str) -> None:
        strikes = self._strikes.pop(sql, 0.0) + 1.0
        if strikes < STRIKES_TO_SLOW:
            if len(self._strikes) >= _STATEMENTS_KEPT:
                self._strikes.pop(next(iter(self._strikes)))
            self._strikes[sql] = strikes
            return
        if len(self._slow) >= _STATEMENTS_KEPT:
            self._slow.pop(next(iter(self._slow)))
        self._slow[sql] = time.monotonic() + SLOW_STATEMENT_SECONDS
        log.info("A read keeps overrunning %.1f ms on the event loop; it runs on the reader's "
                 "thread for %.0f s: %.120s", INLINE_READ_BUDGET_S * 1000, SLOW_STATEMENT_SECONDS,
                 " ".join(sql.split()))  # fmt: skip

    def _forgive(self, sql: str) -> None:
        left = self._strikes[sql] - _STRIKE_FORGIVEN
        if left > 0:
            self._strikes[sql] = left
        else:
            del self._strikes[sql]


# What a repository reads through: the writer (inside a transaction) or the read-only connection.
Reader = aiosqlite.Connection | ReadConnection
# Told the players whose watched rows a transaction changed, once it committed (None: all).
type PlayerChangeListener = Callable[[frozenset[int | None]], None]
# The SQL function a trigger of Database.follow_player_changes calls with a player's uid.
CHANGED_FUNCTION = "ladderbot_player_changed"


class Database:
    """The writer connection, its write lock, the read-only connection, the schema version."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        # Reads outside a transaction; set by open(). Until then (migrations) the writer reads.
        self._reader: ReadConnection | None = None
        self.path = path
        self._write_lock = asyncio.Lock()
        # Players whose rows the open transaction changed (follow_player_changes), told to the
        # listeners once it commits; None among them: every player.
        self._changed: set[int | None] = set()
        self._change_listeners: list[PlayerChangeListener] = []

    @property
    def reader(self) -> ReadConnection:
        if self._reader is None:
            raise RuntimeError("the database's read-only connection is not open")
        return self._reader

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating folder and file), set the PRAGMAs, apply pending migrations."""
        path = Path(path)
        # 0600/0700 before SQLite creates them 0644; its -wal, -shm, -journal take the file's mode.
        make_private_dir(path.parent)
        create_private_file(path)
        # isolation_level=None: we issue BEGIN ourselves, so a transaction means what it says.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            for pragma in CONNECTION_PRAGMAS:
                await conn.execute(pragma)
            db = cls(conn, path)
            await db._migrate()
            inline = _open_inline_reader(path)
            try:
                db._reader = ReadConnection(await _open_reader(path), inline)
            except BaseException:
                inline.close()
                raise
        except BaseException:
            await conn.close()
            raise
        return db

    async def notify(self, conn: aiosqlite.Connection, channel: str, payload: str) -> None:
        """Tell the other processes on this database, when `conn`'s transaction commits.

        Nothing on SQLite: one process owns the file, and its writers clear its own caches.
        """

    async def follow_player_changes(
        self, triggers: Sequence[str], listener: PlayerChangeListener
    ) -> bool:
        """After every commit that changed a row these triggers watch, call `listener` with the
        players concerned (None among them: every player); return True.

        Each trigger is a `CREATE TEMP TRIGGER` on this process's writer connection whose body
        calls `CHANGED_FUNCTION(uid)`. One process owns the file and every write passes that
        connection, so no write is missed, whatever code path made it. Nothing is told of a
        transaction that rolled back (one cancelled during its COMMIT is told: it may have
        committed).
        """
        if not self._change_listeners:
            await self.conn.create_function(CHANGED_FUNCTION, 1, self._note_change)
        for sql in triggers:
            await self.conn.execute(sql)
        self._change_listeners.append(listener)
        return True

    def _note_change(self, uid: int | None) -> None:
        # Called by SQLite, from inside a write statement, on aiosqlite's thread.
        self._changed.add(uid)

    def _tell_changes(self, committed: bool) -> None:
        if not self._changed:
            return
        changed, self._changed = frozenset(self._changed), set()
        if not committed:
            return
        for listener in self._change_listeners:
            try:
                listener(changed)
            except Exception:  # the write is committed: it must not look failed
                log.exception("A listener of committed player changes failed")

    async def close(self) -> None:
        """Close both connections; callers stop writing first."""
        try:
            if self._reader is not None:
                await self._reader.close()
        finally:
            await self.conn.close()

    async def schema_version(self) -> int:
        """Return `PRAGMA user_version`: the number of the last migration applied."""
        row = await self.fetchone("PRAGMA user_version")
        assert row is not None  # the pragma always answers one row
        return int(row[0])

    async def _migrate(self) -> None:
        steps = migrations()
        current = await self.schema_version()
        if current > len(steps):
            raise SchemaTooNewError(self.path, current, len(steps))
        for version, name, sql in steps[current:]:
            log.info("Applying migration %s", name)
            # One transaction per migration, the version bump included: a crash leaves the
            # file at the previous version, never half-migrated.
            script = f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
            try:
                await self.conn.executescript(script)
            except BaseException:
                if self.conn.in_transaction:
                    await self.conn.rollback()
                raise

    async def open_own_reader(self) -> ReadConnection | None:
        """A further read-only connection, on a thread of its own, for a reader (the website)
        whose slow queries must not queue ahead of the bot's reads; the caller closes it."""
        return ReadConnection(await _open_reader(self.path))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction: committed on success, rolled back on error."""
        try:
            async with asyncio.timeout(LOCK_WAIT_SECONDS):
                await self._write_lock.acquire()
        except TimeoutError:
            raise _busy("database is locked (waited for this process's other writes)") from None
        try:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled (e.g. on SIGTERM) while aiosqlite's thread may still run the BEGIN:
                # queue a ROLLBACK behind it so the connection is never left in a transaction.
                await self.conn.rollback()
                raise
            try:
                yield self.conn
            except BaseException:
                await self.conn.rollback()
                raise
            else:
                try:
                    await self.conn.commit()
                except BaseException:
                    try:
                        await self.conn.rollback()
                    finally:
                        # Cancelled (or failed) while aiosqlite's thread ran the COMMIT: it may
                        # have committed all the same, and then the ROLLBACK did nothing.
                        self._tell_changes(committed=True)
                    raise
                # Committed: only now may a cache drop what changed (a read between the drop
                # and the commit would put the old rows back).
                self._tell_changes(committed=True)
        finally:
            self._tell_changes(committed=False)  # rolled back: nothing changed
            self._write_lock.release()

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run a read on the read-only connection and return its first row, or None."""
        rows = await self._read(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a read on the read-only connection and return all of its rows."""
        return await self._read(sql, params)

    async def _read(self, sql: str, params: Params) -> list[sqlite3.Row]:
        if self._reader is None:  # during open(): the migrations read on the writer
            return list(await self.conn.execute_fetchall(sql, params))
        return await self._reader.execute_fetchall(sql, params)


def _read_only_uri(path: Path) -> str:
    return f"{path.absolute().as_uri()}?mode=ro"


async def _open_reader(path: Path) -> aiosqlite.Connection:
    """The read-only connection: it can never write, so it never takes the write lock."""
    reader = await aiosqlite.connect(_read_only_uri(path), uri=True, isolation_level=None)
    reader.row_factory = sqlite3.Row
    try:
        # The writer's settings that apply to a reader (WAL is the file's, already set).
        await reader.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await reader.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await reader.close()
        raise
    return reader


def _open_inline_reader(path: Path) -> sqlite3.Connection:
    """The read-only connection of the event loop's thread. It never waits for a lock
    (busy_timeout 0): a busy file sends the read to the reader's thread, which may wait."""
    inline = sqlite3.connect(_read_only_uri(path), uri=True, isolation_level=None)
    inline.row_factory = sqlite3.Row
    inline.execute("PRAGMA busy_timeout = 0")
    inline.execute("PRAGMA foreign_keys = ON")  # as on every connection, though it only reads
    return inline


def _busy(message: str) -> sqlite3.OperationalError:
    """An OperationalError shaped like SQLite's own SQLITE_BUSY, so callers treat it alike."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = 5
    error.sqlite_errorname = "SQLITE_BUSY"
    return error
