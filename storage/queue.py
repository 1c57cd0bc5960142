"""The queue aggregate: who is waiting for a match, and what each player chose last time.

Every method takes the connection of the caller's transaction (or `Database.conn` for a plain
read), so a use case can read, decide and write in one transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from ladder.records import QueuePreferences, QueueStatus
from storage.database import Reader, format_time, parse_time

log = logging.getLogger(__name__)


def _status(row: sqlite3.Row) -> QueueStatus:
    return QueueStatus(
        uid=row["discord_uid"],
        races=tuple(json.loads(row["races"])),
        vetoes=tuple(json.loads(row["vetoes"])),
        joined_at=parse_time(row["joined_at"]),
        waves_waited=row["waves_waited"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
    )


class QueueRepository:
    """Queue entries and queue preferences."""

    async def preferences(self, conn: Reader, uid: int) -> QueuePreferences | None:
        """Return what the player queued with last time, if anything."""
        row = await _one(
            conn, "SELECT races, vetoes FROM queue_preferences WHERE discord_uid = ?", (uid,)
        )
        if row is None:
            return None
        return QueuePreferences(tuple(json.loads(row["races"])), tuple(json.loads(row["vetoes"])))

    async def save_preferences(
        self, conn: aiosqlite.Connection, uid: int, prefs: QueuePreferences, now: datetime
    ) -> None:
        """Remember the player's races and vetoes for the next /queue."""
        await conn.execute(
            "INSERT INTO queue_preferences (discord_uid, races, vetoes, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (discord_uid) DO UPDATE SET"
            " races = excluded.races, vetoes = excluded.vetoes, updated_at = excluded.updated_at",
            (uid, json.dumps(prefs.races), json.dumps(prefs.vetoes), format_time(now)),
        )

    async def get(self, conn: Reader, uid: int) -> QueueStatus | None:
        """Return the player's queue entry, if he is queued."""
        row = await _one(conn, "SELECT * FROM queue_entries WHERE discord_uid = ?", (uid,))
        return _status(row) if row else None

    async def all(self, conn: aiosqlite.Connection) -> list[QueueStatus]:
        """Return every queue entry, earliest joined first."""
        rows = await _all(conn, "SELECT * FROM queue_entries ORDER BY joined_at, discord_uid")
        return [_status(row) for row in rows]

    async def ineligible(self, conn: aiosqlite.Connection) -> set[int]:
        """Return the queued players who may not play now (a wave must never pair them): banned,
        the terms not accepted (declined since joining), or no finished profile, as /queue's
        guards require."""
        rows = await _all(
            conn,
            "SELECT q.discord_uid FROM queue_entries AS q"
            " LEFT JOIN players AS p ON p.discord_uid = q.discord_uid"
            " WHERE p.discord_uid IS NULL OR p.banned = 1 OR p.accepted_tos = 0"
            " OR p.completed_setup = 0",
        )
        return {row[0] for row in rows}

    async def add(
        self, conn: aiosqlite.Connection, uid: int, prefs: QueuePreferences, now: datetime
    ) -> None:
        """Put the player in the queue (the caller checked he is not in it yet)."""
        await conn.execute(
            "INSERT INTO queue_entries (discord_uid, races, vetoes, joined_at) VALUES (?, ?, ?, ?)",
            (uid, json.dumps(prefs.races), json.dumps(prefs.vetoes), format_time(now)),
        )

    async def set_message(
        self, conn: aiosqlite.Connection, uid: int, channel_id: int, message_id: int
    ) -> bool:
        """Remember the message showing the player's wait; False if he is no longer queued."""
        cursor = await conn.execute(
            "UPDATE queue_entries SET channel_id = ?, message_id = ? WHERE discord_uid = ?",
            (channel_id, message_id, uid),
        )
        return cursor.rowcount > 0

    async def remove(self, conn: aiosqlite.Connection, uid: int) -> QueueStatus | None:
        """Take the player out of the queue; return the entry he had, if any."""
        entry = await self.get(conn, uid)
        if entry is not None:
            await conn.execute("DELETE FROM queue_entries WHERE discord_uid = ?", (uid,))
        return entry

    async def remove_many(self, conn: aiosqlite.Connection, uids: Iterable[int]) -> None:
        """Take these players out of the queue (matched by a wave)."""
        await conn.executemany(
            "DELETE FROM queue_entries WHERE discord_uid = ?", [(uid,) for uid in uids]
        )

    async def clear(self, conn: aiosqlite.Connection) -> list[QueueStatus]:
        """Empty the queue; return the entries it held."""
        entries = await self.all(conn)
        await conn.execute("DELETE FROM queue_entries")
        return entries

    async def count_wave(self, conn: aiosqlite.Connection, uids: Iterable[int]) -> None:
        """Add one waited wave to each of these entries (left unpaired by a wave)."""
        await conn.executemany(
            "UPDATE queue_entries SET waves_waited = waves_waited + 1 WHERE discord_uid = ?",
            [(uid,) for uid in uids],
        )


async def _one(conn: Reader, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(conn: Reader, sql: str, params: Sequence[Any] = ()) -> list:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
