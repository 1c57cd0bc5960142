"""A real PostgreSQL for the tests: one throw-away server per test run, shared by its xdist workers.

The server binaries come from the machine image (`.ci/run` installs them when missing). The
server runs as the `postgres` user when the tests run as root (PostgreSQL refuses root), from a
temporary data directory, on a free port of 127.0.0.1 and a socket in a temporary folder, with
fsync off (the data is thrown away). It is stopped when the session ends, also when tests fail;
an atexit hook stops it if the session itself ends abruptly, and the next session stops the
servers of sessions that were killed (each server's folder names its owner's pid).

Each test gets a fresh database, made by `CREATE DATABASE ... TEMPLATE`: the template is migrated
once per server, so a test never pays for the migrations.

Sharing (`shared_server`): tests/conftest.py names the run (its controlling process's pid, in
SESSION_ENV) before xdist starts its workers. The first worker that needs PostgreSQL starts the
server under a file lock and writes where it is into the run's folder; the others read it. Each
worker's databases have their own names (its pid), so workers never touch each other's. The
controlling process stops the server when the run ends (`stop_shared_server`); if it is killed,
the next run stops the orphan. Starting one server instead of one per worker saves an initdb, a
start and the template's migrations per worker (several seconds each on a busy machine).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import glob
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"  # Debian's versioned folders
TEMPLATE = "ladder_template"
SESSION_ENV = "LADDER_TEST_PG_SESSION"  # the test run's id (its controlling process's pid)
SESSION_PREFIX = "ladder-pg-session-"
_NAMES = itertools.count()


def pg_binary(name: str) -> str | None:
    """The path of a server binary (initdb, pg_ctl): on PATH, else Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob(PG_BIN_GLOB), reverse=True):  # the newest first
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running throw-away server; `url(name)` is a database's DSN on 127.0.0.1."""

    root: Path
    port: int
    pg_ctl: str
    user_prefix: list[str]
    stopped: bool = False
    shared_dir: Path | None = None  # the run's folder when workers share this server

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database_name(self) -> str:
        # One count per process: a process may hold several objects for the one shared server.
        return f"t{os.getpid()}_{next(_NAMES)}"

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        subprocess.run(
            [*self.user_prefix, self.pg_ctl, "stop", "-D", str(self.data_dir), "-m", "immediate"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_orphans(pg_ctl: str, user_prefix: list[str]) -> None:
    """Stop the servers of test sessions that died without stopping theirs (kill -9)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SESSION_PREFIX}*"):
        with contextlib.suppress(OSError, ValueError):
            if not _alive(int(folder.name.removeprefix(SESSION_PREFIX))):
                shutil.rmtree(folder, ignore_errors=True)  # its server is stopped below
    for owner in Path(tempfile.gettempdir()).glob("ladder-pg-*/owner"):
        with contextlib.suppress(OSError, ValueError):
            if _alive(int(owner.read_text())):
                continue
            root = owner.parent
            subprocess.run(
                [*user_prefix, pg_ctl, "stop", "-D", str(root / "data"), "-m", "immediate"],
                check=False,
                capture_output=True,
            )
            shutil.rmtree(root, ignore_errors=True)


def start_server(owner: int | None = None, max_connections: int = 200) -> PostgresServer:
    """initdb a temporary cluster and start it on a free loopback port; raise if impossible.

    `owner`: the pid whose death makes it an orphan (this process by default); the server is
    then also stopped when this process exits."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install -y postgresql"
        )
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    stop_orphans(pg_ctl, as_postgres)
    root = Path(tempfile.mkdtemp(prefix="ladder-pg-"))
    root.chmod(0o700)
    (root / "owner").write_text(str(owner or os.getpid()))  # which session it belongs to
    user_prefix = as_postgres
    if user_prefix:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
    data, sockets = root / "data", root / "sock"

    def run(*argv: str) -> None:
        subprocess.run([*user_prefix, *argv], check=True, capture_output=True, text=True)

    try:
        run("mkdir", "-m", "700", str(sockets))
        run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")
        for _attempt in range(5):
            port = _free_port()
            options = (
                f"-k {sockets} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off"
                " -c synchronous_commit=off -c full_page_writes=off"
                f" -c max_connections={max_connections}"
            )
            started = subprocess.run(
                [*user_prefix, pg_ctl, "start", "-w", "-t", "60", "-D", str(data),
                 "-l", str(root / "server.log"), "-o", options],
                check=False,
                capture_output=True,
                text=True,
            )
            if started.returncode == 0:
                server = PostgresServer(root, port, pg_ctl, user_prefix)
                if owner is None:
                    atexit.register(server.stop)
                return server
        raise RuntimeError(f"PostgreSQL did not start: {(root / 'server.log').read_text()}")
    except BaseException:
        with contextlib.suppress(Exception):
            subprocess.run([*user_prefix, pg_ctl, "stop", "-D", str(data), "-m", "immediate"],
                           check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (made if missing) for the block."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def session_dir(session: str) -> Path:
    return Path(tempfile.gettempdir()) / f"{SESSION_PREFIX}{session}"


def shared_server() -> tuple[PostgresServer, bool]:
    """This run's server, started by the first worker that asks; (server, whether it is this
    process's own to stop). Without a run id (SESSION_ENV) it is a server of this process's own.
    """
    session = os.environ.get(SESSION_ENV)
    if not session:
        return start_server(), True
    folder = session_dir(session)
    folder.mkdir(exist_ok=True)
    info = folder / "server.json"
    with locked(folder / "lock"):
        if info.exists():
            known = json.loads(info.read_text())
            server = PostgresServer(Path(known["root"]), known["port"], known["pg_ctl"],
                                    known["user_prefix"], shared_dir=folder)
        else:  # workers x connections a test may hold at once
            server = start_server(owner=int(session), max_connections=400)
            server.shared_dir = folder
            info.write_text(json.dumps({"root": str(server.root), "port": server.port,
                                        "pg_ctl": server.pg_ctl,
                                        "user_prefix": server.user_prefix}))
    return server, False


def stop_shared_server(session: str) -> None:
    """Stop the run's shared server, if a worker started one; remove the run's folder."""
    folder = session_dir(session)
    info = folder / "server.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        known = json.loads(info.read_text())
        PostgresServer(Path(known["root"]), known["port"], known["pg_ctl"],
                       known["user_prefix"]).stop()
    shutil.rmtree(folder, ignore_errors=True)


async def until_server[T](
    read: Callable[[], Awaitable[T]], done: Callable[[T], bool], what: str, within: float = 20.0
) -> T:
    """Read server state that announces nothing when it changes (pg_locks, pg_stat_activity:
    no NOTIFY or log line says "a backend now waits for a lock") until `done(state)`; every
    20 ms, TimeoutError naming `what` after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not done(state := await read()):
        if loop.time() > deadline:
            raise TimeoutError(f"no {what} within {within} s (last read: {state!r})")
        await asyncio.sleep(0.02)
    return state
