"""Files the bot writes: private to its user, and never one of the database's own files.

**Private.** The database, its WAL, the log and backups hold every player's data, so the files
the bot creates are 0600 and its folders 0700. SQLite gives the -wal, -shm and -journal files
the permissions of the database file, so creating the database file 0600 before SQLite opens it
keeps all four private. Only what the bot creates is affected: an existing file or folder keeps
the mode the host gave it, and the umask still applies (a stricter umask wins).

**Not the database's own files.** SQLite keeps up to three files beside the database: `-wal`
(committed transactions not yet copied into the database), `-shm` (the WAL's shared index) and
`-journal` (rollback mode). Anything else that writes a file at a path given by the host (a
backup, a log file) must never replace one of them: replacing the live `-wal` loses every
transaction in it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DATABASE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")
PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def create_private_file(path: str | Path, mode: int = PRIVATE_FILE_MODE) -> bool:
    """Create `path` empty with `mode` (less the umask) if it does not exist; True if created.

    O_EXCL: an existing file is left exactly as it is, mode included (the host's choice), and
    the file is never created with a wider mode first and narrowed after.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def make_private_dir(path: str | Path) -> None:
    """Create the folder and its missing parents, each 0700 (less the umask).

    Folders that exist keep their mode. (`Path.mkdir(parents=True, mode=...)` gives the mode
    to the last folder only; the parents it creates would be 0755.)
    """
    path = Path(path)
    if path.is_dir():
        return
    if path.parent != path:
        make_private_dir(path.parent)
    try:
        path.mkdir(mode=PRIVATE_FOLDER_MODE)
    except FileExistsError:  # created meanwhile by another process, or not a folder
        if not path.is_dir():
            raise


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
