"""`python bot.py backup`: a consistent, checked copy, taken while the bot keeps writing."""

import asyncio
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app import backup
from storage.database import BUSY_TIMEOUT_MS, Database

REPO_ROOT = Path(__file__).resolve().parents[2]

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


@pytest.fixture
def live_database(tmp_path):
    """A database in WAL mode whose last 7 committed rows are only in its -wal file, still open
    by another connection (as the running bot holds it): closing the last connection would
    checkpoint them into the database file."""
    path = asyncio.run(make_database(tmp_path / "ladder.db", rows=3))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("BEGIN")
    conn.executemany(ROW, ((i,) for i in range(7)))
    conn.execute("COMMIT")
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    try:
        yield path
    finally:
        conn.close()


def _own_file_destinations(path):
    """Ways to name the database's own files, each with the refusal it must get."""
    folder = path.parent
    (folder / "elsewhere").mkdir()
    (folder / "link-to-wal").symlink_to(f"{path.name}-wal")
    (folder / "link-to-folder").symlink_to(folder, target_is_directory=True)
    os.link(f"{path}-wal", folder / "hard-link-to-wal")
    wal = "is the database's own -wal file"
    return {
        path: "is the database itself",
        Path(f"{path}-wal"): wal,
        Path(f"{path}-shm"): "is the database's own -shm file",
        Path(f"{path}-journal"): "is the database's own -journal file",  # absent in WAL mode
        folder / "elsewhere" / ".." / f"{path.name}-wal": wal,
        Path(os.path.relpath(f"{path}-wal")): wal,
        folder / "link-to-wal": wal,
        folder / "link-to-folder" / f"{path.name}-wal": wal,
        folder / "hard-link-to-wal": wal,
    }


@pytest.mark.parametrize("force", [False, True])
def test_the_database_own_files_are_refused(live_database, force):
    """`backup --force` onto the live -wal replaced it; after a kill the committed rows in it
    were gone. The database, its -wal, -shm and -journal are refused however they are named."""
    path = live_database
    before = {p: p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))}
    for dest, refusal in _own_file_destinations(path).items():
        with pytest.raises(backup.BackupError, match=re.escape(f"{dest} {refusal}")):
            backup.backup_sync(path, dest, force=force)
        assert {p: p.read_bytes() for p in before} == before, dest
    assert not Path(f"{path}-journal").exists()
    assert [p.name for p in path.parent.iterdir() if ".partial-" in p.name] == []
    assert count(path) == 10


def test_a_folder_whose_new_file_would_be_the_wal_is_refused(live_database, monkeypatch):
    path = live_database
    wal = Path(f"{path}-wal")
    before = wal.read_bytes()
    monkeypatch.setattr(backup, "_file_name_in_folder", lambda: wal.name)
    with pytest.raises(backup.BackupError, match="is the database's own -wal file"):
        backup.backup_sync(path, path.parent, force=True)
    assert wal.read_bytes() == before
    assert count(path) == 10


def test_the_database_through_a_symlink_is_refused(tmp_path):
    """The database opened through a symlink: its files are the target's."""
    real = asyncio.run(make_database(tmp_path / "real" / "ladder.db", rows=3))
    (tmp_path / "ladder.db").symlink_to(real)
    refusals = {
        real: "is the database itself",
        Path(f"{real}-wal"): "is the database's own -wal file",
        tmp_path / "ladder.db-wal": "is the database's own -wal file",
    }
    for dest, refusal in refusals.items():
        with pytest.raises(backup.BackupError, match=refusal):
            backup.backup_sync(tmp_path / "ladder.db", dest, force=True)
    assert count(real) == 3


HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint = 0")
conn.execute("BEGIN")
conn.executemany(sys.argv[2], ((i,) for i in range(500)))
conn.execute("COMMIT")
print("committed", flush=True)
sys.stdin.read()  # parked, connection open, until the test kills it
"""


def test_backup_onto_the_live_wal_through_bot_py_keeps_the_data(tmp_path):
    """The reported case end to end: a process commits rows that are still only in the -wal,
    `python bot.py backup --force` targets that -wal, then the process is killed."""
    path = asyncio.run(make_database(tmp_path / "ladder.db", rows=3))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), ROW],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "committed"
        done = subprocess.run(
            [sys.executable, "bot.py", "backup", "--db", str(path), f"{path}-wal", "--force"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
        holder.stdin.close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{path}-wal is the database's own -wal file" in done.stderr
    assert done.stdout == ""
    assert count(path) == 503


@pytest.fixture
def umask_022():
    """The usual default umask, under which the copy used to be 0644 (world-readable)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_copy_is_private_from_the_start(tmp_path, umask_022, monkeypatch):
    path = asyncio.run(make_database(tmp_path / "ladder.db", rows=3))
    partial_modes = []
    check_copy = backup._integrity

    def spy(conn, quick=False):
        # The copy holds every row already: it must not be readable by others even now.
        partial_modes.extend(mode(p) for p in tmp_path.iterdir() if ".partial-" in p.name)
        return check_copy(conn, quick)

    monkeypatch.setattr(backup, "_integrity", spy)
    result = backup.backup_sync(path, tmp_path / "copy.db")
    assert mode(result.dest) == 0o600
    assert partial_modes and set(partial_modes) == {0o600}  # the copy and its -journal
    (tmp_path / "backups").mkdir()
    assert mode(backup.backup_sync(path, tmp_path / "backups").dest) == 0o600


def test_a_replaced_copy_keeps_the_mode_the_host_gave_it(tmp_path, umask_022):
    path = asyncio.run(make_database(tmp_path / "ladder.db", rows=3))
    dest = tmp_path / "copy.db"
    dest.write_bytes(b"older copy")
    dest.chmod(0o640)
    backup.backup_sync(path, dest, force=True)
    assert mode(dest) == 0o640
    assert check(dest) == (3, 3)
