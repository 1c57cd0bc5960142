"""Read-only queries for the website: players by name or region, rating history, a match's
whole story, and when matches and queue joins happen.

Every query runs on the read-only connection (`Database.reader`): it sees the last committed
state and never waits for the writer or the command log. Nothing here reads `command_calls`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from ladder.history import (
    Dispute,
    Evidence,
    MatchLine,
    MatchSide,
    MatchStory,
    PublicPlayer,
    RatingCorrection,
    RatingPoint,
    Ruling,
)
from ladder.names import name_key
from storage.admin import match_target
from storage.database import Database, ReadConnection, parse_time

ADMIN = "an admin"  # who ruled, when the admin is not a player
HISTORY_POINTS = 2000  # the latest rated matches a rating chart shows, at most

# A player by the key of their main name: 'alice' and 'ALICE' find Alice (storage/players.py
# keeps the keys; the primary key makes the lookup one seek).
PLAYER_SQL = """
SELECT p.discord_uid, COALESCE(p.player_name, p.discord_name) AS name, p.country, p.region,
       p.banned
  FROM player_names AS n JOIN players AS p ON p.discord_uid = n.discord_uid
 WHERE n.name_key = ? AND n.kind = 'main'
"""

NAMES_SQL = """
SELECT discord_uid, COALESCE(player_name, discord_name) AS name, banned
  FROM players WHERE discord_uid IN ({marks})
"""

# The player's rating after each rated match, in the order the ratings were computed (the
# rating log's): before + change, from each side's own index. Latest :limit, oldest first.
# (The subquery is named: PostgreSQL before 16 refuses one without a name.)
RATING_HISTORY_SQL = """
SELECT * FROM (
    SELECT l.seq, m.id, m.ended_at, m.player1_race AS race,
           m.player1_mmr + m.mmr_change AS mmr, m.mmr_change AS change
      FROM matches AS m JOIN rating_log AS l ON l.match_id = m.id
     WHERE m.player1_uid = :uid AND m.status = 'finished' AND m.mmr_change IS NOT NULL
    UNION ALL
    SELECT l.seq, m.id, m.ended_at, m.player2_race,
           m.player2_mmr - m.mmr_change, -m.mmr_change
      FROM matches AS m JOIN rating_log AS l ON l.match_id = m.id
     WHERE m.player2_uid = :uid AND m.status = 'finished' AND m.mmr_change IS NOT NULL
     ORDER BY 1 DESC LIMIT :limit
) AS latest ORDER BY seq
"""

# The player's latest matches that got as far as a result or a dispute, from their side.
PLAYER_MATCHES_SQL = """
WITH mine AS (
    SELECT id, status, ended_at, player1_race AS race, player2_uid AS opponent,
           player2_race AS opponent_race, map,
           CASE result WHEN 'p1_win' THEN 'win' WHEN 'p2_win' THEN 'loss' WHEN 'draw' THEN 'draw'
           END AS outcome,
           player1_mmr AS mmr_before, mmr_change AS change
      FROM matches
     WHERE player1_uid = :uid AND status IN ('finished', 'disputed', 'invalidated')
    UNION ALL
    SELECT id, status, ended_at, player2_race, player1_uid, player1_race, map,
           CASE result WHEN 'p2_win' THEN 'win' WHEN 'p1_win' THEN 'loss' WHEN 'draw' THEN 'draw'
           END,
           player2_mmr, -mmr_change
      FROM matches
     WHERE player2_uid = :uid AND status IN ('finished', 'disputed', 'invalidated')
     ORDER BY id DESC LIMIT :limit
)
SELECT mine.*, COALESCE(p.player_name, p.discord_name) AS opponent_name,
       p.banned AS opponent_banned
  FROM mine LEFT JOIN players AS p ON p.discord_uid = mine.opponent
 ORDER BY id DESC
"""

MATCH_SQL = "SELECT * FROM matches WHERE id = ?"
DISPUTE_SQL = "SELECT * FROM disputes WHERE match_id = ?"
EVIDENCE_SQL = """
SELECT discord_uid, note, url, added_at FROM dispute_evidence WHERE dispute_id = ? ORDER BY id
"""
RULINGS_SQL = """
SELECT admin_uid, details, reason, created_at FROM admin_actions
 WHERE target = ? AND action = 'resolve_match' ORDER BY id
"""

# Matches made per UTC hour ('YYYY-MM-DD HH'), among the next :chunk matches after an id
# (by the primary key): the counts of earlier matches never change, so a caller adds these to
# what it has and asks again from the highest id. A chunk keeps each call short, so the
# connection's other reads (a /profile) are not held up behind a scan of every match.
MATCH_HOURS_SQL = """
SELECT substr(created_at, 1, 13) AS hour, count(*) AS n, max(id) AS last
  FROM (SELECT id, created_at FROM matches WHERE id > :after ORDER BY id LIMIT :chunk) AS recent
 GROUP BY hour
"""
MATCH_HOURS_CHUNK = 20_000


class HistoryRepository:
    """Read-only: the website's queries."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._own: ReadConnection | None = None  # the site's own reader, once opened

    async def open_own_reader(self) -> None:
        """Read on a read-only connection of the site's own from now on, not the bot's: a
        page's queries then run on their own thread and never queue ahead of a /profile."""
        if self._own is None:
            self._own = await self._db.open_own_reader()

    async def close(self) -> None:
        """Close the site's own reader (reads go back to the bot's)."""
        own, self._own = self._own, None
        if own is not None:
            await own.close()

    async def player(self, name: str) -> PublicPlayer | None:
        """The player whose main name is `name` (case and look-alikes folded), or None."""
        key = name_key(name)
        rows = await self._rows(PLAYER_SQL, (key,))
        if not rows:
            return None
        row = rows[0]
        return PublicPlayer(
            row["discord_uid"], row["name"], row["country"], row["region"], bool(row["banned"])
        )

    async def rating_history(self, uid: int, limit: int = HISTORY_POINTS) -> list[RatingPoint]:
        """The player's rating after each of their latest `limit` rated matches, oldest first."""
        rows = await self._rows(RATING_HISTORY_SQL, {"uid": uid, "limit": limit})
        return [
            RatingPoint(row["id"], row["race"], parse_time(row["ended_at"]), row["mmr"],
                        row["change"])
            for row in rows
        ]

    async def matches_of(self, uid: int, limit: int) -> list[MatchLine]:
        """The player's latest matches with a result or a dispute, newest first."""
        rows = await self._rows(PLAYER_MATCHES_SQL, {"uid": uid, "limit": limit})
        return [
            MatchLine(
                match_id=row["id"],
                status=row["status"],
                ended_at=parse_time(row["ended_at"]),
                race=row["race"],
                opponent=row["opponent_name"] or "?",
                opponent_banned=bool(row["opponent_banned"]),
                opponent_race=row["opponent_race"],
                map=row["map"],
                result=row["outcome"],
                mmr_before=row["mmr_before"],
                mmr_change=row["change"],
            )
            for row in rows
        ]

    async def match(self, match_id: int) -> MatchStory | None:
        """Everything public about a match, or None if there is no such match."""
        rows = await self._rows(MATCH_SQL, (match_id,))
        if not rows:
            return None
        m = rows[0]
        disputes = await self._rows(DISPUTE_SQL, (match_id,))
        d = disputes[0] if disputes else None
        evidence = await self._rows(EVIDENCE_SQL, (d["id"],)) if d else []
        rulings = await self._rows(RULINGS_SQL, (match_target(match_id),))
        details = [json.loads(r["details"] or "{}") for r in rulings]
        uids = {m["player1_uid"], m["player2_uid"]}
        uids.update(r["discord_uid"] for r in evidence)
        uids.update(r["admin_uid"] for r in rulings)
        if d is not None and d["ruled_by"] is not None:
            uids.add(d["ruled_by"])
        for detail in details:
            uids.update(change[0] for change in detail.get("rating_changes", ()))
        names = await self._names(uids)

        def name(uid: int | None, unknown: str = ADMIN) -> str:
            return names[uid][0] if uid in names else unknown

        def side(n: int) -> MatchSide:
            uid = m[f"player{n}_uid"]
            change = m["mmr_change"]
            return MatchSide(
                name=name(uid, "?"),
                banned=names.get(uid, ("", False))[1],
                race=m[f"player{n}_race"],
                mmr_before=m[f"player{n}_mmr"],
                report=m[f"player{n}_report"],
                reported_at=parse_time(m[f"player{n}_reported_at"]),
                change=None if change is None else (change if n == 1 else -change),
            )

        dispute = None
        if d is not None:
            dispute = Dispute(
                status=d["status"],
                opened_at=parse_time(d["opened_at"]),
                evidence=tuple(
                    Evidence(name(e["discord_uid"], "?"), e["note"], e["url"],
                             parse_time(e["added_at"]))
                    for e in evidence
                ),
                ruling=d["ruling"],
                ruled_by=name(d["ruled_by"]) if d["ruled_by"] is not None else None,
                ruled_at=parse_time(d["ruled_at"]),
                reason=d["reason"],
            )
        return MatchStory(
            id=m["id"],
            status=m["status"],
            map=m["map"],
            created_at=parse_time(m["created_at"]),
            started_at=parse_time(m["started_at"]),
            ended_at=parse_time(m["ended_at"]),
            result=m["result"],
            decided_by=m["decided_by"],
            player1=side(1),
            player2=side(2),
            dispute=dispute,
            rulings=tuple(
                Ruling(
                    at=parse_time(r["created_at"]),
                    by=name(r["admin_uid"]),
                    ruling=detail.get("ruling", "?"),
                    before=_state(detail.get("before")),
                    after=_state(detail.get("after")),
                    reason=r["reason"],
                    changes=tuple(
                        RatingCorrection(name(c[0], "?"), c[1], c[2], c[3])
                        for c in detail.get("rating_changes", ())
                        if len(c) == 4
                    ),
                )
                for r, detail in zip(rulings, details, strict=True)
            ),
        )

    async def match_hours(
        self, after_id: int, chunk: int = MATCH_HOURS_CHUNK
    ) -> tuple[dict[int, int], int, int]:
        """Matches made per UTC hour (hours since the epoch) among the next `chunk` matches
        with an id above `after_id`: (counts, the highest id counted, how many counted)."""
        counts: dict[int, int] = {}
        last, seen = after_id, 0
        rows = await self._rows(MATCH_HOURS_SQL, {"after": after_id, "chunk": chunk})
        for row in rows:
            seen += row["n"]
            last = max(last, row["last"])
            if row["hour"]:
                hour = datetime.strptime(row["hour"], "%Y-%m-%d %H").replace(tzinfo=UTC)
                counts[int(hour.timestamp()) // 3600] = row["n"]
        return counts, last, seen

    async def queue_join_hours(self) -> dict[int, int]:
        """Queue joins per UTC hour, as the queue_join_hours table counts them."""
        try:
            rows = await self._rows("SELECT hour, joins FROM queue_join_hours", ())
        except sqlite3.OperationalError:  # a database from before the table: nothing counted
            return {}
        return {row["hour"]: row["joins"] for row in rows}


    async def _names(self, uids: Iterable[int]) -> dict[int, tuple[str, bool]]:
        wanted = sorted(uid for uid in set(uids) if uid is not None)
        if not wanted:
            return {}
        rows = await self._rows(NAMES_SQL.format(marks=", ".join("?" * len(wanted))), wanted)
        return {row["discord_uid"]: (row["name"], bool(row["banned"])) for row in rows}

    async def _rows(self, sql: str, params: Sequence[object] | dict) -> list[sqlite3.Row]:
        reader = self._own if self._own is not None else self._db.reader
        return await reader.execute_fetchall(sql, params)


def _state(value: object) -> str:
    """'finished p1_win' from a ruling's {"status": ..., "result": ...}."""
    if not isinstance(value, dict):
        return "?"
    return " ".join(str(v) for v in (value.get("status"), value.get("result")) if v)
