"""The players aggregate: records, their names, and the log of what changed on them.

Reads go through the player cache; every write clears the player's cache entry once its
transaction has committed, so the next read sees the write. On PostgreSQL, where several bot
processes may share the database, every write also sends the player's uid on PLAYERS_CHANNEL
inside its transaction; each process listens and clears its own entry (bot.py wires it).

Names and battletags are unique by key (ladder.names): player_names holds each name's two
skeleton keys, player_battletags each battletag's key, and their primary and unique keys are
the final word when two players save at once. The keys are recomputed from the players table
whenever key_versions says another key function computed them (see migration 0006).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import aiosqlite

from cache.players import ABSENT, PlayerCache
from ladder.errors import NameTakenError, NotFoundError, StorageBusyError
from ladder.names import KEY_VERSION, battletag_key, name_key, shape_key
from ladder.players import BattletagTakenError, Change, Player, ProfileDraft, profile_changes
from storage.database import Database, parse_time, utc_now

log = logging.getLogger(__name__)

# Every write to a player announces its uid here (PostgreSQL: NOTIFY, delivered on commit), so
# the other bot processes on the database drop their cache entry (see `changed_elsewhere`).
PLAYERS_CHANNEL = "ladder_players"


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
        language=row["language"],
    )


def _flag_text(value: bool) -> str:
    return "yes" if value else "no"


class PlayerRepository:
    """Load and change players; the only code that writes the players tables."""

    def __init__(self, db: Database, cache: PlayerCache) -> None:
        self._db = db
        self.cache = cache
        self._keys_current = False
        self._keys_lock = asyncio.Lock()

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

    async def check_names_free(self, uid: int, name: str, alts: Iterable[str]) -> None:
        """Raise NameTakenError if another player already goes by any of these names.

        An early, friendly check for /setup; `save_profile` checks again inside its transaction.
        """
        await self.refresh_keys()
        for field, wanted in _name_fields(name, alts):
            if await _name_holder(self._db.conn, wanted, uid) is not None:
                raise NameTakenError(field, wanted)

    async def check_battletag_free(self, uid: int, battletag: str) -> None:
        """Raise BattletagTakenError if another player already uses this battletag (any case).

        An early, friendly check for /setup; `save_profile` checks again inside its transaction.
        """
        await self.refresh_keys()
        if await _battletag_holder(self._db.conn, battletag, uid) is not None:
            raise BattletagTakenError(battletag)

    async def refresh_keys(self) -> bool:
        """Recompute every stored name and battletag key if other key functions computed them.

        Runs before this repository first uses a key (call it at start to do it then); returns
        True if it rewrote the keys. One transaction: a failure leaves the old keys in place.
        """
        if self._keys_current:
            return False
        async with self._keys_lock:
            if self._keys_current:
                return False
            row = await self._db.fetchone("SELECT version FROM key_versions WHERE keys = 'players'")
            stale = row is None or row["version"] != KEY_VERSION
            if stale:
                await self._rekey(row["version"] if row else None)
            self._keys_current = True
            return stale

    async def _rekey(self, old_version: str | None) -> None:
        try:
            async with self._db.transaction() as conn:
                async with conn.execute(
                    "SELECT discord_uid, player_name, alt_name_1, alt_name_2, battletag"
                    " FROM players WHERE player_name IS NOT NULL OR battletag IS NOT NULL"
                    " ORDER BY completed_setup_at IS NULL, completed_setup_at, discord_uid"
                ) as cursor:
                    rows = await cursor.fetchall()
                names, battletags, clashes = _claims_in_order(rows)
                await conn.execute("DELETE FROM player_names")
                await conn.execute("DELETE FROM player_battletags")
                await conn.executemany(
                    "INSERT INTO player_names (name_key, shape_key, discord_uid, kind)"
                    " VALUES (?, ?, ?, ?)",
                    names,
                )
                await conn.executemany(
                    "INSERT INTO player_battletags (battletag_key, discord_uid) VALUES (?, ?)",
                    battletags,
                )
                await conn.execute(
                    "INSERT INTO key_versions (keys, version) VALUES ('players', ?)"
                    " ON CONFLICT (keys) DO UPDATE SET version = excluded.version",
                    (KEY_VERSION,),
                )
        except sqlite3.OperationalError as exc:
            raise _busy(exc) from exc
        log.info(
            "Recomputed %d name and %d battletag keys (%s -> %s)",
            len(names),
            len(battletags),
            old_version,
            KEY_VERSION,
        )
        for clash in clashes:
            log.warning("Key recomputation: %s; they must choose again at /setup", clash)

    async def record_terms(self, uid: int, discord_name: str, accepted: bool) -> Player:
        """Store the player's decision on the terms of service and when it was made."""
        async with self._write(uid) as conn:
            await self.record_terms_in(conn, uid, discord_name, accepted)
        return await self.require(uid)

    async def record_terms_in(
        self, conn: aiosqlite.Connection, uid: int, discord_name: str, accepted: bool
    ) -> None:
        """record_terms inside the caller's transaction (the caller clears the cache entry)."""
        now = utc_now()
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

    async def save_profile(self, uid: int, discord_name: str, draft: ProfileDraft) -> list[Change]:
        """Save a validated /setup profile; return the changes (each one is logged).

        A name or battletag another player holds raises NameTakenError or BattletagTakenError
        and writes nothing.
        """
        await self.refresh_keys()
        now = utc_now()
        async with self._write(uid) as conn:
            old = await self._ensure(conn, uid, discord_name, now)
            changes = profile_changes(old, draft)
            await self._claim_names(conn, uid, draft)
            await self._claim_battletag(conn, uid, draft.battletag)
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
            await self._db.notify(conn, PLAYERS_CHANNEL, str(uid))
            await conn.execute(
                "UPDATE players SET country = ?, updated_at = ? WHERE discord_uid = ?",
                (country, now, uid),
            )
            change = ("country", row["country"], country)
            await self._log(conn, uid, uid, now, [change])
        return change

    async def set_language(
        self, uid: int, discord_name: str, language: str | None
    ) -> Change | None:
        """Set the player's language (None: follow Discord's), creating a bare record for a
        newcomer; None if it was already so."""
        now = utc_now()
        async with self._write(uid) as conn:
            old = await self._ensure(conn, uid, discord_name, now)
            if old.language == language:
                return None
            await conn.execute(
                "UPDATE players SET language = ?, updated_at = ? WHERE discord_uid = ?",
                (language, now, uid),
            )
            change = ("language", old.language, language)
            await self._log(conn, uid, uid, now, [change])
        return change

    async def set_banned(self, uid: int, banned: bool, changed_by: int) -> Change | None:
        """Ban or unban a player (creating a bare record for an unknown user)."""
        async with self._write(uid) as conn:
            return await self.set_banned_in(conn, uid, banned, changed_by)

    async def set_banned_in(
        self, conn: aiosqlite.Connection, uid: int, banned: bool, changed_by: int
    ) -> Change | None:
        """set_banned inside the caller's transaction (the caller clears the cache entry)."""
        now = utc_now()
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

    def changed_elsewhere(self, uid: int) -> None:
        """Another process wrote this player: drop what this process's cache holds of him."""
        self.cache.invalidate(uid)

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
        """Return the player's row inside the transaction, inserting a bare one if missing.

        Every write to a player starts here (or in set_country): here it is announced too.
        """
        await self._db.notify(conn, PLAYERS_CHANNEL, str(uid))
        await conn.execute(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?)"
            " ON CONFLICT (discord_uid) DO UPDATE SET discord_name = excluded.discord_name"
            " WHERE players.discord_name <> excluded.discord_name",
            (uid, discord_name, now, now),
        )
        row = await _fetchone(conn, "SELECT * FROM players WHERE discord_uid = ?", (uid,))
        assert row is not None  # upserted just above, in this transaction
        return _player(row)

    async def _claim_names(self, conn: aiosqlite.Connection, uid: int, draft: ProfileDraft) -> None:
        """Replace the player's names; a name another player holds raises NameTakenError."""
        wanted = _name_fields(draft.player_name, draft.alt_names)
        for field, name in wanted:
            if await _name_holder(conn, name, uid) is not None:
                raise NameTakenError(field, name)
        await conn.execute("DELETE FROM player_names WHERE discord_uid = ?", (uid,))
        for field, name in wanted:
            try:
                await conn.execute(
                    "INSERT INTO player_names (name_key, shape_key, discord_uid, kind)"
                    " VALUES (?, ?, ?, ?)",
                    (name_key(name), shape_key(name), uid, _kind(field)),
                )
            except sqlite3.IntegrityError as exc:  # the keys' uniqueness is the final word
                raise NameTakenError(field, name) from exc

    async def _claim_battletag(self, conn: aiosqlite.Connection, uid: int, battletag: str) -> None:
        """Set the player's battletag key; one another player holds raises BattletagTakenError."""
        if await _battletag_holder(conn, battletag, uid) is not None:
            raise BattletagTakenError(battletag)
        try:
            await conn.execute(
                "INSERT INTO player_battletags (battletag_key, discord_uid) VALUES (?, ?)"
                " ON CONFLICT (discord_uid) DO UPDATE SET battletag_key = excluded.battletag_key",
                (battletag_key(battletag), uid),
            )
        except sqlite3.IntegrityError as exc:  # the primary key is the final word
            raise BattletagTakenError(battletag) from exc

    async def _log(
        self, conn: aiosqlite.Connection, uid: int, by: int, now: str, changes: Iterable[Change]
    ) -> None:
        await conn.executemany(
            "INSERT INTO player_action_logs"
            " (discord_uid, setting, old_value, new_value, changed_by, changed_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(uid, setting, old, new, by, now) for setting, old, new in changes],
        )


# SQLite's primary result codes that mean "the database cannot take this write now", not "this
# SQL is wrong": BUSY, LOCKED, READONLY, IOERR, FULL (as services/transactions.py).
_BUSY_CODES = frozenset({5, 6, 8, 10, 13})


def _busy(exc: sqlite3.OperationalError) -> StorageBusyError:
    """The error a player sees when SQLite cannot take the write now.

    Any other OperationalError (no such table, a syntax error, ...) is a bug, not a busy
    database: it is re-raised as it is, for the pipeline to log with its traceback.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _BUSY_CODES:
        raise exc
    log.warning("Player write failed: %s", exc)
    return StorageBusyError()


def _name_fields(name: str, alts: Iterable[str]) -> list[tuple[str, str]]:
    """(field, name) for the main name and each alt, in the order the player gave them."""
    return [("player_name", name)] + [(f"alt_name_{i}", alt) for i, alt in enumerate(alts, start=1)]


def _kind(field: str) -> str:
    return "main" if field == "player_name" else "alt"


async def _name_holder(conn: aiosqlite.Connection, name: str, uid: int) -> int | None:
    """Another player than `uid` who goes by `name` or a look-alike of it, if any."""
    row = await _fetchone(
        conn,
        "SELECT discord_uid FROM player_names WHERE (name_key = ? OR shape_key = ?)"
        " AND discord_uid <> ? LIMIT 1",
        (name_key(name), shape_key(name), uid),
    )
    return row["discord_uid"] if row else None


async def _battletag_holder(conn: aiosqlite.Connection, battletag: str, uid: int) -> int | None:
    """Another player than `uid` who uses `battletag` (any case), if any."""
    row = await _fetchone(
        conn,
        "SELECT discord_uid FROM player_battletags WHERE battletag_key = ? AND discord_uid <> ?",
        (battletag_key(battletag), uid),
    )
    return row["discord_uid"] if row else None


def _claims_in_order(
    rows: Iterable[sqlite3.Row],
) -> tuple[list[tuple[str, str, int, str]], list[tuple[str, int]], list[str]]:
    """The player_names and player_battletags rows for `rows`, first come first served.

    Returns the two lists of rows and a description of each name or battletag left out
    because an earlier player (or an earlier name of the same player) already has its key.
    """
    names: list[tuple[str, str, int, str]] = []
    battletags: list[tuple[str, int]] = []
    clashes: list[str] = []
    by_key: dict[str, int] = {}
    by_shape: dict[str, int] = {}
    by_battletag: dict[str, int] = {}
    for row in rows:
        uid = row["discord_uid"]
        given = [row[c] for c in ("player_name", "alt_name_1", "alt_name_2")]
        for number, name in enumerate(given):
            if not name:
                continue
            key, shape = name_key(name), shape_key(name)
            holder = by_key.get(key, by_shape.get(shape))
            if holder is not None:
                clashes.append(f"player {uid}'s name {name!r} looks like a name of player {holder}")
                continue
            by_key[key] = by_shape[shape] = uid
            names.append((key, shape, uid, "main" if number == 0 else "alt"))
        battletag = row["battletag"]
        if battletag:
            key = battletag_key(battletag)
            holder = by_battletag.setdefault(key, uid)
            if holder == uid:
                battletags.append((key, uid))
            else:
                clashes.append(f"player {uid}'s battletag {battletag!r} is player {holder}'s")
    return names, battletags, clashes


async def _fetchone(conn: aiosqlite.Connection, sql: str, params) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()
