"""Admin confirmations: an action that changes a result, a rating, a ban or the queue is first
asked about, stored with the state the admin saw, and applied only on its Confirm.

The question's buttons carry only the confirmation's id. `claim` answers it at most once (a
conditional UPDATE: of several Confirm clicks arriving together, one wins); the action itself
then runs in AdminService's own transaction, which refuses it if the state has changed since
the question (the stored `expected`). A question expires after `CONFIRMATION_TTL`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from ladder.confirmations import CONFIRMATION_TTL, AdminConfirmation
from services.transactions import write_transaction
from storage.confirmations import ConfirmationRepository
from storage.database import Database

log = logging.getLogger(__name__)

# Answered or expired questions are kept this long (to tell a late click "already answered"
# from "expired" for a while), then removed when a new question is asked.
KEPT = timedelta(days=1)


def _now() -> datetime:
    return datetime.now(UTC)


class AdminConfirmations:
    """Ask, look up and answer admin confirmations."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = _now,
        ttl: timedelta = CONFIRMATION_TTL,
    ) -> None:
        self._db = db
        self._confirmations = ConfirmationRepository()
        self._clock = clock
        self.ttl = ttl

    async def ask(
        self,
        admin_uid: int,
        action: str,
        arguments: Mapping[str, Any],
        expected: Mapping[str, Any] | None = None,
    ) -> int:
        """Store the question; return the id its buttons carry."""
        async with self._write() as conn:
            now = self._clock()
            await self._confirmations.purge(conn, now - KEPT)
            return await self._confirmations.add(
                conn, admin_uid, action, arguments, expected or {}, now
            )

    async def get(self, confirmation_id: int) -> AdminConfirmation | None:
        """Return the question, answered or not; None if there is no such one."""
        return await self._confirmations.get(self._db.reader, confirmation_id)

    def expired(self, confirmation: AdminConfirmation) -> bool:
        return confirmation.expired(self._clock(), self.ttl)

    async def claim(self, confirmation: AdminConfirmation) -> bool:
        """Answer the question (Confirm or Cancel); True only for its first answer in time."""
        async with self._write() as conn:
            since = self._clock() - self.ttl
            return await self._confirmations.claim(
                conn, confirmation.id, confirmation.admin_uid, since
            )

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        async with write_transaction(self._db, "Admin confirmation") as conn:
            yield conn
