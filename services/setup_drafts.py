"""/setup drafts: the profile a player is building, kept in SQLite between the modal and Confirm.

The preview's custom_ids carry the draft's id and its player, nothing else; each click reads
and writes the draft here, so a preview keeps working after a restart and the bot keeps
nothing in memory per preview. A draft lives for `DRAFT_TTL` from its /setup; a new /setup
replaces the player's draft (the older preview then answers "expired"), Confirm and Cancel
delete it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiosqlite

from ladder.players import SetupDraft
from services.transactions import write_transaction
from storage.database import Database
from storage.setup_drafts import SetupDraftRepository

log = logging.getLogger(__name__)

DRAFT_TTL = timedelta(hours=1)
PICKABLE = frozenset({"country", "region"})


def _now() -> datetime:
    return datetime.now(UTC)


class SetupDraftService:
    """Start, read, change and drop a player's /setup draft."""

    def __init__(
        self, db: Database, *, clock: Callable[[], datetime] = _now, ttl: timedelta = DRAFT_TTL
    ) -> None:
        self._db = db
        self._drafts = SetupDraftRepository()
        self._clock = clock
        self._ttl = ttl

    async def start(self, uid: int, draft: SetupDraft) -> int:
        """Store `draft` as the player's draft (replacing any); return its id."""
        async with self._write() as conn:
            now = self._clock()
            await self._drafts.purge(conn, now - self._ttl)
            return await self._drafts.replace(conn, uid, draft, now)

    async def get(self, draft_id: int, uid: int) -> SetupDraft | None:
        """Return the player's draft `draft_id`; None if it is gone or expired."""
        return await self._drafts.get(self._db.reader, draft_id, uid, self._since())

    async def rename(
        self, draft_id: int, uid: int, player_name: str, battletag: str, alt_names: tuple[str, ...]
    ) -> SetupDraft | None:
        """Set the draft's names (validated by the caller); None if it is gone or expired."""
        async with self._write() as conn:
            since = self._since()
            changed = await self._drafts.set_names(
                conn, draft_id, uid, since, player_name, battletag, alt_names
            )
            return await self._drafts.get(conn, draft_id, uid, since) if changed else None

    async def pick(self, draft_id: int, uid: int, field: str, value: str) -> SetupDraft | None:
        """Set the draft's country or region; None if it is gone or expired."""
        if field not in PICKABLE:
            raise ValueError(f"a draft has no pickable field {field!r}")
        async with self._write() as conn:
            since = self._since()
            changed = await self._drafts.pick(conn, draft_id, uid, since, field, value)
            return await self._drafts.get(conn, draft_id, uid, since) if changed else None

    async def discard(self, draft_id: int, uid: int) -> bool:
        """Drop the draft (saved or cancelled); False if it was already gone."""
        async with self._write() as conn:
            return await self._drafts.delete(conn, draft_id, uid)

    def _since(self) -> datetime:
        return self._clock() - self._ttl

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with write_transaction(self._db, "Setup draft") as conn:
            yield conn
