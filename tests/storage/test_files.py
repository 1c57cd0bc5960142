"""Private files and folders, and SQLite giving its own files the database file's mode."""

import os
import sqlite3
import stat
from pathlib import Path

import aiosqlite
import pytest

from storage.files import create_private_file, database_file_kind, make_private_dir


@pytest.fixture
def umask():
    """Run the test under umask 022 (the usual default, which made every file 0644); the test
    may set another; the process's umask is restored after."""
    previous = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def sidecars(db):
    return {suffix: mode(f"{db}{suffix}") for suffix in ("", "-wal", "-shm")}


def test_a_new_file_is_0600_where_open_would_make_it_0644(tmp_path, umask):
    with open(tmp_path / "plain", "w"):
        pass
    assert mode(tmp_path / "plain") == 0o644
    assert create_private_file(tmp_path / "private") is True
    assert mode(tmp_path / "private") == 0o600
    assert (tmp_path / "private").read_bytes() == b""


def test_an_existing_file_keeps_its_mode_and_contents(tmp_path, umask):
    path = tmp_path / "ladder.db"
    path.write_bytes(b"the host's data")
    path.chmod(0o640)
    assert create_private_file(path) is False
    assert mode(path) == 0o640
    assert path.read_bytes() == b"the host's data"


@pytest.mark.parametrize(("mask", "expected"), [(0o077, 0o600), (0o177, 0o600), (0o277, 0o400)])
def test_a_stricter_umask_still_applies(tmp_path, umask, mask, expected):
    umask(mask)
    create_private_file(tmp_path / "f")
    assert mode(tmp_path / "f") == expected


def test_an_explicit_mode_is_masked_too(tmp_path, umask):
    create_private_file(tmp_path / "f", mode=0o644)
    assert mode(tmp_path / "f") == 0o644
    umask(0o077)
    create_private_file(tmp_path / "g", mode=0o644)
    assert mode(tmp_path / "g") == 0o600


def wal_modes(db):
    """Write to `db` in WAL mode; return the modes of it, its -wal and -shm while it is open."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert conn.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        conn.execute("CREATE TABLE t (x)")
        return sidecars(db)
    finally:
        conn.close()


def test_sqlite_gives_the_wal_and_shm_the_database_file_mode(tmp_path, umask):
    """The design rests on this: create the file 0600 and SQLite's own files follow."""
    assert wal_modes(tmp_path / "plain.db") == {"": 0o644, "-wal": 0o644, "-shm": 0o644}
    create_private_file(tmp_path / "private.db")
    assert wal_modes(tmp_path / "private.db") == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


def test_a_read_only_reader_creates_them_with_the_database_file_mode(tmp_path, umask):
    """`bot.py stats` and backups read with mode=ro; when the bot is stopped they create the
    missing -wal and -shm."""
    db = tmp_path / "ladder.db"
    create_private_file(db)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert not Path(f"{db}-wal").exists()
    reader = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
        assert sidecars(db) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        reader.close()


def test_sqlite_gives_the_rollback_journal_the_database_file_mode(tmp_path, umask):
    db = tmp_path / "ladder.db"
    create_private_file(db)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = PERSIST")  # the -journal stays after the commit
        conn.execute("CREATE TABLE t (x)")
        assert mode(f"{db}-journal") == 0o600
    finally:
        conn.close()


async def test_through_aiosqlite_as_the_bot_opens_it(tmp_path, umask):
    db = tmp_path / "ladder.db"
    create_private_file(db)
    conn = await aiosqlite.connect(db, isolation_level=None)
    try:
        async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
            assert await cursor.fetchone() == ("wal",)
        await conn.execute("CREATE TABLE t (x)")
        assert sidecars(db) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        await conn.close()


def test_missing_folders_are_created_0700_existing_ones_kept(tmp_path, umask):
    tmp_path.chmod(0o755)
    make_private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    assert mode(tmp_path) == 0o755
    (tmp_path / "shared").mkdir(mode=0o755)
    make_private_dir(tmp_path / "shared")
    make_private_dir(tmp_path / "shared" / "mine")
    assert (mode(tmp_path / "shared"), mode(tmp_path / "shared" / "mine")) == (0o755, 0o700)


def test_a_stricter_umask_applies_to_folders(tmp_path, umask):
    umask(0o277)
    make_private_dir(tmp_path / "a")
    assert mode(tmp_path / "a") == 0o500


def test_a_file_in_the_way_of_a_folder_is_an_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError):
        make_private_dir(tmp_path / "file")
    with pytest.raises(FileExistsError):
        make_private_dir(tmp_path / "file" / "sub")


def test_database_file_kind(tmp_path, monkeypatch):
    db = tmp_path / "data" / "ladder.db"
    db.parent.mkdir()
    (tmp_path / "link").symlink_to(db.parent, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    assert database_file_kind(db, db) == ""
    assert database_file_kind("data/ladder.db-wal", db) == "-wal"
    assert database_file_kind(tmp_path / "link" / "ladder.db-shm", db) == "-shm"
    assert database_file_kind(tmp_path / "data" / ".." / "data" / "ladder.db-journal", db) == (
        "-journal"
    )
    assert database_file_kind(tmp_path / "data" / "ladder.db-wal.bak", db) is None
    assert database_file_kind(tmp_path / "ladder.db-wal", db) is None
    assert database_file_kind(tmp_path / "data" / "copy.db", "link/ladder.db") is None
