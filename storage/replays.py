"""Uploaded replays: the `replays` table and the files under the replay folder.

Every method of `ReplayRepository` takes the connection of the caller's transaction, or
`Database.reader` for a plain read. `ReplayFiles` keeps each file once, named by its SHA-256,
private to the bot (0600 in a 0700 folder, see `storage.files`), written to a temporary name
and renamed so a crash never leaves half a file under the final name.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path

import aiosqlite

from ladder.rating import Result
from ladder.replays import Refusal, ReplayEffect, ReplayFacts, ReplayRecord, facts_from_dict
from storage.database import Reader, format_time, parse_time
from storage.files import PRIVATE_FILE_MODE, make_private_dir

SUFFIX = ".SC2Replay"


def _replay(row: sqlite3.Row) -> ReplayRecord:
    return ReplayRecord(
        id=row["id"],
        match_id=row["match_id"],
        uploader=row["uploader"],
        sha256=row["sha256"],
        size=row["size"],
        facts=facts_from_dict(json.loads(row["facts"])),
        refusal=Refusal(row["reason"]) if row["reason"] else None,
        result=Result(row["result"]) if row["result"] else None,
        effect=ReplayEffect(row["effect"]),
        uploaded_at=parse_time(row["uploaded_at"]),
    )


_COLUMNS = "id, match_id, uploader, sha256, size, facts, reason, result, effect, uploaded_at"


class ReplayRepository:
    """Reads and writes `replays`."""

    async def add(
        self,
        conn: aiosqlite.Connection,
        *,
        match_id: int,
        uploader: int,
        sha256: str,
        size: int,
        facts: ReplayFacts,
        refusal: Refusal | None,
        result: Result | None,
        effect: ReplayEffect,
        now: datetime,
    ) -> int:
        """Store one replay's row; return its id (the UNIQUE sha256 refuses a second one)."""
        cursor = await conn.execute(
            "INSERT INTO replays (match_id, uploader, sha256, size, facts, verdict, reason,"
            " result, effect, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                match_id,
                uploader,
                sha256,
                size,
                json.dumps(facts.to_dict(), ensure_ascii=False),
                "verified" if refusal is None else "refused",
                None if refusal is None else refusal.value,
                None if result is None else result.value,
                effect.value,
                format_time(now),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def set_effect(self, conn: aiosqlite.Connection, replay_id: int, effect: str) -> None:
        await conn.execute("UPDATE replays SET effect = ? WHERE id = ?", (effect, replay_id))

    async def by_hash(self, conn: Reader, sha256: str) -> ReplayRecord | None:
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM replays WHERE sha256 = ?", (sha256,)
        ) as cursor:
            row = await cursor.fetchone()
        return _replay(row) if row else None

    async def get(self, conn: Reader, replay_id: int) -> ReplayRecord | None:
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM replays WHERE id = ?", (replay_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return _replay(row) if row else None

    async def of_match(self, conn: Reader, match_id: int) -> list[ReplayRecord]:
        """The match's replays, oldest first."""
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM replays WHERE match_id = ? ORDER BY id", (match_id,)
        ) as cursor:
            return [_replay(row) for row in await cursor.fetchall()]

    async def latest_match_of(self, conn: Reader, uid: int) -> int | None:
        """The player's match a replay is most likely for: his newest open one (in progress or
        disputed), else his newest one that started."""
        async with conn.execute(
            "SELECT id FROM matches WHERE (player1_uid = :uid OR player2_uid = :uid)"
            " AND started_at IS NOT NULL"
            " ORDER BY status IN ('in_progress', 'disputed') DESC, id DESC LIMIT 1",
            {"uid": uid},
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def resolve_dispute(
        self,
        conn: aiosqlite.Connection,
        match_id: int,
        result: Result | None,
        replay_id: int,
        now: datetime,
    ) -> bool:
        """Close the match's open dispute as decided by the replay (no admin: ruled_by NULL)."""
        cursor = await conn.execute(
            "UPDATE disputes SET status = 'resolved', ruling = ?, ruled_at = ?, reason = ?"
            " WHERE match_id = ? AND status = 'open'",
            (
                None if result is None else result.value,
                format_time(now),
                f"decided by replay #{replay_id}",
                match_id,
            ),
        )
        return cursor.rowcount > 0

    async def dispute_open(self, conn: Reader, match_id: int) -> bool:
        """True if the match has a dispute still waiting for a ruling."""
        async with conn.execute(
            "SELECT 1 FROM disputes WHERE match_id = ? AND status = 'open'", (match_id,)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def verdicts(self, conn: Reader) -> Counter[str]:
        """How many replays verified ('verified') and how many each refusal reason refused."""
        async with conn.execute(
            "SELECT coalesce(reason, 'verified'), count(*) FROM replays GROUP BY 1"
        ) as cursor:
            return Counter({row[0]: row[1] for row in await cursor.fetchall()})


class ReplayFiles:
    """Replay files kept as `<folder>/<sha256>.SC2Replay`, 0600."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a hex SHA-256")
        return self.folder / f"{sha256}{SUFFIX}"

    def save(self, sha256: str, data: bytes) -> Path:
        """Write the file (once: an existing file of this hash is the same content)."""
        target = self.path(sha256)
        if target.exists():
            return target
        make_private_dir(self.folder)
        temp = self.folder / f".{sha256}.{os.getpid()}.part"
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(temp, flags, PRIVATE_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return target
