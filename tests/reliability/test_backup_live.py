"""Backups of the live database while commands are being written.

flood_driver.py runs bot.serve() with the real writer and player writes in a separate process,
as the bot runs in production; meanwhile this process takes backups with app.backup (the API,
and `python bot.py backup` as a host would). Every copy must pass integrity_check, be one
self-contained file (no -wal), open with plain sqlite3 and with the bot's Database.open, and
hold a consistent moment: no half-applied player write, whole command_calls batches only up to
what the live file had. The bot must not notice: no failed log batch, nothing lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app import backup
from storage.database import Database, migrations
from tests.reliability.processes import (
    REPO_ROOT,
    FloodProcess,
    integrity,
    logged_ids,
    torn_player_writes,
)

pytestmark = pytest.mark.e2e

COPIES = 4


def copy_facts(path: Path) -> tuple[int, str, int]:
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return (
            conn.execute("SELECT count(*) FROM command_calls").fetchone()[0],
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
        )


async def opens_with_the_bot(path: Path) -> int:
    db = await Database.open(path)
    try:
        return (await db.fetchone("SELECT count(*) FROM players"))[0]
    finally:
        await db.close()


def test_backups_of_a_busy_live_database_are_whole_and_consistent(tmp_path: Path) -> None:
    live = tmp_path / "live" / "ladder.db"
    # No fixed number of commands: the flood runs until stopped, so it outlasts the backups
    # however fast it is (20,000 commands once did; now they take ~1 s, less than one backup).
    # A few workers: the point is backups beside steady writes, not this process's own write
    # lock under an unthrottled flood (50 workers queue player writes past its 1 s wait).
    flood = FloodProcess(live, tmp_path / "flood", workers=8).start()
    copies: list[Path] = []
    try:
        flood.wait_for(lambda p: p["writer_written"] >= 2_000, "2,000 rows written")
        for n in range(COPIES):
            dest = tmp_path / "backups" / f"copy{n}.db"
            dest.parent.mkdir(exist_ok=True)
            if n % 2 == 0:
                result = backup.backup_sync(live, dest)
                assert result.integrity == "ok" and result.schema_version == len(migrations())
            else:  # the host's way: a separate process, as docs/operations.md shows
                done = subprocess.run(
                    [sys.executable, "bot.py", "backup", "--db", str(live), str(dest)],
                    cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
                )  # fmt: skip
                assert done.returncode == 0, done.stdout + done.stderr
                assert "integrity ok" in done.stdout, done.stdout
            copies.append(dest)
            during = flood.progress()
            assert during is not None and during["writer_written"] > 0
        # Still writing after the last backup: rows land that the last copy cannot have.
        last = flood.wait_for(lambda p: p["writer_written"] > 0, "progress")["writer_written"]
        flood.wait_for(lambda p: p["writer_written"] >= last + 1_000, "1,000 more rows")
        assert flood.stop(signal.SIGTERM) == 0, flood.log_tail()
    finally:
        flood.kill()

    report = flood.report()
    assert report["writer_failed_batches"] == 0, "a backup blocked the bot's writes"
    assert (report["writer_lost"], report["writer_dropped"]) == (0, 0)
    final = len(logged_ids(live))
    assert final == report["recorded"]

    counts = []
    for copy in copies:
        assert not copy.with_name(copy.name + "-wal").exists()
        assert integrity(copy) == ("ok", [])
        rows, journal, version = copy_facts(copy)
        assert (journal, version) == ("delete", len(migrations()))
        assert torn_player_writes(copy) == []
        counts.append(rows)
        restored = copy.with_name(copy.stem + "-restored.db")
        shutil.copy(copy, restored)
        assert asyncio.run(opens_with_the_bot(restored)) > 0
    assert counts == sorted(counts) and counts[0] > 0
    assert counts[-1] < final, "the flood should still be writing after the last backup"
    print(f"\n{COPIES} backups while {report['recorded']:,} commands were logged: rows in the "
          f"copies {counts}, live at the end {final:,}, failed log batches 0")  # fmt: skip
