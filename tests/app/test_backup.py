"""`python bot.py backup`: a consistent, checked copy, taken while the bot keeps writing."""

import asyncio
import sqlite3
import threading

import pytest

from app import backup
from storage.database import BUSY_TIMEOUT_MS, Database

BATCH = 100  # rows per writer transaction: a consistent copy holds whole batches only
ROW = (
    "INSERT INTO command_calls (called_ms, discord_uid, player_name, command, duration_ms,"
    " outcome) VALUES (1772323200000, ?, 'some player name', 'queue', 12.5, 'ok')"
)


async def make_database(path, rows=20_000):
    db = await Database.open(path)
    await db.close()
    with sqlite3.connect(path) as conn:
        conn.executemany(ROW, ((i,) for i in range(rows)))
    return path


def count(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM command_calls").fetchone()[0]


def check(path):
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return conn.execute("SELECT count(*), max(id) FROM command_calls").fetchone()
    finally:
        conn.close()


def files(folder):
    """The files in folder, less the source's -wal and -shm: a read-only reader of a WAL
    database creates them when they are missing (empty) and cannot remove them."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("ladder.db-"))


class Writer(threading.Thread):
    """Inserts command_calls rows in transactions of BATCH rows until stopped, like the bot."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.writing = threading.Event()  # set once a few batches are committed
        self.batches = 0
        self.error = None

    def run(self):
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(ROW, ((i,) for i in range(BATCH)))
                conn.execute("COMMIT")
                self.batches += 1
                if self.batches == 5:
                    self.writing.set()
        except Exception as exc:  # reported by the test
            self.error = exc
        finally:
            conn.close()


async def test_backup_while_another_thread_keeps_inserting(tmp_path):
    path = await make_database(tmp_path / "ladder.db")
    writer = Writer(path)
    writer.start()
    try:
        await asyncio.to_thread(writer.writing.wait)  # really writing before the copy starts
        at_start = count(path)
        result = await backup.backup(path, tmp_path / "copy.db")
        batches_during = writer.batches
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    rows, last_id = check(tmp_path / "copy.db")
    assert rows >= at_start
    assert rows <= count(path)
    assert rows % BATCH == 0 and last_id == rows  # whole transactions only: one snapshot
    assert result.integrity == "ok"
    assert result.dest == tmp_path / "copy.db"
    assert result.schema_version == (await _version(path))
    assert result.bytes == (tmp_path / "copy.db").stat().st_size
    assert batches_during >= 5


async def _version(path):
    db = await Database.open(path)
    try:
        return await db.schema_version()
    finally:
        await db.close()


async def test_backup_while_the_bot_connection_writes(tmp_path):
    """The bot's own aiosqlite connection keeps committing on the loop during the copy."""
    path = await make_database(tmp_path / "ladder.db")
    db = await Database.open(path)
    stop = asyncio.Event()

    async def bot_writes():
        while not stop.is_set():
            async with db.transaction() as conn:
                await conn.executemany(ROW, ((i,) for i in range(BATCH)))
            await asyncio.sleep(0)

    task = asyncio.create_task(bot_writes())
    try:
        await asyncio.sleep(0.05)
        at_start = (await db.fetchone("SELECT count(*) FROM command_calls"))[0]
        await backup.backup(path, tmp_path / "copy.db")
    finally:
        stop.set()
        await task
        await db.close()
    rows, _ = check(tmp_path / "copy.db")
    assert at_start <= rows <= count(path)
    assert rows % BATCH == 0


async def test_the_copy_is_one_self_contained_file(tmp_path):
    path = await make_database(tmp_path / "ladder.db", rows=10)
    result = backup.backup_sync(path, tmp_path / "copy.db")
    assert files(tmp_path) == ["copy.db", "ladder.db"]
    with sqlite3.connect(result.dest) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM command_calls").fetchone()[0] == 10
    # And a Database opens it as it is (a restore is copying it back).
    db = await Database.open(result.dest)
    try:
        assert await db.schema_version() == result.schema_version
    finally:
        await db.close()


async def test_an_existing_file_is_kept_unless_forced(tmp_path):
    path = await make_database(tmp_path / "ladder.db", rows=10)
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"precious")
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup_sync(path, dest)
    assert dest.read_bytes() == b"precious"
    backup.backup_sync(path, dest, force=True)
    assert check(dest) == (10, 10)


async def test_a_folder_gets_a_timestamped_file(tmp_path):
    path = await make_database(tmp_path / "ladder.db", rows=3)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = backup.backup_sync(path, folder)
    assert result.dest.parent == folder
    assert result.dest.name.startswith("ladder-") and result.dest.suffix == ".db"
    assert check(result.dest) == (3, 3)


async def test_refusals(tmp_path):
    path = await make_database(tmp_path / "ladder.db", rows=3)
    with pytest.raises(backup.BackupError, match="no database"):
        backup.backup_sync(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(backup.BackupError, match="the database itself"):
        backup.backup_sync(path, path, force=True)
    with pytest.raises(backup.BackupError, match="no folder"):
        backup.backup_sync(path, tmp_path / "nope" / "copy.db")
    assert count(path) == 3


async def test_a_failed_integrity_check_leaves_nothing(tmp_path, monkeypatch):
    path = await make_database(tmp_path / "ladder.db", rows=3)
    monkeypatch.setattr(backup, "_integrity", lambda conn, quick: "Page 2: btree damaged")
    with pytest.raises(backup.BackupError, match="integrity_check: Page 2"):
        backup.backup_sync(path, tmp_path / "copy.db")
    assert files(tmp_path) == ["ladder.db"]


async def test_main(tmp_path, capsys):
    path = await make_database(tmp_path / "ladder.db", rows=5)
    assert backup.main([str(tmp_path / "a.db")], path) == 0
    assert "integrity ok" in capsys.readouterr().out
    assert backup.main([str(tmp_path / "a.db")], path) == 1
    assert "--force" in capsys.readouterr().err
    assert backup.main([str(tmp_path / "a.db"), "--force"], path) == 0
    assert backup.main([str(tmp_path / "b.db"), "--db", str(path)], tmp_path / "x.db") == 0
    assert check(tmp_path / "b.db") == (5, 5)
    assert backup.main([str(tmp_path / "c.db"), "--quick"], path) == 0
    assert check(tmp_path / "c.db") == (5, 5)
    assert backup.main([], path) == 2
