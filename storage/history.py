"""Read-only queries for the website: players by name or region, rating history, a match's
whole story, and when matches and queue joins happen.

Every query runs on the read-only connection (`Database.reader`): it sees the last committed
state and never waits for the writer or the command log. Nothing here reads `command_calls`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.database import Database

# A name search: the shown name contains the text, case-insensitively for ASCII (SQLite's
# LIKE); `\` escapes the text's own % and _.
NAMED_LIKE_SQL = """
SELECT discord_uid FROM players
 WHERE COALESCE(player_name, discord_name) LIKE ? ESCAPE '\\' AND banned = 0
"""

IN_REGION_SQL = "SELECT discord_uid FROM players WHERE region = ? AND banned = 0"


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's wildcards in the text escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class HistoryRepository:
    """Read-only: the website's queries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def uids_named_like(self, text: str) -> list[int]:
        """The players whose shown name contains `text` (not banned)."""
        rows = await self._rows(NAMED_LIKE_SQL, (like_pattern(text),))
        return [row[0] for row in rows]

    async def uids_in_region(self, region: str) -> list[int]:
        """The players who picked this region (not banned)."""
        return [row[0] for row in await self._rows(IN_REGION_SQL, (region,))]

    async def _rows(self, sql: str, params: Sequence[object] | dict) -> list[sqlite3.Row]:
        return await self._db.reader.execute_fetchall(sql, params)
