"""The live queue board: the queue as the board shows it, and its one message per channel."""

from __future__ import annotations

import json

import aiosqlite

from ladder.queue_board import BoardEntry
from storage.database import Reader, parse_time


class QueueBoardRepository:
    """queue_entries (read, with the players' regions) and queue_board."""

    async def entries(self, conn: Reader) -> list[BoardEntry]:
        async with conn.execute(
            "SELECT q.races, q.joined_at, p.region FROM queue_entries q"
            " JOIN players p ON p.discord_uid = q.discord_uid"
        ) as cursor:
            rows = await cursor.fetchall()
        return [BoardEntry(tuple(json.loads(r[0])), r[2], parse_time(r[1])) for r in rows]

    async def message(self, conn: Reader, channel_id: int) -> tuple[int, str] | None:
        """The board's message id in this channel and the text it shows, if one was made."""
        async with conn.execute(
            "SELECT message_id, shown FROM queue_board WHERE channel_id = ?", (channel_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    async def save(
        self, conn: aiosqlite.Connection, channel_id: int, message_id: int, shown: str
    ) -> None:
        await conn.execute(
            "INSERT INTO queue_board (channel_id, message_id, shown) VALUES (?, ?, ?)"
            " ON CONFLICT (channel_id) DO UPDATE SET message_id = excluded.message_id,"
            " shown = excluded.shown",
            (channel_id, message_id, shown),
        )
