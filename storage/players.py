"""The players aggregate: records, their names, and the log of what changed on them.

Reads go through the player cache; every write clears the player's cache entry once its
transaction has committed, so the next read sees the write.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import aiosqlite

from cache.players import ABSENT, PlayerCache
from ladder.errors import NameTakenError, NotFoundError, StorageBusyError
from ladder.players import Change, Player, ProfileDraft, name_key, profile_changes
from storage.database import Database, parse_time, utc_now

log = logging.getLogger(__name__)


def _player(row: sqlite3.Row) -> Player:
    return Player(
        discord_uid=row["discord_uid"],
        discord_name=row["discord_name"],
        player_name=row["player_name"],
        battletag=row["battletag"],
        alt_name_1=row["alt_name_1"],
        alt_name_2=row["alt_name_2"],
        country=row["country"],
        region=row["region"],
        accepted_tos=bool(row["accepted_tos"]),
        accepted_tos_at=parse_time(row["accepted_tos_at"]),
        completed_setup=bool(row["completed_setup"]),
        completed_setup_at=parse_time(row["completed_setup_at"]),
        banned=bool(row["banned"]),
    )


def _flag_text(value: bool) -> str:
    return "yes" if value else "no"


class PlayerRepository:
    """Load and change players; the only code that writes the players tables."""

    def __init__(self, db: Database, cache: PlayerCache) -> None:
        self._db = db
        self.cache = cache

    async def get(self, uid: int) -> Player | None:
        """Return the player, through the cache; None if the user has no record."""
        cached = self.cache.get(uid)
        if cached is not None:
            return None if cached is ABSENT else cached  # type: ignore[return-value]
        generation = self.cache.generation
        player = await self._load(uid)
        self.cache.put(uid, player, generation)
        return player

    async def require(self, uid: int) -> Player:
        """Return the player or raise NotFoundError."""
        player = await self.get(uid)
        if player is None:
            raise NotFoundError("player", uid)
        return player

    async def _load(self, uid: int) -> Player | None:
        row = await self._db.fetchone("SELECT * FROM players WHERE discord_uid = ?", (uid,))
        return _player(row) if row else None

    async def find_by_name(self, name: str) -> Player | None:
        """Return the player who goes by `name` (main or alt, any case), if any."""
        row = await self._db.fetchone(
            "SELECT discord_uid FROM player_names WHERE name_key = ?", (name_key(name),)
        )
        return await self.get(row["discord_uid"]) if row else None

    async def check_names_free(self, uid: int, name: str, alts: Iterable[str]) -> None:
        """Raise NameTakenError if another player already goes by any of these names.

        An early, friendly check for /setup; `save_profile` checks again inside its transaction.
        """
        fields = [("player_name", name)] + [
            (f"alt_name_{i}", alt) for i, alt in enumerate(alts, start=1)
        ]
        for field, wanted in fields:
            row = await self._db.fetchone(
                "SELECT discord_uid FROM player_names WHERE name_key = ?", (name_key(wanted),)
            )
            if row is not None and row["discord_uid"] != uid:
                raise NameTakenError(field, wanted)

    async def record_terms(self, uid: int, discord_name: str, accepted: bool) -> Player:
        """Store the player's decision on the terms of service and when it was made."""
        now = utc_now()
        async with self._write(uid) as conn:
            old = await self._ensure(conn, uid, discord_name, now)
            await conn.execute(
                "UPDATE players SET accepted_tos = ?, accepted_tos_at = ?, updated_at = ?"
                " WHERE discord_uid = ?",
                (int(accepted), now, now, uid),
            )
            await self._log(
                conn,
                uid,
                uid,
                now,
                [("accepted_tos", _flag_text(old.accepted_tos), _flag_text(accepted))],
            )
        return await self.require(uid)

    async def save_profile(self, uid: int, discord_name: str, draft: ProfileDraft) -> list[Change]:
        """Save a validated /setup profile; return the changes (each one is logged)."""
        now = utc_now()
        async with self._write(uid) as conn:
            old = await self._ensure(conn, uid, discord_name, now)
            changes = profile_changes(old, draft)
            await self._claim_names(conn, uid, draft)
            values = draft.settings()
            await conn.execute(
                "UPDATE players SET player_name = :player_name, battletag = :battletag,"
                " alt_name_1 = :alt_name_1, alt_name_2 = :alt_name_2, country = :country,"
                " region = :region, completed_setup = 1,"
                " completed_setup_at = COALESCE(completed_setup_at, :now), updated_at = :now"
                " WHERE discord_uid = :uid",
                {**values, "now": now, "uid": uid},
            )
            if not old.completed_setup:
                changes.append(("completed_setup", "no", "yes"))
            await self._log(conn, uid, uid, now, changes)
        return changes

    async def set_country(self, uid: int, country: str) -> Change | None:
        """Change the player's country; return the change, or None if it was already set."""
        now = utc_now()
        async with self._write(uid) as conn:
            row = await _fetchone(conn, "SELECT country FROM players WHERE discord_uid = ?", (uid,))
            if row is None:
                raise NotFoundError("player", uid)
            if row["country"] == country:
                return None
            await conn.execute(
                "UPDATE players SET country = ?, updated_at = ? WHERE discord_uid = ?",
                (country, now, uid),
            )
            change = ("country", row["country"], country)
            await self._log(conn, uid, uid, now, [change])
        return change

    async def set_banned(self, uid: int, banned: bool, changed_by: int) -> Change | None:
        """Ban or unban a player (creating a bare record for an unknown user)."""
        now = utc_now()
        async with self._write(uid) as conn:
            old = await self._ensure(conn, uid, str(uid), now)
            if old.banned == banned:
                return None
            await conn.execute(
                "UPDATE players SET banned = ?, updated_at = ? WHERE discord_uid = ?",
                (int(banned), now, uid),
            )
            change = ("banned", _flag_text(old.banned), _flag_text(banned))
            await self._log(conn, uid, changed_by, now, [change])
        return change

    async def action_log(
        self, uid: int, limit: int = 20
    ) -> list[tuple[str, str | None, str | None, int, str]]:
        """The player's most recent setting changes, newest first."""
        rows = await self._db.fetchall(
            "SELECT setting, old_value, new_value, changed_by, changed_at FROM player_action_logs"
            " WHERE discord_uid = ? ORDER BY id DESC LIMIT ?",
            (uid, limit),
        )
        return [tuple(row) for row in rows]

    @asynccontextmanager
    async def _write(self, uid: int) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction on one player; whatever happens, the cache entry is cleared."""
        try:
            async with self._db.transaction() as conn:
                yield conn
        except sqlite3.OperationalError as exc:  # locked, read-only, disk full
            raise _busy(exc) from exc
        finally:
            self.cache.invalidate(uid)

    async def _ensure(
        self, conn: aiosqlite.Connection, uid: int, discord_name: str, now: str
    ) -> Player:
        """Return the player's row inside the transaction, inserting a bare one if missing."""
        await conn.execute(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (discord_uid) DO UPDATE SET discord_name = excluded.discord_name"
            " WHERE players.discord_name <> excluded.discord_name",
            (uid, discord_name, now, now),
        )
        row = await _fetchone(conn, "SELECT * FROM players WHERE discord_uid = ?", (uid,))
        return _player(row)

    async def _claim_names(self, conn: aiosqlite.Connection, uid: int, draft: ProfileDraft) -> None:
        """Replace the player's names; a name another player holds raises NameTakenError."""
        wanted = [(draft.player_name, "main", "player_name")] + [
            (alt, "alt", f"alt_name_{i}") for i, alt in enumerate(draft.alt_names, start=1)
        ]
        for name, _, field in wanted:
            row = await _fetchone(
                conn, "SELECT discord_uid FROM player_names WHERE name_key = ?", (name_key(name),)
            )
            if row is not None and row["discord_uid"] != uid:
                raise NameTakenError(field, name)
        await conn.execute("DELETE FROM player_names WHERE discord_uid = ?", (uid,))
        await conn.executemany(
            "INSERT INTO player_names (name_key, discord_uid, kind) VALUES (?, ?, ?)",
            [(name_key(name), uid, kind) for name, kind, _ in wanted],
        )

    async def _log(
        self, conn: aiosqlite.Connection, uid: int, by: int, now: str, changes: Iterable[Change]
    ) -> None:
        await conn.executemany(
            "INSERT INTO player_action_logs"
            " (discord_uid, setting, old_value, new_value, changed_by, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(uid, setting, old, new, by, now) for setting, old, new in changes],
        )


def _busy(exc: sqlite3.OperationalError) -> StorageBusyError:
    log.warning("Player write failed: %s", exc)
    return StorageBusyError()


async def _fetchone(conn: aiosqlite.Connection, sql: str, params) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()
