"""The one write transaction every service uses: SQLite's "try again later" errors become
StorageBusyError (the player is told the ladder is busy); any other error is a bug and is raised
as it is."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosqlite

from ladder.errors import StorageBusyError
from storage.database import Database

log = logging.getLogger(__name__)

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
