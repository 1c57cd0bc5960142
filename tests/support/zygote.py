"""Start `python bot.py` for the tests without paying its imports every time: a fork server.

An e2e test starts the real bot program as a process of its own, and most of a start's CPU
(~0.7 of ~0.8 s here) is Python importing nextcord, aiohttp, Jinja2, Babel, asyncpg and our
modules. With several hundred starts a run, that was a good share of the suite on 2 cores. So
each test process keeps one zygote: a Python that has imported `bot` (and so everything it
imports) and nothing else — no event loop, no thread, no connection — and forks a child for each
start. The child sets its own environment, working folder, stdin and log file, resets the
signals, and runs `bot.py` as `__main__`, as `python bot.py` would; the imports are already done.

What stays the same: the bot's code, its process (own pid, signals, exit status, log file), its
settings read from the environment at start. What differs: the interpreter was started once with
`-u -B` (what the harness sets anyway), and `sys.executable`'s start-up is not re-run. The
tests about starting itself (tests/e2e/test_lifecycle.py, the busy port, the smoke test's
`exec` run) still run `python bot.py`. `LADDERBOT_TEST_FORK=0` makes every test start an exec
again; the benchmarks (bench/), which use the same harness, always exec.

Protocol on the zygote's Unix socket, one connection per child: the client sends one line of
JSON {argv, env, cwd} with one file descriptor (the log file, for stdout and stderr); the
zygote answers "pid N\n", and when the child ends "exit N\n" (N as asyncio's returncode: the
negative signal number if a signal ended it) and closes the connection.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
BOT_SCRIPT = REPO_ROOT / "bot.py"
_MAX_REQUEST = 1 << 20
FORK_ENV = "LADDERBOT_TEST_FORK"
# Modules a started bot imports beyond `import bot` (sys.modules after a run, less before): the
# zygote imports them too. One missing costs each start its compile, nothing else.
PRELOADED = (
    "concurrent.futures.thread", "encodings.idna", "jinja2.ext", "pprint", "uvloop",
    "web.charts", "web.dashboard", "web.dashboard_charts", "web.public", "web.seasons",
)  # fmt: skip


# --- the client (the test process) ------------------------------------------------------------


class ForkedBot:
    """A bot process forked by the zygote: the part of asyncio's Process the harness uses."""

    def __init__(self, pid: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                 ) -> None:  # fmt: skip
        self.pid = pid
        self.returncode: int | None = None
        self._reader = reader
        self._writer = writer
        self._ended = asyncio.ensure_future(self._read_exit())

    async def _read_exit(self) -> int:
        line = await self._reader.readline()
        self._writer.close()
        if not line.startswith(b"exit "):
            raise RuntimeError(f"the zygote went away while bot {self.pid} ran")
        self.returncode = int(line.split()[1])
        return self.returncode

    async def wait(self) -> int:
        return await asyncio.shield(self._ended)

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The fork server of this test process (started on first use, stopped at exit)."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="ladderbot-zygote-")
        self.path = Path(self._folder.name) / "socket"
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-B", "-m", "tests.support.zygote", str(self.path)],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        # Its stdin stays open while this process lives: at EOF (this process gone, even
        # killed) the zygote exits, so no fork server outlives its test run.
        assert self._proc.stdout is not None
        ready = self._proc.stdout.readline()  # after its imports
        if ready.strip() != b"ready":
            raise RuntimeError(f"the bot zygote did not start: {ready!r}")

    async def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, log: IO[bytes]
                    ) -> ForkedBot:  # fmt: skip
        request = json.dumps({"argv": argv, "env": env, "cwd": str(cwd)}).encode() + b"\n"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Blocking, but a local socket's connect and a small first message are done at once.
            sock.connect(str(self.path))
            socket.send_fds(sock, [request], [log.fileno()])
        except BaseException:
            sock.close()
            raise
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        line = await reader.readline()
        if not line.startswith(b"pid "):
            writer.close()
            raise RuntimeError(f"the bot zygote refused to fork: {line!r}")
        return ForkedBot(int(line.split()[1]), reader, writer)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()  # EOF: it exits
        self._proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(10)
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.wait()
        self._folder.cleanup()


_zygote: Zygote | None = None


def forking() -> bool:
    """Whether BotProcess forks from the zygote: in the tests (tests/conftest.py sets
    LADDERBOT_TEST_FORK=1 unless it is set), not in the benchmarks, which exec as production."""
    return os.environ.get(FORK_ENV) == "1"


def zygote() -> Zygote:
    """This process's zygote (started now if it is not yet)."""
    global _zygote
    if _zygote is None:
        _zygote = Zygote()
        atexit.register(stop_zygote)
    return _zygote


def stop_zygote() -> None:
    global _zygote
    if _zygote is not None:
        _zygote.close()
        _zygote = None


# --- the zygote ---------------------------------------------------------------------------------


def _child(request: dict, log_fd: int) -> None:
    """In the forked child: become `python bot.py` with the request's settings. Never returns."""
    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        stdin_fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin_fd, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(stdin_fd)
        os.close(log_fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = [str(BOT_SCRIPT), *request["argv"]]
        sys.path[0] = str(BOT_SCRIPT.parent)
        import runpy

        try:
            runpy.run_path(str(BOT_SCRIPT), run_name="__main__")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        import logging

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _serve(path: str) -> None:
    import gc

    import bot  # noqa: F401 - the point: everything the bot imports, imported once, here

    # And what a running bot imports only as it starts (its event loop, the website's pages):
    # else every child compiles these again (the tests run with -B: no bytecode cache).
    for name in PRELOADED:
        importlib.import_module(name)
    from i18n import LOCALES, catalog

    for language in LOCALES:  # the translations, parsed once (read-only, as the files are)
        catalog(language)

    gc.collect()
    gc.freeze()  # the children share these pages; the collector leaves them alone
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    children: dict[int, socket.socket] = {}
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "signal")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "signal":
                os.read(wake_r, 4096)
                _reap(children)
            elif key.data == "parent":
                if not os.read(sys.stdin.fileno(), 4096):  # the test process is gone
                    return
            else:
                conn, _ = listener.accept()
                _fork(conn, listener, children, (wake_r, wake_w))


def _fork(conn: socket.socket, listener: socket.socket, children: dict[int, socket.socket],
          pipe: tuple[int, int]) -> None:  # fmt: skip
    try:
        data, fds, _flags, _addr = socket.recv_fds(conn, _MAX_REQUEST, 1)
        request = json.loads(data)
        if len(fds) != 1:
            raise ValueError("one file descriptor (the log) expected")
    except (OSError, ValueError) as exc:
        with contextlib.suppress(OSError):
            conn.sendall(f"error {exc}\n".encode())
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.close()
        for sock in children.values():
            sock.close()
        for fd in pipe:
            os.close(fd)
        _child(request, fds[0])  # its stdin becomes /dev/null there
    for fd in fds:
        os.close(fd)
    children[pid] = conn
    conn.sendall(f"pid {pid}\n".encode())


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


if __name__ == "__main__":
    _serve(sys.argv[1])
