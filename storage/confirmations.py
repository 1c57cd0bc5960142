"""Admin confirmations: actions asked about and not yet answered.

Every method takes the connection of the caller's transaction, or `Database.reader` for a
plain read. `claim` is the one way a confirmation is answered: a conditional UPDATE that only
the first Confirm or Cancel can win, however many arrive at once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from ladder.confirmations import AdminConfirmation
from storage.database import Reader, format_time, parse_time

log = logging.getLogger(__name__)


def _confirmation(row: sqlite3.Row) -> AdminConfirmation:
    return AdminConfirmation(
        id=row["id"],
        admin_uid=row["admin_uid"],
        action=row["action"],
        arguments=json.loads(row["arguments"]),
        expected=json.loads(row["expected"]),
        created_at=parse_time(row["created_at"]),
        used=bool(row["used"]),
    )


class ConfirmationRepository:
    """Reads and writes `admin_confirmations`."""

    async def add(
        self,
        conn: aiosqlite.Connection,
        admin_uid: int,
        action: str,
        arguments: Mapping[str, Any],
        expected: Mapping[str, Any],
        now: datetime,
    ) -> int:
        """Store a question; return its id."""
        cursor = await conn.execute(
            "INSERT INTO admin_confirmations (admin_uid, action, arguments, expected, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (admin_uid, action, json.dumps(arguments), json.dumps(expected), format_time(now)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def get(self, conn: Reader, confirmation_id: int) -> AdminConfirmation | None:
        async with conn.execute(
            "SELECT * FROM admin_confirmations WHERE id = ?", (confirmation_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return _confirmation(row) if row else None

    async def claim(
        self, conn: aiosqlite.Connection, confirmation_id: int, admin_uid: int, since: datetime
    ) -> bool:
        """Mark the question answered; True only for the first answer, in time, by its admin."""
        cursor = await conn.execute(
            "UPDATE admin_confirmations SET used = 1"
            " WHERE id = ? AND admin_uid = ? AND used = 0 AND created_at >= ?",
            (confirmation_id, admin_uid, format_time(since)),
        )
        return cursor.rowcount > 0

    async def purge(self, conn: aiosqlite.Connection, before: datetime) -> int:
        """Remove the questions asked before `before`: long answered or expired."""
        cursor = await conn.execute(
            "DELETE FROM admin_confirmations WHERE created_at < ?", (format_time(before),)
        )
        return cursor.rowcount
