"""The ratings aggregate: one MMR per (player, race) with its record, and the rating log.

The log (`rating_log`) is what ratings are a pure function of: rated matches and admin
adjustments in order. A match's log entry reads its players, races and result from `matches`,
and its stored "step" (ratings before it and player 1's gain) from the same row, so a replay
from any entry can rewind and recompute (see `ladder.rating.rewind_log`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from ladder.rating import LogEntry, LoggedAdjustment, LoggedMatch, RatingKey, ReplayStep, Result
from ladder.records import RatingRow
from storage.database import Reader, format_time, parse_time

log = logging.getLogger(__name__)

# The channel migrations_pg/0014's trigger notifies; see `ratings_payload_keys`.
RATINGS_CHANNEL = "ladder_ratings"

# W/L/D column to bump for player 1 / player 2, by result.
_RECORD_COLUMNS = {
    Result.P1_WIN: ("wins", "losses"),
    Result.P2_WIN: ("losses", "wins"),
    Result.DRAW: ("draws", "draws"),
}


def _rating(row: sqlite3.Row) -> RatingRow:
    return RatingRow(
        uid=row["discord_uid"],
        race=row["race"],
        mmr=row["mmr"],
        games=row["games"],
        wins=row["wins"],
        losses=row["losses"],
        draws=row["draws"],
        last_played_at=parse_time(row["last_played_at"]),
        deviation=row["deviation"],
        volatility=row["volatility"],
    )


def ratings_payload_keys(payload: str) -> list[RatingKey] | None:
    """The keys a RATINGS_CHANNEL notification names; None for '*' (too many to name: all)."""
    if payload == "*":
        return None
    return [(int(uid), str(race)) for uid, race in json.loads(payload)]


class RatingRepository:
    """Ratings rows and the rating log."""

    async def ensure(
        self, conn: aiosqlite.Connection, uid: int, races: Iterable[str], start: int
    ) -> None:
        """Create the player's missing ratings rows for these races at the start MMR."""
        await conn.executemany(
            "INSERT INTO ratings (discord_uid, race, mmr) VALUES (?, ?, ?)"
            " ON CONFLICT (discord_uid, race) DO NOTHING",
            [(uid, race, start) for race in races],
        )

    async def of_player(self, conn: Reader, uid: int) -> list[RatingRow]:
        """Return the player's ratings, best first."""
        rows = await _all(
            conn,
            "SELECT * FROM ratings WHERE discord_uid = ? ORDER BY mmr DESC, race",
            (uid,),
        )
        return [_rating(row) for row in rows]

    async def rows(self, conn: Reader, keys: Iterable[RatingKey]) -> list[RatingRow]:
        """Return the stored rows of these keys (missing keys are left out), in key order."""
        out = []
        for uid, race in sorted(set(keys)):
            row = await _one(
                conn, "SELECT * FROM ratings WHERE discord_uid = ? AND race = ?", (uid, race)
            )
            if row is not None:
                out.append(_rating(row))
        return out

    async def page_after(
        self, conn: Reader, after: RatingKey | None, limit: int
    ) -> list[RatingRow]:
        """Return up to `limit` rows after the key `after` (None: from the first), in key order:
        every row, page by page, without one long read."""
        if after is None:
            sql = "SELECT * FROM ratings ORDER BY discord_uid, race LIMIT ?"
            params: tuple[Any, ...] = (limit,)
        else:
            sql = (
                "SELECT * FROM ratings WHERE (discord_uid, race) > (?, ?)"
                " ORDER BY discord_uid, race LIMIT ?"
            )
            params = (after[0], after[1], limit)
        return [_rating(row) for row in await _all(conn, sql, params)]

    async def all(self, conn: Reader) -> list[RatingRow]:
        """Return every ratings row."""
        rows = await _all(conn, "SELECT * FROM ratings ORDER BY discord_uid, race")
        return [_rating(row) for row in rows]

    async def mmrs_of_queued(self, conn: aiosqlite.Connection) -> dict[RatingKey, int]:
        """Return the MMR of every rating of every queued player (for a wave)."""
        rows = await _all(
            conn,
            "SELECT r.discord_uid, r.race, r.mmr FROM ratings AS r"
            " JOIN queue_entries AS q ON q.discord_uid = r.discord_uid",
        )
        return {(row[0], row[1]): row[2] for row in rows}

    async def mmrs(
        self, conn: aiosqlite.Connection, keys: Iterable[RatingKey]
    ) -> dict[RatingKey, int]:
        """Return the stored MMR of each of these keys that has a row."""
        return {row.key: row.mmr for row in await self.rows(conn, keys)}

    async def record_game(
        self,
        conn: aiosqlite.Connection,
        key1: RatingKey,
        key2: RatingKey,
        new1: int,
        new2: int,
        result: Result,
        played_at: datetime,
    ) -> None:
        """Store both new ratings of a freshly rated match and count it in both records."""
        col1, col2 = _RECORD_COLUMNS[Result(result)]
        for (uid, race), mmr, col in ((key1, new1, col1), (key2, new2, col2)):
            # `col` comes from the fixed table above, never from input.
            await conn.execute(
                f"UPDATE ratings SET mmr = ?, games = games + 1, {col} = {col} + 1,"
                " last_played_at = ? WHERE discord_uid = ? AND race = ?",
                (mmr, format_time(played_at), uid, race),
            )

    async def set_mmrs(self, conn: aiosqlite.Connection, mmrs: Mapping[RatingKey, int]) -> None:
        """Overwrite these keys' MMRs, creating rows that are missing."""
        await conn.executemany(
            "INSERT INTO ratings (discord_uid, race, mmr) VALUES (?, ?, ?)"
            " ON CONFLICT (discord_uid, race) DO UPDATE SET mmr = excluded.mmr, rating = NULL",
            [(uid, race, mmr) for (uid, race), mmr in mmrs.items()],
        )

    async def recount(self, conn: aiosqlite.Connection, keys: Iterable[RatingKey]) -> None:
        """Recount games, W/L/D and last played of these keys from their finished matches."""
        await conn.executemany(
            "UPDATE ratings SET (games, wins, losses, draws, last_played_at) = ("
            " SELECT COUNT(*), COALESCE(SUM(win), 0), COALESCE(SUM(loss), 0),"
            " COALESCE(SUM(draw), 0), MAX(ended_at) FROM ("
            "  SELECT result = 'p1_win' AS win, result = 'p2_win' AS loss,"
            "   result = 'draw' AS draw, ended_at FROM matches"
            "   WHERE player1_uid = :uid AND player1_race = :race AND status = 'finished'"
            "  UNION ALL"
            "  SELECT result = 'p2_win', result = 'p1_win', result = 'draw', ended_at FROM matches"
            "   WHERE player2_uid = :uid AND player2_race = :race AND status = 'finished') AS mine)"
            " WHERE discord_uid = :uid AND race = :race",
            [{"uid": uid, "race": race} for uid, race in set(keys)],
        )

    # --- the rating log ------------------------------------------------------------------

    async def log_match(self, conn: aiosqlite.Connection, match_id: int) -> int:
        """Append a rated match to the log; return its seq. UNIQUE(match_id) refuses twice."""
        cursor = await conn.execute("INSERT INTO rating_log (match_id) VALUES (?)", (match_id,))
        return cursor.lastrowid  # type: ignore[return-value]

    async def log_adjustment(
        self,
        conn: aiosqlite.Connection,
        key: RatingKey,
        kind: str,
        amount: int,
        admin_action_id: int,
    ) -> int:
        """Append an admin adjustment ('set' or 'add') to the log; return its seq."""
        cursor = await conn.execute(
            "INSERT INTO rating_log (discord_uid, race, adjustment, amount, admin_action_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (key[0], key[1], kind, amount, admin_action_id),
        )
        return cursor.lastrowid  # type: ignore[return-value]

    async def seq_of(self, conn: aiosqlite.Connection, match_id: int) -> int | None:
        """Return the match's place in the log, or None if it is not rated."""
        row = await _one(conn, "SELECT seq FROM rating_log WHERE match_id = ?", (match_id,))
        return row[0] if row else None

    async def unlog_match(self, conn: aiosqlite.Connection, match_id: int) -> None:
        """Remove an invalidated match from the log."""
        await conn.execute("DELETE FROM rating_log WHERE match_id = ?", (match_id,))

    async def log_from(
        self, conn: aiosqlite.Connection, seq: int = 0
    ) -> tuple[list[LogEntry], list[ReplayStep]]:
        """Return the log from `seq` on, and the stored step of each of its matches."""
        rows = await _all(
            conn,
            "SELECT l.match_id, l.discord_uid, l.race, l.adjustment, l.amount,"
            " m.player1_uid, m.player1_race, m.player1_mmr, m.player2_uid, m.player2_race,"
            " m.player2_mmr, m.result, m.mmr_change"
            " FROM rating_log AS l LEFT JOIN matches AS m ON m.id = l.match_id"
            " WHERE l.seq >= ? ORDER BY l.seq",
            (seq,),
        )
        entries: list[LogEntry] = []
        steps: list[ReplayStep] = []
        for r in rows:
            if r["match_id"] is None:
                key = (r["discord_uid"], r["race"])
                entries.append(LoggedAdjustment(key, r["adjustment"], r["amount"]))
                continue
            entries.append(
                LoggedMatch(
                    r["match_id"],
                    (r["player1_uid"], r["player1_race"]),
                    (r["player2_uid"], r["player2_race"]),
                    # None only for a match being invalidated in this transaction; the
                    # caller drops it (a replay would refuse it).
                    Result(r["result"]) if r["result"] else None,  # type: ignore[arg-type]
                )
            )
            steps.append(
                ReplayStep(r["match_id"], r["player1_mmr"], r["player2_mmr"], r["mmr_change"])
            )
        return entries, steps


async def _one(conn: Reader, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(conn: Reader, sql: str, params: Sequence[Any] = ()) -> list:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
