"""The /setup drafts: what a player typed and picked, between the modal and Confirm.

One row per player (a new /setup replaces it); every method takes the connection of the
caller's transaction, or `Database.reader` for a plain read. A draft is found only by its id
and its player together, and only if it was created at or after `since` (older is expired).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime

import aiosqlite

from ladder.players import SetupDraft
from storage.database import Reader, format_time

log = logging.getLogger(__name__)

# One statement per field a preview's select changes: two picks at once both stick.
_PICK = {
    "country": "UPDATE setup_drafts SET country = ?"
    " WHERE id = ? AND discord_uid = ? AND created_at >= ?",
    "region": "UPDATE setup_drafts SET region = ?"
    " WHERE id = ? AND discord_uid = ? AND created_at >= ?",
}


def _draft(row: sqlite3.Row) -> SetupDraft:
    return SetupDraft(
        player_name=row["player_name"],
        battletag=row["battletag"],
        alt_names=tuple(json.loads(row["alt_names"])),
        country=row["country"],
        region=row["region"],
    )


class SetupDraftRepository:
    """Reads and writes `setup_drafts`."""

    async def replace(
        self, conn: aiosqlite.Connection, uid: int, draft: SetupDraft, now: datetime
    ) -> int:
        """Store `draft` as the player's only draft, under a new id; return the id."""
        await conn.execute("DELETE FROM setup_drafts WHERE discord_uid = ?", (uid,))
        cursor = await conn.execute(
            "INSERT INTO setup_drafts (discord_uid, player_name, battletag, alt_names, country,"
            " region, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                uid,
                draft.player_name,
                draft.battletag,
                json.dumps(list(draft.alt_names)),
                draft.country,
                draft.region,
                format_time(now),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def get(
        self, conn: Reader, draft_id: int, uid: int, since: datetime
    ) -> SetupDraft | None:
        """Return the draft, if it is the player's and was created at or after `since`."""
        async with conn.execute(
            "SELECT * FROM setup_drafts WHERE id = ? AND discord_uid = ? AND created_at >= ?",
            (draft_id, uid, format_time(since)),
        ) as cursor:
            row = await cursor.fetchone()
        return _draft(row) if row else None

    async def set_names(
        self,
        conn: aiosqlite.Connection,
        draft_id: int,
        uid: int,
        since: datetime,
        player_name: str,
        battletag: str,
        alt_names: tuple[str, ...],
    ) -> bool:
        """Replace the names of a live draft; False if there is none."""
        cursor = await conn.execute(
            "UPDATE setup_drafts SET player_name = ?, battletag = ?, alt_names = ?"
            " WHERE id = ? AND discord_uid = ? AND created_at >= ?",
            (
                player_name,
                battletag,
                json.dumps(list(alt_names)),
                draft_id,
                uid,
                format_time(since),
            ),
        )
        return cursor.rowcount > 0

    async def pick(
        self,
        conn: aiosqlite.Connection,
        draft_id: int,
        uid: int,
        since: datetime,
        field: str,
        value: str,
    ) -> bool:
        """Set the country or the region of a live draft; False if there is none."""
        cursor = await conn.execute(_PICK[field], (value, draft_id, uid, format_time(since)))
        return cursor.rowcount > 0

    async def delete(self, conn: aiosqlite.Connection, draft_id: int, uid: int) -> bool:
        """Remove the draft (confirmed or cancelled); False if it was already gone."""
        cursor = await conn.execute(
            "DELETE FROM setup_drafts WHERE id = ? AND discord_uid = ?", (draft_id, uid)
        )
        return cursor.rowcount > 0

    async def purge(self, conn: aiosqlite.Connection, before: datetime) -> int:
        """Remove every draft created before `before` (left open, never confirmed)."""
        cursor = await conn.execute(
            "DELETE FROM setup_drafts WHERE created_at < ?", (format_time(before),)
        )
        return cursor.rowcount
