"""The admin log: every /admin action, who did it, to what, why and with which details."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from ladder.records import AdminAction
from storage.database import Reader, format_time, parse_time

log = logging.getLogger(__name__)


def _action(row: sqlite3.Row) -> AdminAction:
    return AdminAction(
        id=row["id"],
        admin_uid=row["admin_uid"],
        action=row["action"],
        target=row["target"],
        details=json.loads(row["details"]) if row["details"] else {},
        reason=row["reason"],
        created_at=parse_time(row["created_at"]),
    )


def player_target(uid: int) -> str:
    """Return the `target` text of an action on a player."""
    return f"player:{uid}"


def match_target(match_id: int) -> str:
    """Return the `target` text of an action on a match."""
    return f"match:{match_id}"


QUEUE_TARGET = "queue"


class AdminActionRepository:
    """Appends to and reads `admin_actions`; rows are never changed."""

    async def record(
        self,
        conn: aiosqlite.Connection,
        admin_uid: int,
        action: str,
        target: str | None,
        details: Mapping[str, Any],
        reason: str | None,
        now: datetime,
    ) -> int:
        """Log one admin action in the caller's transaction; return its id."""
        cursor = await conn.execute(
            "INSERT INTO admin_actions (admin_uid, action, target, details, reason, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                admin_uid,
                action,
                target,
                json.dumps(details, sort_keys=True, separators=(",", ":")),
                reason,
                format_time(now),
            ),
        )
        return cursor.lastrowid  # type: ignore[return-value]

    async def for_target(self, conn: Reader, target: str, limit: int = 10) -> list[AdminAction]:
        """Return the latest actions on a target, newest first."""
        async with conn.execute(
            "SELECT * FROM admin_actions WHERE target = ? ORDER BY id DESC LIMIT ?",
            (target, limit),
        ) as cursor:
            return [_action(row) for row in await cursor.fetchall()]
