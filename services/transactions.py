"""The one write transaction every service uses: SQLite's "try again later" errors become
StorageBusyError (the player is told the ladder is busy); any other error is a bug and is raised
as it is."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiosqlite

from ladder.errors import StorageBusyError
from storage.database import Database

log = logging.getLogger(__name__)

# How often work no player waits on (a wave's match DMs, a notification's outcome) tries a write
# while the database is busy, and its first pause; each pause doubles: 0.1 + 0.2 + ... + 1.6 s,
# besides each try's own wait for the lock (storage.database.LOCK_WAIT_SECONDS).
BUSY_ATTEMPTS = 6
BUSY_FIRST_PAUSE_S = 0.1

# SQLite primary result codes that mean "try again later", not a bug in a statement.
BUSY_CODES = frozenset({5, 6, 8, 10, 13})  # BUSY, LOCKED, READONLY, IOERR, FULL


@asynccontextmanager
async def write_transaction(db: Database, what: str) -> AsyncIterator[aiosqlite.Connection]:
    """One write transaction on the writer; `what` names it in the warning if it fails."""
    try:
        async with db.transaction() as conn:
            yield conn
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF not in BUSY_CODES:
            raise
        log.warning("%s write failed: %s", what, exc)
        raise StorageBusyError() from exc


async def written[T](write: Callable[[], Awaitable[T]], *, attempts: int = BUSY_ATTEMPTS) -> T:
    """``write()`` (one write use case), tried again while the database is busy.

    For the bot's own work, which nobody is waiting to be told "busy, try again": a moment of
    contention (a queue of writes longer than the lock wait on a loaded machine) must not cost
    a player their match DM. The last try's StorageBusyError is raised.
    """
    for attempt in range(attempts - 1):
        try:
            return await write()
        except StorageBusyError:
            await asyncio.sleep(BUSY_FIRST_PAUSE_S * 2**attempt)
    return await write()
