"""Which bot process does the work that must happen once: the leader.

Several bot processes may share one PostgreSQL database. Matchmaking waves, match deadlines, the
queue board and queue notifications must run in exactly one of them, or players would be paired
twice and told twice. The leader is the process whose own connection holds a session-level
advisory lock (`pg_try_advisory_lock`). The lock lives as long as that connection's session, so
when the leader dies (even by SIGKILL) the server releases it, and the next process to try takes
over. The other processes try again every `retry_seconds`.

The lock is held on a connection of its own, never a pooled one: a pooled connection goes back
to the pool, and a lock on it would outlive its use or be released by a stranger. While leading,
the connection is checked every `retry_seconds`; if it is lost, the leader stops its once-only
work at once (`on_deposed`) and goes back to trying.

A leader learns that it lost the lock only when it notices its connection is gone: at once when
the socket closes, but up to a check interval later if the connection was cut silently, while
the server has already freed the lock for the next leader. So the once-only work that writes
(the matchmaking wave) does not trust `is_leader`: its transaction calls `fence`, which takes a
transaction-level advisory lock on WAVE_LOCK_KEY (two waves never overlap, whoever runs them)
and reads in `pg_locks` whether this process's lock connection still holds the leader lock.

On SQLite one process owns the database file (app.running), so it always leads: `SoleLeader`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiosqlite
import asyncpg

from storage.tasks import cancel_and_wait, start_logged

log = logging.getLogger(__name__)

# The advisory lock key of the leader (the migration lock is storage.postgres.MIGRATION_LOCK_KEY).
LEADER_LOCK_KEY: Final = 0x1AD0E5
# Held by a matchmaking wave's transaction (pg_try_advisory_xact_lock): one wave at a time.
WAVE_LOCK_KEY: Final = 0x1AD0E6
RETRY_SECONDS: Final = 2.0
# What pg_stat_activity shows for the lock's connection: which process leads, for people and tests.
APPLICATION_NAME: Final = "ladderbot leader {pid}"

# What a lost or broken connection raises: the election drops it and tries again. (asyncpg's
# InternalClientError, "cannot switch to state …", comes from a connection cut mid-operation.)
_ERRORS = (
    asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError,
    TimeoutError,
)

Elected = Callable[[], None]
Deposed = Callable[[], Awaitable[None]]

# Both checks in one statement, in the wave's transaction: the leader lock first, so that a
# deposed leader never takes the wave lock from the new one. A bigint advisory key shows in
# pg_locks as classid (high 32 bits), objid (low 32 bits) and objsubid 1.
_FENCE_SQL = (
    "SELECT leads, CASE WHEN leads THEN pg_try_advisory_xact_lock(?) ELSE FALSE END AS alone"
    " FROM (SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = ? AND objid = ? AND objsubid = 1 AND pid = ?) AS leads) AS held"
)


class SoleLeader:
    """The only process on its database (SQLite): it leads from start to stop."""

    def __init__(self, on_elected: Elected, on_deposed: Deposed) -> None:
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self.is_leader = False

    async def start(self) -> None:
        self.is_leader = True
        self._on_elected()

    async def close(self) -> None:
        if self.is_leader:
            self.is_leader = False
            await self._on_deposed()

    async def fence(self, conn: aiosqlite.Connection) -> bool:
        """Nothing to check: no other process can write this database."""
        return True


class Leadership:
    """Take part in the election on `url`: run `on_elected` when this process becomes the
    leader, await `on_deposed` when it stops being it (lost connection, or `close`)."""

    def __init__(
        self,
        url: str,
        on_elected: Elected,
        on_deposed: Deposed,
        *,
        retry_seconds: float = RETRY_SECONDS,
        on_check: Callable[[], None] | None = None,
        key: int = LEADER_LOCK_KEY,
    ) -> None:
        self.url = url
        self.key = key
        self.retry_seconds = retry_seconds
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._on_check = on_check  # called at each check of the lock while leading
        self.is_leader = False
        self.elected = asyncio.Event()  # set while this process leads
        self.deposed = asyncio.Event()  # set while it does not
        self.deposed.set()
        self.outvoted = asyncio.Event()  # set from a try that found the lock held until the next
        self.terms = 0  # how many times this process became the leader
        self._conn: asyncpg.Connection[Any] | None = None
        self._lock_pid: int | None = None  # the lock connection's server process, while leading
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start taking part; returns at once (the first try happens in the background)."""
        if self._task is None:
            self._task = start_logged(
                self._run(), "leader-election", log, "The leader election crashed"
            )

    async def close(self) -> None:
        """Stop the once-only work if leading, then release the lock (close its connection)."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._step_down()
        await self._disconnect()

    async def fence(self, conn: aiosqlite.Connection) -> bool:
        """In a once-only write transaction (`conn`): True if it may go on. False if this
        process's lock connection no longer holds the leader lock (even before this process
        noticed), or if another wave holds WAVE_LOCK_KEY (a deposed leader's, still running).

        The wave lock is released when `conn`'s transaction ends, so a deposed leader's wave and
        its successor's never overlap; they can only follow one another, each seeing the other's
        committed matches and queue.
        """
        pid = self._lock_pid
        async with conn.execute(
            _FENCE_SQL,
            (WAVE_LOCK_KEY, self.key >> 32, self.key & 0xFFFFFFFF, pid if pid is not None else 0),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        if not row[0]:
            log.warning("This process no longer holds the leader lock: no matchmaking wave")
            return False
        if not row[1]:
            log.warning("Another process is running a matchmaking wave: this one does nothing")
            return False
        return True

    def lock_connection_pid(self) -> int | None:
        """The server process of the lock's connection (for tests that cut it)."""
        return self._conn.get_server_pid() if self._conn is not None else None

    async def _run(self) -> None:
        while True:
            try:
                if await self._try_lock():
                    await self._lead()
            except _ERRORS as exc:
                log.warning("Leader election: the database connection failed: %s", exc)
                self._drop()
            if self.is_leader:
                # Ended while leading: the lock's session goes too, so the lock is surely free
                # for the next leader (a connection that failed a check may still hold it).
                self._drop()
                await self._step_down()
            await asyncio.sleep(self.retry_seconds)

    async def _try_lock(self) -> bool:
        if self._conn is None:
            self._conn = await asyncpg.connect(
                self.url,
                timeout=self.retry_seconds * 5,
                server_settings={"application_name": APPLICATION_NAME.format(pid=os.getpid())},
            )
        self.outvoted.clear()
        got = await self._conn.fetchval(
            "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.retry_seconds * 5
        )
        if not got:
            self.outvoted.set()
        return bool(got)

    async def _lead(self) -> None:
        """Hold the lock until its connection is lost or fails a check."""
        conn = self._conn
        assert conn is not None
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        self._lock_pid = conn.get_server_pid()
        self.is_leader = True
        self.terms += 1
        self.deposed.clear()
        self.elected.set()
        log.info("This process is now the leader: it runs matchmaking, deadlines and the board")
        self._on_elected()
        while not conn.is_closed():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self.retry_seconds)
            if lost.is_set() or conn.is_closed():
                break
            # A connection cut without a word (a host gone, a firewall) fails this check.
            await conn.fetchval("SELECT 1", timeout=self.retry_seconds)
            if self._on_check is not None:
                self._on_check()
        log.warning("Lost the leader lock's connection: stopping matchmaking, deadlines, board")

    async def _step_down(self) -> None:
        if not self.is_leader:
            return
        self.is_leader = False
        self._lock_pid = None
        self.elected.clear()
        try:
            await self._on_deposed()
        except Exception:
            log.exception("Stopping the leader's work failed")
        finally:
            self.deposed.set()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None or conn.is_closed():
            return
        try:
            await asyncio.wait_for(conn.close(), self.retry_seconds)
        except (*_ERRORS, asyncio.CancelledError):
            conn.terminate()
