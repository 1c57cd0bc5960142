"""`bot.py backup` copies the replay files the copied database names, private, beside it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from app.backup import backup_sync, main
from storage.database import Database


async def _database_with_replays(tmp_path: Path, hashes: list[str]) -> Path:
    path = tmp_path / "ladder.db"
    db = await Database.open(path)
    try:
        t = "2026-01-01 00:00:00.000"
        await db.conn.execute(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (1, 'a', ?, ?), (2, 'b', ?, ?)",
            (t, t, t, t),
        )
        await db.conn.execute(
            "INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr,"
            " player2_uid, player2_race, player2_mmr, map, created_at, confirm_deadline)"
            " VALUES (1, 'in_progress', 1, 'sc2_zerg', 1500, 2, 'sc2_terran', 1500, 'Ever Dream',"
            " '2026-01-01 00:00:00.000', '2026-01-01 00:01:00.000')"
        )
        for sha256 in hashes:
            await db.conn.execute(
                "INSERT INTO replays (match_id, uploader, sha256, size, facts, verdict, reason,"
                " result, effect, uploaded_at) VALUES (1, 1, ?, 3, '{}', 'verified', NULL,"
                " 'p1_win', 'reported', '2026-01-01 00:00:00.000')",
                (sha256,),
            )
        await db.conn.commit()
    finally:
        await db.close()
    return path


async def test_the_backup_copies_the_named_replay_files_0600(tmp_path: Path) -> None:
    kept, lost = "a" * 64, "b" * 64
    db = await _database_with_replays(tmp_path, [kept, lost])
    folder = tmp_path / "replays"
    folder.mkdir()
    (folder / f"{kept}.SC2Replay").write_bytes(b"abc")
    (folder / f"{'c' * 64}.SC2Replay").write_bytes(b"not named by the database")
    result = backup_sync(db, tmp_path / "copy.db", replays=folder)
    assert (result.replays, result.replays_missing) == (1, 1)
    copied = tmp_path / "copy.db.replays"
    assert sorted(p.name for p in copied.iterdir()) == [f"{kept}.SC2Replay"]
    assert (copied / f"{kept}.SC2Replay").read_bytes() == b"abc"
    assert stat.S_IMODE(os.stat(copied / f"{kept}.SC2Replay").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(copied).st_mode) == 0o700


async def test_the_command_line_reports_the_replay_files(tmp_path: Path, capsys) -> None:
    kept = "d" * 64
    db = await _database_with_replays(tmp_path, [kept])
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / f"{kept}.SC2Replay").write_bytes(b"x")
    assert main([str(tmp_path / "out.db"), "--replays", str(folder)], db) == 0
    assert "Replay files: 1 copied" in capsys.readouterr().out
