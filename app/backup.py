"""`python bot.py backup PATH`: a consistent copy of the database, safe while the bot runs.

    python bot.py backup PATH [--force] [--quick] [--db PATH]

It uses SQLite's online backup API (`sqlite3.Connection.backup`) from a read-only connection,
copying every page in one step: that step reads one snapshot, so the copy is exactly the
database as of one moment, whatever the bot commits meanwhile (in WAL mode the reader does not
block the bot's writer, nor the writer the reader). A backup taken in several steps would
restart whenever another connection writes, and might never finish on a busy bot.

The copy is written next to PATH under a temporary name, switched to rollback-journal mode
(one self-contained file, no -wal/-shm), checked with `PRAGMA integrity_check` (`--quick`:
`quick_check`, which skips matching indexes to tables: seconds instead of minutes on a
multi-GB file), synced to disk, and only then renamed to PATH. A failed backup leaves nothing
behind, and an existing PATH is kept unless `--force` is given. If PATH is a folder, the copy is
named `ladder-YYYYMMDD-HHMMSS.db` inside it (UTC). PATH is refused, even with `--force`, when it
is the database itself or its -wal, -shm or -journal file, however it is spelt (symlinks, `..`):
replacing the live -wal would lose every transaction not yet checkpointed. A new copy is 0600
(less the umask): it holds every player's data; a file replaced with `--force` keeps its mode.

Replay files (`--replays FOLDER`, default `replays` beside the database): every file the copy's
`replays` table names is copied into `PATH.replays/` (0700, files 0600). They are named by their
SHA-256 and never change, so the files the snapshot names are the ones it needs; a file missing
from the folder is counted and reported, not fatal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sqlite3
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.files import (
    PRIVATE_FILE_MODE,
    create_private_file,
    database_file_kind,
    make_private_dir,
)


class BackupError(Exception):
    """The backup was not made; the message is one line for the host."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    source: Path
    dest: Path
    bytes: int  # size of the copy
    pages: int
    schema_version: int  # PRAGMA user_version of the copy
    integrity: str  # what PRAGMA integrity_check (or quick_check) said: 'ok'
    seconds: float
    replays: int = 0  # replay files copied beside the copy
    replays_missing: int = 0  # named by the copy's replays table but not in the folder


def backup_sync(
    db_path: str | Path,
    dest_path: str | Path,
    *,
    force: bool = False,
    quick: bool = False,
    replays: str | Path | None = None,
) -> BackupResult:
    """Copy the database at `db_path` to `dest_path` (see the module docstring); blocking.

    `quick` checks the copy with PRAGMA quick_check instead of integrity_check: it skips
    matching every index against its table, which is most of the time on a big database.
    """
    started = time.perf_counter()
    source = Path(db_path)
    dest = Path(dest_path)
    if dest.is_dir():
        dest = dest / _file_name_in_folder()
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    # Replacing the live -wal loses every transaction not yet checkpointed into the database
    # (and can leave it unreadable); replacing the -shm or a hot -journal corrupts it.
    try:
        kind = database_file_kind(dest, source)
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise BackupError(f"cannot resolve {dest}: {exc}") from exc
    if kind == "":
        raise BackupError(f"{dest} is the database itself")
    if kind is not None:
        raise BackupError(
            f"{dest} is the database's own {kind} file, which SQLite keeps beside it: "
            "choose another file name or a folder"
        )
    mode = PRIVATE_FILE_MODE  # the copy holds every player's data
    if dest.exists():
        if not force:
            raise BackupError(f"{dest} already exists (use --force to replace it)")
        if not dest.is_file():
            raise BackupError(f"{dest} is not a file")
        mode = stat.S_IMODE(dest.stat().st_mode)  # a file the host has keeps its mode
    if not dest.parent.is_dir():
        raise BackupError(f"no folder {dest.parent}")

    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    _remove(partial)
    try:
        # Created with its final mode before SQLite writes a page (its -journal follows it).
        create_private_file(partial, mode)
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30.0)
        try:
            copy = sqlite3.connect(partial, isolation_level=None)
            try:
                src.backup(copy)  # pages=-1: all pages in one step, from one snapshot
                # The copy carries the WAL flag of the source: make it one self-contained file.
                copy.execute("PRAGMA journal_mode = DELETE")
                integrity = _integrity(copy, quick)
                version = copy.execute("PRAGMA user_version").fetchone()[0]
                pages = copy.execute("PRAGMA page_count").fetchone()[0]
            finally:
                copy.close()
        finally:
            src.close()
        if integrity != "ok":
            check = "quick_check" if quick else "integrity_check"
            raise BackupError(f"the copy failed PRAGMA {check}: {integrity[:500]}")
        _fsync(partial)
        os.replace(partial, dest)
        _fsync_folder(dest.parent)
        copied, missing = _copy_replays(dest, Path(replays)) if replays else (0, 0)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source} to {dest}: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"cannot write {dest}: {exc}") from exc
    finally:
        _remove(partial)
        for suffix in ("-journal", "-wal", "-shm"):
            _remove(partial.with_name(partial.name + suffix))
    return BackupResult(
        source=source,
        dest=dest,
        bytes=dest.stat().st_size,
        pages=pages,
        schema_version=version,
        integrity=integrity,
        seconds=time.perf_counter() - started,
        replays=copied,
        replays_missing=missing,
    )


async def backup(
    db_path: str | Path, dest_path: str | Path, *, force: bool = False, quick: bool = False
) -> BackupResult:
    """Like `backup_sync`, on a worker thread: the event loop keeps running while it copies."""
    return await asyncio.to_thread(backup_sync, db_path, dest_path, force=force, quick=quick)


def _copy_replays(copy: Path, folder: Path) -> tuple[int, int]:
    """Copy the replay files the copy's `replays` table names into `<copy>.replays/`; return
    (copied, missing)."""
    conn = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'replays'").fetchone()
        hashes = [r[0] for r in conn.execute("SELECT sha256 FROM replays")] if has else []
    finally:
        conn.close()
    if not hashes:
        return 0, 0
    target = copy.with_name(copy.name + ".replays")
    make_private_dir(target)
    copied = missing = 0
    for sha256 in hashes:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            missing += 1
            continue
        name = f"{sha256}.SC2Replay"
        source = folder / name
        if not source.is_file():
            missing += 1
            continue
        dest = target / name
        _remove(dest)
        create_private_file(dest)
        with open(source, "rb") as src, open(dest, "r+b") as out:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        copied += 1
    _fsync_folder(target)
    return copied, missing


def _file_name_in_folder() -> str:
    """The copy's name when PATH is a folder: the UTC time, so backups sort by age."""
    return datetime.now(UTC).strftime("ladder-%Y%m%d-%H%M%S.db")


def _integrity(conn: sqlite3.Connection, quick: bool = False) -> str:
    """What PRAGMA integrity_check (or quick_check) says: 'ok', or the problems, one a line."""
    pragma = "quick_check" if quick else "integrity_check"
    return "\n".join(row[0] for row in conn.execute(f"PRAGMA {pragma}"))


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(path: Path) -> None:
    """Make the rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py backup",
        description="Copy the database with SQLite's online backup API (safe while the bot "
        "runs); the copy is checked with PRAGMA integrity_check.",
    )
    parser.add_argument(
        "dest", type=Path, help="the copy's file name, or a folder for ladder-<UTC time>.db"
    )
    parser.add_argument("--force", action="store_true", help="replace DEST if it exists")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="check the copy with PRAGMA quick_check (much faster on a big database)",
    )
    parser.add_argument("--db", type=Path, help="the SQLite file (default: DATABASE_PATH)")
    parser.add_argument(
        "--replays",
        type=Path,
        help="the replay folder (replay.folder in data/ladder.toml; default: replays beside the "
        "database): the files the copy names go to DEST.replays/",
    )
    return parser


def main(argv: Sequence[str], db_path: Path) -> int:
    """Run `backup` with these arguments; return the exit status (0 done, 1 failed, 2 usage)."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        result = backup_sync(
            args.db or db_path,
            args.dest,
            force=args.force,
            quick=args.quick,
            replays=args.replays or Path(args.db or db_path).parent / "replays",
        )
    except BackupError as exc:
        print(f"ladderbot backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"Backed up {result.source} to {result.dest}: {result.bytes / 1e6:,.1f} MB, "
        f"schema version {result.schema_version}, integrity {result.integrity}, "
        f"in {result.seconds:.1f} s"
    )
    if result.replays or result.replays_missing:
        print(
            f"Replay files: {result.replays} copied to {result.dest}.replays/"
            + (
                f", {result.replays_missing} missing from the folder"
                if result.replays_missing
                else ""
            )
        )
    return 0
