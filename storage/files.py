"""The files SQLite keeps beside a database, and refusing to write over them from elsewhere.

SQLite keeps up to three files beside the database: `-wal` (committed transactions not yet
copied into the database), `-shm` (the WAL's shared index) and `-journal` (rollback mode).
Anything else that writes a file at a path given by the host (a backup, a log file) must never
replace one of them: replacing the live `-wal` loses every transaction in it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DATABASE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def database_file_kind(path: str | Path, database: str | Path) -> str | None:
    """Which of `database`'s files `path` is: "", "-wal", "-shm", "-journal"; None if none.

    Paths are compared resolved, so `..`, relative paths and symlinks (to the file or to a
    folder on the way) cannot hide one; SQLite keeps its files beside the symlink's target, and
    the names beside the link are refused too. An existing `path` is also compared by inode,
    which catches hard links and case-insensitive file systems. A symlink loop raises OSError
    (RuntimeError before Python 3.13).
    """
    path = Path(path)
    database = Path(database)
    target = path.resolve()
    names = [
        (Path(f"{base}{suffix}").resolve(), suffix)
        for base in (database.absolute(), database.resolve())
        for suffix in DATABASE_FILE_SUFFIXES
    ]
    for name, suffix in names:
        if target == name:
            return suffix
    for name, suffix in names:
        with contextlib.suppress(OSError):
            if os.path.samefile(path, name):
                return suffix
    return None
