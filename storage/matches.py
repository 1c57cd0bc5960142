"""The match aggregate: matches, the DMs showing them, their disputes, and aborts spent.

A match row persists every field of `ladder.reports.MatchState` plus when each step happened;
the state machine decides, `MatchRepository.save` writes. Every method takes the connection of
the caller's transaction (or `Database.conn` for a plain read).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from ladder.matchmaking import Pairing, RecentPairings, pair_key
from ladder.rating import ReplayStep, Result
from ladder.records import (
    ACTIVE_STATUSES,
    OPEN_STATUSES,
    DisputeRecord,
    EvidenceRecord,
    MatchRecord,
)
from ladder.reports import Decision, MatchState, MatchStatus, Outcome
from storage.database import Reader, format_time, parse_time

log = logging.getLogger(__name__)

_TERMINAL = frozenset(
    {MatchStatus.FINISHED, MatchStatus.CANCELLED, MatchStatus.ABORTED, MatchStatus.INVALIDATED}
)
_ACTIVE_SQL = ", ".join(f"'{s.value}'" for s in ACTIVE_STATUSES)  # constants, not input
_OPEN_SQL = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)
# The partial index `matches_open` holds the open matches. SQLite uses a partial index only when
# the query repeats the index's WHERE term as it is, so a query over some open statuses starts
# with this term and narrows after it; without it, it reads every match ever played.
_OPEN_INDEXED = f"status IN ({_OPEN_SQL})"


def _opt(kind: type, value: Any) -> Any:
    return None if value is None else kind(value)


def _match(row: sqlite3.Row) -> MatchRecord:
    return MatchRecord(
        id=row["id"],
        status=MatchStatus(row["status"]),
        player1_uid=row["player1_uid"],
        player1_race=row["player1_race"],
        player1_mmr=row["player1_mmr"],
        player2_uid=row["player2_uid"],
        player2_race=row["player2_race"],
        player2_mmr=row["player2_mmr"],
        map=row["map"],
        created_at=parse_time(row["created_at"]),
        confirm_deadline=parse_time(row["confirm_deadline"]),
        player1_confirmed_at=parse_time(row["player1_confirmed_at"]),
        player2_confirmed_at=parse_time(row["player2_confirmed_at"]),
        started_at=parse_time(row["started_at"]),
        report_deadline=parse_time(row["report_deadline"]),
        player1_report=_opt(Outcome, row["player1_report"]),
        player1_reported_at=parse_time(row["player1_reported_at"]),
        player2_report=_opt(Outcome, row["player2_report"]),
        player2_reported_at=parse_time(row["player2_reported_at"]),
        result=_opt(Result, row["result"]),
        decided_by=_opt(Decision, row["decided_by"]),
        mmr_change=row["mmr_change"],
        ended_at=parse_time(row["ended_at"]),
        aborted_by=row["aborted_by"],
        no_shows=frozenset(json.loads(row["no_shows"])) if row["no_shows"] else frozenset(),
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


class MatchRepository:
    """Matches and the messages that show them."""

    async def create(
        self,
        conn: aiosqlite.Connection,
        pairings: Sequence[Pairing],
        now: datetime,
        confirm_deadline: datetime,
    ) -> list[int]:
        """Insert one match per pairing, awaiting confirmation; return their ids in order."""
        row = await _one(conn, "SELECT COALESCE(MAX(id), 0) FROM matches", ())
        assert row is not None  # an aggregate without GROUP BY returns one row
        # Ids are assigned here so a big wave is one executemany; the write lock makes it safe.
        first = row[0] + 1
        ids = list(range(first, first + len(pairings)))
        created, deadline = format_time(now), format_time(confirm_deadline)
        await conn.executemany(
            "INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr,"
            " player2_uid, player2_race, player2_mmr, map, created_at, confirm_deadline)"
            " VALUES (?, 'awaiting_confirmation', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, p.uid_a, p.race_a, p.mmr_a, p.uid_b, p.race_b, p.mmr_b, p.map_name,
                 created, deadline)
                for i, p in zip(ids, pairings, strict=True)
            ],
        )  # fmt: skip
        return ids

    async def get(self, conn: Reader, match_id: int) -> MatchRecord | None:
        """Return the match, or None if there is no such match."""
        row = await _one(conn, "SELECT * FROM matches WHERE id = ?", (match_id,))
        return _match(row) if row else None

    async def many(self, conn: aiosqlite.Connection, ids: Iterable[int]) -> list[MatchRecord]:
        """Return these matches in id order."""
        out = []
        for match_id in sorted(set(ids)):
            view = await self.get(conn, match_id)
            if view is not None:
                out.append(view)
        return out

    async def save(
        self,
        conn: aiosqlite.Connection,
        old: MatchRecord,
        new: MatchState,
        now: datetime,
        *,
        finalised: bool,
    ) -> None:
        """Write a transition's new state, stamping each step that happened at `now`."""

        def stamp(before: datetime | None, happened: bool) -> str | None:
            return _time(before) if before is not None else (_time(now) if happened else None)

        if finalised or (new.status in _TERMINAL and old.status not in _TERMINAL):
            # A match ends when it enters the rating log (the time its players' records show)
            # or reaches any other end; a later correction keeps that time.
            ended_at = _time(now)
        else:
            ended_at = _time(old.ended_at)
        await conn.execute(
            "UPDATE matches SET status = :status,"
            " player1_confirmed_at = :c1, player2_confirmed_at = :c2,"
            " started_at = :started, report_deadline = :report_deadline,"
            " player1_report = :r1, player1_reported_at = :r1_at,"
            " player2_report = :r2, player2_reported_at = :r2_at,"
            " result = :result, decided_by = :decided_by, ended_at = :ended_at,"
            " aborted_by = :aborted_by, no_shows = :no_shows WHERE id = :id",
            {
                "id": old.id,
                "status": new.status.value,
                "c1": stamp(old.player1_confirmed_at, new.p1 in new.confirmed),
                "c2": stamp(old.player2_confirmed_at, new.p2 in new.confirmed),
                "started": stamp(old.started_at, new.report_deadline is not None),
                "report_deadline": _time(new.report_deadline),
                "r1": new.p1_report.value if new.p1_report else None,
                "r1_at": stamp(old.player1_reported_at, new.p1_report is not None),
                "r2": new.p2_report.value if new.p2_report else None,
                "r2_at": stamp(old.player2_reported_at, new.p2_report is not None),
                "result": new.result.value if new.result else None,
                "decided_by": new.decided_by.value if new.decided_by else None,
                "ended_at": ended_at,
                "aborted_by": new.aborted_by,
                "no_shows": json.dumps(sorted(new.no_shows)) if new.no_shows else None,
            },
        )

    async def set_steps(self, conn: aiosqlite.Connection, steps: Iterable[ReplayStep]) -> None:
        """Store each rated match's ratings before it and player 1's gain."""
        await conn.executemany(
            "UPDATE matches SET player1_mmr = ?, player2_mmr = ?, mmr_change = ? WHERE id = ?",
            [(s.before_1, s.before_2, s.delta, s.match_id) for s in steps],
        )

    async def clear_rating(self, conn: aiosqlite.Connection, match_id: int) -> None:
        """Forget an invalidated match's rating change."""
        await conn.execute("UPDATE matches SET mmr_change = NULL WHERE id = ?", (match_id,))

    async def active_of(self, conn: Reader, uid: int) -> MatchRecord | None:
        """Return the match the player must confirm or report, if any (newest first)."""
        row = await _one(
            conn,
            f"SELECT * FROM matches WHERE status IN ({_ACTIVE_SQL})"
            " AND (player1_uid = ? OR player2_uid = ?) ORDER BY id DESC LIMIT 1",
            (uid, uid),
        )
        return _match(row) if row else None

    async def active_uids(self, conn: aiosqlite.Connection) -> set[int]:
        """Return everyone in an active match (a wave must not pair them again)."""
        rows = await _all(
            conn,
            "SELECT player1_uid, player2_uid FROM matches"
            f" WHERE {_OPEN_INDEXED} AND status IN ({_ACTIVE_SQL})",
        )
        return {uid for row in rows for uid in row}

    async def recent_pairings(
        self, conn: aiosqlite.Connection, rematch_since: datetime
    ) -> RecentPairings:
        """Who among the queued met whom: the pairs with a match created since `rematch_since`,
        and each pair's last map. Cancelled matches (a no-show) were not played."""
        rows = await _all(
            conn,
            "SELECT m.player1_uid, m.player2_uid, m.map, m.created_at FROM queue_entries q"
            " JOIN matches m ON m.player1_uid = q.discord_uid"
            " WHERE m.player2_uid IN (SELECT discord_uid FROM queue_entries)"
            " AND m.status != 'cancelled' ORDER BY m.id",
        )
        since = format_time(rematch_since)
        last_maps: dict[tuple[int, int], str] = {}
        rematches: set[tuple[int, int]] = set()
        for a, b, map_name, created_at in rows:
            key = pair_key(a, b)
            last_maps[key] = map_name  # in id order: the last one stays
            if created_at >= since:
                rematches.add(key)
        return RecentPairings(frozenset(rematches), last_maps)

    async def open(self, conn: Reader) -> list[MatchRecord]:
        """Return every active or disputed match, oldest first."""
        rows = await _all(conn, f"SELECT * FROM matches WHERE status IN ({_OPEN_SQL}) ORDER BY id")
        return [_match(row) for row in rows]

    async def due(self, conn: Reader, now: datetime) -> list[int]:
        """Return the ids of matches whose confirmation or report deadline has come."""
        t = format_time(now)
        rows = await _all(
            conn,
            f"SELECT id FROM matches WHERE {_OPEN_INDEXED} AND ("
            " (status = 'awaiting_confirmation' AND confirm_deadline <= ?)"
            " OR (status = 'in_progress' AND report_deadline <= ?)) ORDER BY id",
            (t, t),
        )
        return [row[0] for row in rows]

    async def next_deadline(self, conn: Reader) -> datetime | None:
        """Return the earliest pending confirmation or report deadline."""
        row = await _one(
            conn,
            "SELECT MIN(CASE status WHEN 'awaiting_confirmation' THEN confirm_deadline"
            " ELSE report_deadline END) FROM matches"
            f" WHERE {_OPEN_INDEXED} AND status IN ({_ACTIVE_SQL})",
            (),
        )
        return parse_time(row[0]) if row else None

    async def save_message(
        self, conn: aiosqlite.Connection, match_id: int, uid: int, channel_id: int, message_id: int
    ) -> None:
        """Remember the message that shows this match to this player (replacing an older one)."""
        await conn.execute(
            "INSERT INTO match_messages (match_id, discord_uid, channel_id, message_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (match_id, discord_uid) DO UPDATE SET"
            " channel_id = excluded.channel_id, message_id = excluded.message_id",
            (match_id, uid, channel_id, message_id),
        )

    async def messages(self, conn: Reader, match_id: int) -> list[tuple[int, int, int]]:
        """Return (uid, channel_id, message_id) of every message showing the match."""
        rows = await _all(
            conn,
            "SELECT discord_uid, channel_id, message_id FROM match_messages"
            " WHERE match_id = ? ORDER BY discord_uid",
            (match_id,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def shown(
        self, conn: Reader, match_id: int, uid: int
    ) -> tuple[int, int, str | None] | None:
        """Return (channel_id, message_id, shown digest) of `uid`'s message of the match."""
        row = await _one(
            conn,
            "SELECT channel_id, message_id, shown FROM match_messages"
            " WHERE match_id = ? AND discord_uid = ?",
            (match_id, uid),
        )
        return None if row is None else (row[0], row[1], row[2])

    async def set_shown(
        self, conn: aiosqlite.Connection, match_id: int, uid: int, message_id: int, digest: str
    ) -> None:
        """Record what the message now shows (only if it is still the match's message)."""
        await conn.execute(
            "UPDATE match_messages SET shown = ?"
            " WHERE match_id = ? AND discord_uid = ? AND message_id = ?",
            (digest, match_id, uid, message_id),
        )

    async def messages_to_check(self, conn: Reader, ended_since: datetime) -> list[tuple[int, int]]:
        """Return (match_id, uid) of the messages of open matches and of those ended since."""
        rows = await _all(
            conn,
            "SELECT mm.match_id, mm.discord_uid FROM match_messages AS mm"
            " JOIN matches AS m ON m.id = mm.match_id"
            f" WHERE m.status IN ({_OPEN_SQL}) OR m.ended_at >= ?"
            " ORDER BY mm.match_id, mm.discord_uid",
            (format_time(ended_since),),
        )
        return [(row[0], row[1]) for row in rows]

    async def extend_confirm_deadline(
        self, conn: aiosqlite.Connection, match_id: int, deadline: datetime
    ) -> bool:
        """Move a match's confirmation deadline later (never earlier) while it awaits both."""
        cursor = await conn.execute(
            "UPDATE matches SET confirm_deadline = ?"
            " WHERE id = ? AND status = 'awaiting_confirmation' AND confirm_deadline < ?",
            (format_time(deadline), match_id, format_time(deadline)),
        )
        return cursor.rowcount > 0


def _dispute(row: sqlite3.Row, evidence: tuple[EvidenceRecord, ...]) -> DisputeRecord:
    return DisputeRecord(
        id=row["id"],
        match_id=row["match_id"],
        status=row["status"],
        player1_report=_opt(Outcome, row["player1_report"]),
        player2_report=_opt(Outcome, row["player2_report"]),
        opened_at=parse_time(row["opened_at"]),
        ruling=row["ruling"],
        ruled_by=row["ruled_by"],
        ruled_at=parse_time(row["ruled_at"]),
        reason=row["reason"],
        evidence=evidence,
    )


class DisputeRepository:
    """Disputes of matches whose reports disagreed, with the evidence players add."""

    async def open(
        self,
        conn: aiosqlite.Connection,
        match_id: int,
        p1_report: Outcome,
        p2_report: Outcome,
        now: datetime,
    ) -> None:
        """Open the dispute of a match (a match is disputed at most once)."""
        await conn.execute(
            "INSERT INTO disputes (match_id, status, player1_report, player2_report, opened_at)"
            " VALUES (?, 'open', ?, ?, ?)",
            (match_id, p1_report.value, p2_report.value, format_time(now)),
        )

    async def of_match(self, conn: aiosqlite.Connection, match_id: int) -> DisputeRecord | None:
        """Return the match's dispute with its evidence, or None."""
        row = await _one(conn, "SELECT * FROM disputes WHERE match_id = ?", (match_id,))
        return _dispute(row, await self._evidence(conn, row["id"])) if row else None

    async def open_ones(self, conn: Reader) -> list[DisputeRecord]:
        """Return every open dispute, oldest first."""
        rows = await _all(
            conn, "SELECT * FROM disputes WHERE status = 'open' ORDER BY opened_at, id"
        )
        return [_dispute(row, await self._evidence(conn, row["id"])) for row in rows]

    async def rule(
        self,
        conn: aiosqlite.Connection,
        match_id: int,
        ruling: str,
        admin_uid: int,
        reason: str | None,
        now: datetime,
    ) -> bool:
        """Record the admin's ruling on the match's dispute; False if it has none."""
        cursor = await conn.execute(
            "UPDATE disputes SET status = 'resolved', ruling = ?, ruled_by = ?, ruled_at = ?,"
            " reason = ? WHERE match_id = ?",
            (ruling, admin_uid, format_time(now), reason, match_id),
        )
        return cursor.rowcount > 0

    async def add_evidence(
        self,
        conn: aiosqlite.Connection,
        dispute_id: int,
        uid: int,
        note: str | None,
        url: str | None,
        now: datetime,
    ) -> None:
        """Store a note and/or URL a player brings to the dispute, verbatim."""
        await conn.execute(
            "INSERT INTO dispute_evidence (dispute_id, discord_uid, note, url, added_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (dispute_id, uid, note, url, format_time(now)),
        )

    async def _evidence(self, conn: Reader, dispute_id: int) -> tuple[EvidenceRecord, ...]:
        rows = await _all(
            conn,
            "SELECT id, discord_uid, note, url, added_at FROM dispute_evidence"
            " WHERE dispute_id = ? ORDER BY id",
            (dispute_id,),
        )
        return tuple(
            EvidenceRecord(
                r["id"],
                r["discord_uid"],
                r["note"],
                r["url"],
                parse_time(r["added_at"]),
            )
            for r in rows
        )


class AbortRepository:
    """Aborts spent per player per UTC month ('YYYY-MM')."""

    async def used(self, conn: Reader, uid: int, month: str) -> int:
        """Return how many aborts the player spent in `month`."""
        row = await _one(
            conn, "SELECT used FROM aborts WHERE discord_uid = ? AND month = ?", (uid, month)
        )
        return row[0] if row else 0

    async def spend(self, conn: aiosqlite.Connection, uid: int, month: str) -> None:
        """Count one more abort for the player in `month`."""
        await conn.execute(
            "INSERT INTO aborts (discord_uid, month, used) VALUES (?, ?, 1)"
            " ON CONFLICT (discord_uid, month) DO UPDATE SET used = aborts.used + 1",
            (uid, month),
        )

    async def reset(self, conn: aiosqlite.Connection, uid: int, month: str) -> int:
        """Give the player all of `month`'s aborts back; return how many he had spent."""
        used = await self.used(conn, uid, month)
        await conn.execute("DELETE FROM aborts WHERE discord_uid = ? AND month = ?", (uid, month))
        return used


async def _one(conn: Reader, sql: str, params: Any) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()


async def _all(conn: Reader, sql: str, params: Any = ()) -> list:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
