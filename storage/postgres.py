"""PostgreSQL as the ladder's database: the same `Database` interface, on an asyncpg pool.

The repositories keep their SQL and their connection calls (`execute`, `executemany`, cursors
with `fetchone`/`fetchall`, `rowcount`, `lastrowid`); this module makes those calls work on
PostgreSQL, so that no repository has a second copy of its queries. What differs between the
two dialects is handled here, once:

* Placeholders: `?` and `:name` become `$1, $2, ...`, translated once per statement text
  (cached), outside string literals, quoted names and comments.
* `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`; `x IS [NOT] (...)` between
  values becomes `IS [NOT] DISTINCT FROM`; `CAST(... AS INTEGER)` casts to BIGINT (SQLite's
  INTEGER is 64 bits).
* `lastrowid`: an INSERT into a table with an identity column gets `RETURNING <column>`
  appended (the identity columns are read from the catalog at open).
* `rowcount` comes from the command status ("UPDATE 3").
* Errors: asyncpg's errors are raised as the sqlite3 exceptions the repositories and services
  already handle (a constraint violation as IntegrityError, a lock or serialization failure as
  a busy OperationalError), with the original chained.
* Results: `numeric` (SUM of integers, AVG) comes back as int or float, as SQLite returns it.
* SQLite's time functions that repository SQL uses (strftime, julianday) and SUM over a
  comparison exist on PostgreSQL as compatibility functions created by migration 0001.

Everything else the repositories write is SQL both understand (ON CONFLICT ... DO UPDATE with
excluded, RETURNING, window functions). Writes keep SQLite's model inside one process: one write
transaction at a time (an asyncio lock), reads on other pooled connections that see only
committed rows. Several processes writing at once is PostgreSQL's usual concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit, urlunsplit

import aiosqlite
import asyncpg

from ladder.errors import StorageBusyError
from storage.database import (
    LOCK_WAIT_SECONDS,
    Database,
    Params,
    PlayerChangeListener,
    ReadConnection,
    SchemaTooNewError,
    _busy,
    migrations,
)
from storage.tasks import cancel_and_wait, start_logged

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Held (session level) while migrating, so two processes starting at once migrate once.
MIGRATION_LOCK_KEY = 0x1AD0E4
LISTEN_RETRY_SECONDS = 2.0
_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+IGNORE\s+)?INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)
_RETURNING = re.compile(r"\bRETURNING\b", re.I)
# SQLite's `IS [NOT]` between values (row values, parameters) is PostgreSQL's [NOT] DISTINCT FROM;
# SQLite's INTEGER is 64 bits, PostgreSQL's 32.
_IS_NOT_VALUE = re.compile(r"\bIS\s+NOT\s+(?=[(?:])", re.I)
_IS_VALUE = re.compile(r"\bIS\s+(?=[(?:])", re.I)
_AS_INTEGER = re.compile(r"\bAS\s+INTEGER\b", re.I)
_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES|SHOW|TABLE|EXPLAIN)\b", re.I)
# PostgreSQL error classes that mean "try again": serialization failure, deadlock, lock not
# available, query cancelled (a statement or lock timeout).
_BUSY_STATES = ("40001", "40P01", "55P03", "57014")
# PostgreSQL error classes that mean "the server is out of reach for now", not a bug in the SQL:
# connection exceptions (08: lost, refused, does not exist), insufficient resources (53: too many
# connections, disk full), an administrator's or a crash's shutdown and "starting up" (57P01-03),
# the server's own I/O errors (58).
_UNREACHABLE_STATES = ("08", "53", "57P01", "57P02", "57P03", "58")


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


# SQLite tables whose rows PostgreSQL keeps in a table of another name, behind a view of the
# SQLite name (migrations_pg/0017: command_calls is a view that computes called_at when read,
# over command_call_rows). What writes rows with COPY, which cannot write into a view, writes
# here.
ROWS_TABLE: Final = {"command_calls": "command_call_rows"}


def pg_migrations() -> list[tuple[int, str, str]]:
    """The PostgreSQL migrations as (version, name, sql), in order, checking the numbering."""
    return migrations("migrations_pg")


class Statement:
    """One statement text translated for PostgreSQL: its SQL and how to order its parameters."""

    __slots__ = ("names", "returns_rows", "sql")

    def __init__(self, sql: str, names: tuple[str, ...] | None, returns_rows: bool) -> None:
        self.sql = sql
        self.names = names  # None: positional (?) parameters
        self.returns_rows = returns_rows

    def args(self, params: Params) -> list[Any]:
        if self.names is None:
            if isinstance(params, Mapping):
                raise TypeError("named parameters given to a statement with ? placeholders")
            return list(params)
        if not isinstance(params, Mapping):
            raise TypeError("positional parameters given to a statement with :name placeholders")
        return [params[name] for name in self.names]


def _placeholders(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """Replace ? and :name by $n outside literals, quoted names and comments."""
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:  # doubled quote
                end = sql.find(ch, end + 2)
            end = n - 1 if end == -1 else end
            out.append(sql[i : end + 1])
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end == -1 else end
            out.append(sql[i:end])
            i = end
        elif ch == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and (
            i == 0 or sql[i - 1] != ":"
        ):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            name = sql[i + 1 : j]
            if name not in names:
                names.append(name)
            out.append(f"${names.index(name) + 1}")
            i = j
        elif ch == ":" and sql.startswith("::", i):  # a PostgreSQL cast: leave it
            out.append("::")
            i += 2
        else:
            out.append(ch)
            i += 1
    if positional and names:
        raise ValueError(f"a statement mixes ? and :name placeholders: {sql!r}")
    return "".join(out), (tuple(names) if names else None)


@functools.lru_cache(maxsize=2048)
def translate(sql: str, identity: frozenset[tuple[str, str]] = frozenset()) -> Statement:
    """Translate a statement written for SQLite (cached per text and identity columns)."""
    text = _IS_NOT_VALUE.sub("IS DISTINCT FROM ", sql.strip().rstrip(";"))
    text = _IS_VALUE.sub("IS NOT DISTINCT FROM ", text)
    text = _AS_INTEGER.sub("AS BIGINT", text)
    text, names = _placeholders(text)
    returns_rows = bool(_ROWS.match(text) or _RETURNING.search(text))
    insert = _INSERT.match(text)
    if insert:
        table = insert.group(2).lower()
        if insert.group(1):  # INSERT OR IGNORE INTO t -> INSERT INTO t ... ON CONFLICT DO NOTHING
            text = text[: insert.start(1)] + text[insert.end(1) :]
            returning = _RETURNING.search(text)
            at = returning.start() if returning else len(text)
            text = f"{text[:at].rstrip()} ON CONFLICT DO NOTHING {text[at:]}".rstrip()
        column = next((c for t, c in identity if t == table), None)
        if column is not None and not returns_rows:
            text = f"{text} RETURNING {column}"
            returns_rows = True
    elif re.match(r"^\s*INSERT\s+OR\s+REPLACE\b", text, re.I):
        raise ValueError("INSERT OR REPLACE has no PostgreSQL form here: write ON CONFLICT")
    return Statement(text, names, returns_rows)


def _rowcount(status: str) -> int:
    """The row count of a command status: 'UPDATE 3' -> 3, 'INSERT 0 1' -> 1."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def sqlite_error(exc: BaseException) -> Exception:
    """asyncpg's error as the sqlite3 exception the repositories handle."""
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return sqlite3.IntegrityError(str(exc))
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and state.startswith("22"):  # a value out of range, malformed
        return sqlite3.DataError(str(exc))
    if state in _BUSY_STATES:
        return _busy(f"database is locked ({exc})")
    if isinstance(exc, (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)) or (
        isinstance(state, str) and state.startswith(_UNREACHABLE_STATES)
    ):
        return ServerUnreachableError(str(exc))
    error = sqlite3.OperationalError(str(exc))
    error.sqlite_errorcode = 1
    error.sqlite_errorname = "SQLITE_ERROR"
    return error


class ServerUnreachableError(sqlite3.OperationalError, StorageBusyError):
    """The server cannot be reached just now: the connection was lost or refused, the server is
    shutting down, starting up or out of connections.

    To the repositories it is SQLite's I/O error (SQLITE_IOERR, an OperationalError): a write
    becomes StorageBusyError as on SQLite, the command log retries its batch. It is also a
    StorageBusyError itself, so that a read (the pipeline loads the player before every
    command) tells the player "busy, try again in a minute", not the apology for a bug: with a
    server, unlike with SQLite's file, reads fail too while it is away.
    """

    sqlite_errorcode = 10
    sqlite_errorname = "SQLITE_IOERR"

    def __init__(self, detail: str) -> None:
        StorageBusyError.__init__(self)
        self.args = (detail,)  # what logs show; the player reads `user_message`


# InternalClientError: asyncpg's state on a connection the server just ended (e.g. "cannot
# switch to state 15; another operation is in progress" at a COMMIT), a lost connection too.
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
# A pooled connection (what pool.acquire gives) or a plain one.
if TYPE_CHECKING:
    RawConnection = asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]
else:
    RawConnection = Any


class _PgQuery:
    """`conn.execute(...)`: awaited, or used as `async with ... as cursor`, like aiosqlite's."""

    def __init__(self, run: Callable[[], Awaitable[PgCursor]]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run().__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgCursor:
    """A finished statement, read like an aiosqlite cursor."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self._at = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    async def fetchone(self) -> asyncpg.Record | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    async def fetchmany(self, size: int) -> list[asyncpg.Record]:
        rows = self._rows[self._at : self._at + size]
        self._at += len(rows)
        return rows

    async def fetchall(self) -> list[asyncpg.Record]:
        rows = self._rows[self._at :]
        self._at = len(self._rows)
        return rows

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> PgCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """One pooled connection, called as repositories call an aiosqlite connection."""

    def __init__(self, conn: RawConnection, identity: frozenset[tuple[str, str]]) -> None:
        self.raw = conn
        self._identity = identity
        self.total_changes = 0
        self.in_transaction = False

    def execute(self, sql: str, params: Params = ()) -> _PgQuery:
        return _PgQuery(lambda: self._execute(sql, params))

    async def _execute(self, sql: str, params: Params) -> PgCursor:
        statement = translate(sql, self._identity)
        args = statement.args(params)
        try:
            if statement.returns_rows:
                rows = await self.raw.fetch(statement.sql, *args)
                is_dml = not _ROWS.match(statement.sql)
                rowcount = len(rows) if is_dml else -1
                lastrowid = rows[-1][0] if is_dml and rows else None
            else:
                rows = []
                rowcount = _rowcount(await self.raw.execute(statement.sql, *args))
                lastrowid = None
        except _ERRORS as exc:
            raise sqlite_error(exc) from exc
        self.total_changes += max(rowcount, 0)
        return PgCursor(rows, rowcount, lastrowid)

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        statement = translate(sql, self._identity)
        batch = [statement.args(params) for params in seq]
        if not batch:
            return
        # RETURNING (added for lastrowid) is pointless for a batch; executemany discards rows.
        try:
            await self.raw.executemany(statement.sql, batch)
        except _ERRORS as exc:
            raise sqlite_error(exc) from exc
        self.total_changes += len(batch)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[asyncpg.Record]:
        cursor = await self._execute(sql, params)
        return await cursor.fetchall()


class PgPoolConnection:
    """`db.conn` and `db.reader` outside a transaction: each statement on a pooled connection,
    committed on its own (as SQLite's autocommit connection does)."""

    def __init__(self, pool: asyncpg.Pool, identity: frozenset[tuple[str, str]]) -> None:
        self._pool = pool
        self._identity = identity
        self.in_transaction = False

    @property
    def raw(self) -> PgPoolConnection:  # `reader.raw.execute(...)` streams on SQLite
        return self

    def execute(self, sql: str, params: Params = ()) -> _PgQuery:
        async def run() -> PgCursor:
            async with self._acquire() as conn:
                return await conn._execute(sql, params)

        return _PgQuery(run)

    async def executemany(self, sql: str, seq: Iterable[Params]) -> None:
        async with self._acquire() as conn:
            await conn.executemany(sql, seq)

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[asyncpg.Record]:
        async with self._acquire() as conn:
            return await conn.execute_fetchall(sql, params)

    async def close(self) -> None:  # the pool is the database's to close
        return None

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[PgConnection]:
        try:
            raw = await self._pool.acquire()
        except _ERRORS as exc:
            raise sqlite_error(exc) from exc
        try:
            yield PgConnection(raw, self._identity)
        finally:
            await release(self._pool, raw)


def _decode_numeric(text: str) -> int | float:
    """numeric as SQLite would return it: a whole number as int, else float."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


async def _init_connection(conn: RawConnection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_decode_numeric, schema="pg_catalog", format="text"
    )


class PostgresDatabase(Database):
    """`Database` on PostgreSQL: a pool, the same transaction and read methods."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url
        self.path = Path(redact(url))  # what messages name the database by
        self._identity: frozenset[tuple[str, str]] = frozenset()
        self._write_lock = asyncio.Lock()
        self._pool_conn = PgPoolConnection(pool, self._identity)
        self._reader = None
        # `conn` (reads and autocommit writes outside a transaction) and `reader` are pooled.
        self.conn = cast(aiosqlite.Connection, self._pool_conn)

    @property
    def reader(self) -> Any:
        return self._pool_conn

    @classmethod
    async def open(cls, path: str | Path, *, command_timeout: float = 60) -> PostgresDatabase:
        """Connect a pool to the URL, apply pending migrations, read the identity columns.

        `command_timeout`: the longest one statement may run (s); the bot's are short, a
        one-off tool's (migrate's rating replay of a whole ladder) may need far longer."""
        url = str(path)
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=10, init=_init_connection,
                command_timeout=command_timeout,
            )
        except _ERRORS as exc:
            raise sqlite_error(exc) from exc
        db = cls(pool, url)
        try:
            await db._migrate()
            await db._read_identity()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.pool.PoolConnectionProxy[Any]]:
        """A pooled connection of its own (asyncpg's, untranslated), given back without raising
        when the server went away meanwhile (see `release`)."""
        raw = await self.pool.acquire()
        try:
            yield raw
        finally:
            await release(self.pool, raw)

    async def follow_player_changes(
        self, triggers: Sequence[str], listener: PlayerChangeListener
    ) -> bool:
        """False: several bot processes may write the same server, and a temp trigger sees only
        its own connection's writes, so nothing is followed (and nothing may be cached on it)."""
        return False

    async def open_own_reader(self) -> ReadConnection | None:
        """None: every read already takes a pooled connection of its own (there is no file to
        open a second SQLite connection on)."""
        return None

    async def schema_version(self) -> int:
        """The last migration applied (0 for an empty database)."""
        async with self.pool.acquire() as conn:
            return await _schema_version(conn)

    async def _read_identity(self) -> None:
        rows = await self.pool.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        )
        self._identity = frozenset((r["table_name"], r["column_name"]) for r in rows)
        self._pool_conn._identity = self._identity

    async def _migrate(self) -> None:
        steps = pg_migrations()
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                current = await _schema_version(conn)
                if current > len(steps):
                    raise SchemaTooNewError(self.path, current, len(steps))
                for version, name, sql in steps[current:]:
                    log.info("Applying PostgreSQL migration %s", name)
                    # One transaction per migration, its schema_version row included.
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                            version,
                            name,
                        )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, one at a time in this process, as on SQLite."""
        try:
            async with asyncio.timeout(LOCK_WAIT_SECONDS):
                await self._write_lock.acquire()
        except TimeoutError:
            raise _busy("database is locked (waited for this process's other writes)") from None
        try:
            try:
                raw = await self.pool.acquire()
            except _ERRORS as exc:
                raise sqlite_error(exc) from exc
            try:
                conn = PgConnection(raw, self._identity)
                transaction = raw.transaction()
                try:
                    await transaction.start()
                except _ERRORS as exc:
                    raise sqlite_error(exc) from exc
                conn.in_transaction = True
                try:
                    yield cast(aiosqlite.Connection, conn)
                except BaseException:
                    await _quietly(transaction.rollback)
                    raise
                try:
                    await transaction.commit()
                except _ERRORS as exc:
                    await _quietly(transaction.rollback)
                    raise sqlite_error(exc) from exc
            finally:
                await release(self.pool, raw)
        finally:
            self._write_lock.release()

    async def notify(self, conn: aiosqlite.Connection, channel: str, payload: str) -> None:
        """NOTIFY inside `conn`'s transaction: delivered to every listener on commit, never on
        a rollback."""
        await conn.execute("SELECT pg_notify(?, ?)", (channel, payload))

    def listener(
        self,
        channels: Mapping[str, Callable[[str], None]],
        on_reset: Callable[[], None],
        retry_seconds: float = LISTEN_RETRY_SECONDS,
    ) -> Listener:
        """A `Listener` on this database for these channels and their handlers (not started)."""
        return Listener(self.url, channels, on_reset, retry_seconds)

    async def fetchone(self, sql: str, params: Params = ()) -> Any:
        rows = await self._pool_conn.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        return list(await self._pool_conn.execute_fetchall(sql, params))


class Listener:
    """LISTEN on some channels over one connection of its own, for as long as it runs.

    `channels[channel](payload)` is called for each notification, in the event loop, as it
    arrives (PostgreSQL delivers them in the order their transactions committed).
    Notifications sent while no connection listens are lost, so `on_reset()` is called when the
    connection is lost and again each time listening starts (the first time too): whoever
    keeps state the notifications keep fresh (a cache) drops all of it then. A lost connection
    is noticed at once when the socket closes, or by a check every `retry_seconds`; connecting
    again is tried every `retry_seconds`.
    """

    def __init__(
        self,
        url: str,
        channels: Mapping[str, Callable[[str], None]],
        on_reset: Callable[[], None],
        retry_seconds: float = 2.0,
    ) -> None:
        self.url = url
        self.channels = dict(channels)
        self.retry_seconds = retry_seconds
        self._on_reset = on_reset
        self._name = "+".join(self.channels)  # for the task's name and logs
        self.listening = asyncio.Event()  # set while LISTEN is in force
        self.resets = 0
        self._conn: asyncpg.Connection[Any] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, within: float = 10.0) -> None:
        """Start listening; wait (at most `within` seconds) until the first LISTEN is in force."""
        if self._task is None:
            self._task = start_logged(
                self._run(), f"listen-{self._name}", log, f"Listening on {self._name} crashed"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), within)
        if not self.listening.is_set():
            log.warning("Not listening on %s yet: trying again in the background", self._name)

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self._drop()

    def connection_pid(self) -> int | None:
        """The server process of the listening connection (for tests that cut it)."""
        return self._conn.get_server_pid() if self._conn is not None else None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (*_ERRORS, TimeoutError) as exc:
                log.warning("Listening on %s failed: %s", self._name, exc)
            self._drop()
            if self.listening.is_set():
                self.listening.clear()
                self._reset()
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> None:
        lost = asyncio.Event()
        self._conn = conn = await asyncpg.connect(self.url, timeout=self.retry_seconds * 5)
        conn.add_termination_listener(lambda _conn: lost.set())
        for channel in self.channels:
            await conn.add_listener(channel, self._received)
        self._reset()  # whatever was missed before this LISTEN
        self.listening.set()
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.retry_seconds)
            if lost.is_set() or conn.is_closed():
                return
            await conn.fetchval("SELECT 1", timeout=self.retry_seconds)

    def _received(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        try:
            self.channels[channel](str(payload))
        except Exception:
            log.exception("Handling a notification on %s failed: %r", channel, payload)

    def _reset(self) -> None:
        self.resets += 1
        try:
            self._on_reset()
        except Exception:
            log.exception("Resetting after the %s listener's reconnect failed", self._name)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()


async def _quietly(step: Callable[[], Awaitable[Any]]) -> None:
    # A broken connection: the server has ended the transaction itself. (Called here: on a
    # closed connection asyncpg's Transaction.rollback() raises before returning a coroutine.)
    with contextlib.suppress(*_ERRORS):
        await step()


async def release(pool: asyncpg.Pool, raw: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
    """Give a connection back to its pool; never raise.

    Releasing resets the connection (a round trip); if the server has just gone, that fails and
    asyncpg terminates the connection (the pool opens a new one when needed) and raises. The
    work done on the connection is settled by then (committed, or rolled back with the session),
    so the error must not replace its outcome: a committed write reported as failed would be
    retried (a command-log batch written twice) or told to the player as not done.
    """
    try:
        await pool.release(raw)
    except _ERRORS as exc:
        log.debug("Released a broken connection: %s", exc)


async def _schema_version(conn: RawConnection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


async def open_database(target: str | Path) -> Database:
    """Open the database a setting names: a postgresql:// URL, else an SQLite file path."""
    text = str(target)
    if is_postgres_url(text):
        return await PostgresDatabase.open(text)
    return await Database.open(Path(text.removeprefix("sqlite:///")))
