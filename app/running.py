"""How the bot marks itself running: an exclusive lock on `<database>.running`.

`python bot.py` holds the lock (fcntl.flock) from start to exit; the operating system drops it
when the process ends, even on a crash or `kill -9`, so a stale marker can never block a host
command. Host commands that must not run beside the bot (`ratings replay`) take the same lock
without waiting and refuse if they cannot. The file itself holds the pid, for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class AlreadyRunningError(RuntimeError):
    """Another process holds the lock: the bot (or a host command) is running."""


class RunningLock:
    """An exclusive, non-blocking lock beside the database file."""

    def __init__(self, database_path: str | os.PathLike[str]) -> None:
        self.path = Path(f"{os.fspath(database_path)}.running")
        self._fd: int | None = None

    def acquire(self, what: str) -> None:
        """Take the lock, or raise AlreadyRunningError naming the pid that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunningError(
                f"the bot is running (pid {holder}, lock {self.path}); stop it before {what}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunningLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
