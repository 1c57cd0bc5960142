"""The dashboard's one-time login links and the website's kept secrets.

Every method takes the connection of the caller's transaction, or `Database.reader` for a
plain read. Only a token's hash is stored. `claim` is the one way a link is used: a conditional
UPDATE that only the first use in time can win, however many arrive at once.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiosqlite

from storage.database import Reader, format_time

log = logging.getLogger(__name__)


class WebLoginRepository:
    """Reads and writes `web_logins` and `web_secrets`."""

    async def add(
        self, conn: aiosqlite.Connection, token_hash: str, admin_uid: int, now: datetime
    ) -> int:
        """Store a new link's token hash for `admin_uid`; return its row id."""
        cursor = await conn.execute(
            "INSERT INTO web_logins (token_hash, admin_uid, created_at) VALUES (?, ?, ?)",
            (token_hash, admin_uid, format_time(now)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def usable(self, conn: Reader, token_hash: str, since: datetime) -> bool:
        """True if the link exists, is unused and was made at or after `since`."""
        async with conn.execute(
            "SELECT 1 FROM web_logins WHERE token_hash = ? AND used_at IS NULL AND created_at >= ?",
            (token_hash, format_time(since)),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def claim(
        self, conn: aiosqlite.Connection, token_hash: str, since: datetime, now: datetime
    ) -> int | None:
        """Use the link: its admin's id for the first use of a link made at or after `since`,
        None for any other (unknown, used, expired)."""
        async with conn.execute(
            "UPDATE web_logins SET used_at = ?"
            " WHERE token_hash = ? AND used_at IS NULL AND created_at >= ?"
            " RETURNING admin_uid",
            (format_time(now), token_hash, format_time(since)),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def purge(self, conn: aiosqlite.Connection, before: datetime) -> int:
        """Remove the links made before `before`: long used or expired."""
        cursor = await conn.execute(
            "DELETE FROM web_logins WHERE created_at < ?", (format_time(before),)
        )
        return cursor.rowcount

    async def secret(
        self, conn: aiosqlite.Connection, name: str, new: bytes, now: datetime
    ) -> bytes:
        """The secret called `name`; `new` is stored first if there is none yet (so the first
        caller's value is the one every later caller gets)."""
        await conn.execute(
            "INSERT OR IGNORE INTO web_secrets (name, value, created_at) VALUES (?, ?, ?)",
            (name, new, format_time(now)),
        )
        async with conn.execute("SELECT value FROM web_secrets WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        assert row is not None
        return bytes(row[0])
