"""Wait until a file is written to, woken by the kernel (Linux inotify), not by polling.

    with FileWatch(path) as watch:
        while not condition():
            await watch.written()   # returns after the next write(s) to `path`

The standard library has no inotify; libc's three calls are enough (ctypes). Writes between
two waits are not lost: the kernel queues their events until they are read.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
from pathlib import Path
from types import TracebackType

_libc = ctypes.CDLL(None, use_errno=True)
_IN_MODIFY = 0x00000002
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


class FileWatch:
    """An inotify watch for writes to one file (Linux)."""

    def __init__(self, path: Path) -> None:
        fd = _libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if _libc.inotify_add_watch(fd, os.fsencode(path), _IN_MODIFY) < 0:
            errno = ctypes.get_errno()
            os.close(fd)
            raise OSError(errno, f"cannot watch {path}")
        self._fd = fd

    async def written(self) -> None:
        """Return once `path` has been written to since the last call (or the watch began)."""
        if self._drain():
            return
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(self._fd, wake)
        try:
            await ready
        finally:
            loop.remove_reader(self._fd)
        self._drain()

    def _drain(self) -> bool:
        """Read the queued events; True if there were any."""
        got = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return got
            got = got or bool(data)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> FileWatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()
