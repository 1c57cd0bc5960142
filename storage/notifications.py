"""Queue notifications: what each player chose with /notify, and every notification and its
fate. Raw SQL next to its use; rows become domain values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

import aiosqlite

from ladder.notifications import Notice, NotifySettings, QuietHours
from storage.database import Reader, format_time, parse_time

# A notification counts against the interval once decided ("queued") and once sent.
_COUNTED = "('queued', 'sent')"


def _settings(row: sqlite3.Row) -> NotifySettings:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = QuietHours(
            time.fromisoformat(row["quiet_start"]), time.fromisoformat(row["quiet_end"])
        )
    return NotifySettings(
        enabled=bool(row["enabled"]),
        races=frozenset(json.loads(row["races"])),
        regions=frozenset(json.loads(row["regions"])),
        quiet=quiet,
        time_zone=row["time_zone"],
    )


class NotificationRepository:
    """notify_settings and notifications_sent."""

    async def settings(self, conn: Reader, uid: int) -> NotifySettings | None:
        """What the player chose, or None if he never used /notify."""
        row = await _one(conn, "SELECT * FROM notify_settings WHERE discord_uid = ?", (uid,))
        return None if row is None else _settings(row)

    async def save_settings(
        self, conn: aiosqlite.Connection, uid: int, s: NotifySettings, now: datetime
    ) -> None:
        await conn.execute(
            "INSERT INTO notify_settings (discord_uid, enabled, races, regions, quiet_start,"
            " quiet_end, time_zone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (discord_uid) DO UPDATE SET enabled = excluded.enabled,"
            " races = excluded.races, regions = excluded.regions,"
            " quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end,"
            " time_zone = excluded.time_zone, updated_at = excluded.updated_at",
            (
                uid,
                int(s.enabled),
                json.dumps(sorted(s.races)),
                json.dumps(sorted(s.regions)),
                None if s.quiet is None else f"{s.quiet.start:%H:%M}",
                None if s.quiet is None else f"{s.quiet.end:%H:%M}",
                s.time_zone,
                format_time(now),
            ),
        )

    async def subscribers(self, conn: Reader) -> list[tuple[int, NotifySettings]]:
        """Everyone with notifications on who may still play (terms accepted, not banned)."""
        rows = await _all(
            conn,
            "SELECT n.* FROM notify_settings n JOIN players p USING (discord_uid)"
            " WHERE n.enabled = 1 AND p.banned = 0 AND p.accepted_tos = 1"
            " AND p.completed_setup = 1",
        )
        return [(row["discord_uid"], _settings(row)) for row in rows]

    async def regions(self, conn: Reader, uids: Sequence[int]) -> dict[int, str | None]:
        """Each player's region (None if he has not picked one)."""
        rows = await _all(
            conn,
            f"SELECT discord_uid, region FROM players WHERE discord_uid IN ({_marks(uids)})",
            tuple(uids),
        )
        return {uid: region for uid, region in rows}

    async def ratings(self, conn: Reader, uids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Each player's MMR per race he has a rating in."""
        rows = await _all(
            conn,
            f"SELECT discord_uid, race, mmr FROM ratings WHERE discord_uid IN ({_marks(uids)})",
            tuple(uids),
        )
        out: dict[int, dict[str, int]] = {}
        for uid, race, mmr in rows:
            out.setdefault(uid, {})[race] = mmr
        return out

    async def last_counted(self, conn: Reader, uids: Sequence[int]) -> dict[int, datetime]:
        """Each player's last notification that counts against his interval."""
        if not uids:
            return {}
        rows = await _all(
            conn,
            f"SELECT discord_uid, max(created_at) FROM notifications_sent WHERE discord_uid IN"
            f" ({_marks(uids)}) AND outcome IN {_COUNTED} GROUP BY discord_uid",
            tuple(uids),
        )
        return {uid: parse_time(at) for uid, at in rows}

    async def last_sent(self, conn: Reader, uid: int) -> datetime | None:
        """When the player's last notification was delivered, if ever."""
        row = await _one(
            conn,
            "SELECT max(finished_at) FROM notifications_sent WHERE discord_uid = ?"
            " AND outcome = 'sent'",
            (uid,),
        )
        return None if row is None else parse_time(row[0])

    async def record(self, conn: aiosqlite.Connection, notice: Notice, now: datetime) -> int:
        """Log a notification as decided ("queued"); return its id."""
        cursor = await conn.execute(
            "INSERT INTO notifications_sent (discord_uid, about_uid, race, region, created_at,"
            " outcome) VALUES (?, ?, ?, ?, ?, 'queued')",
            (notice.uid, notice.about_uid, notice.race, notice.region, format_time(now)),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def finish(
        self, conn: aiosqlite.Connection, notification_id: int, outcome: str, now: datetime
    ) -> None:
        await conn.execute(
            "UPDATE notifications_sent SET outcome = ?, finished_at = ? WHERE id = ?"
            " AND outcome = 'queued'",
            (outcome, format_time(now), notification_id),
        )

    async def drop_unfinished(self, conn: aiosqlite.Connection, now: datetime) -> int:
        """Notifications a stop left queued are stale by now: dropped."""
        cursor = await conn.execute(
            "UPDATE notifications_sent SET outcome = 'dropped', finished_at = ?"
            " WHERE outcome = 'queued'",
            (format_time(now),),
        )
        return cursor.rowcount

    async def outcomes(self, conn: Reader) -> dict[str, int]:
        rows = await _all(conn, "SELECT outcome, count(*) FROM notifications_sent GROUP BY 1")
        return {outcome: count for outcome, count in rows}


def _marks(values: Sequence[object]) -> str:
    # SQLite allows 32766 parameters; a ladder's subscribers and waiting players stay far below.
    return ",".join("?" * len(values))


async def _one(conn: Reader, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def _all(conn: Reader, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
