"""Run a test folder's database tests on both backends: SQLite and PostgreSQL.

A conftest imports `backend`, `postgres_server` and `pytest_generate_tests` from here. Every test
of that folder then runs twice, `[sqlite]` and `[postgresql]`; in the PostgreSQL run,
`Database.open(path)` opens a fresh PostgreSQL database instead of the SQLite file at `path`
(the same path again opens the same database, so a test that "restarts the bot" by reopening
its file reopens its database). The tests themselves are unchanged.

Tests about the SQLite file itself (its PRAGMAs, its -wal, its permissions) are marked
`@pytest.mark.sqlite_only`, or their module is listed in the conftest's `SQLITE_ONLY_MODULES`.

In the `[sqlite]` run, a new file starts as a copy of one migrated once per test process (as
the PostgreSQL run starts from a migrated template database): applying every migration to each
test's new file cost ~25 ms of CPU and ~80 ms of fsyncs. The tests of the SQLite file itself
and of migrating (not parametrized) open their files as the bot does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage.database import Database
from storage.files import PRIVATE_FILE_MODE, make_private_dir
from storage.postgres import PostgresDatabase
from tests.support.postgres import TEMPLATE, PostgresServer, locked, shared_server

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server of this test run, shared by its xdist workers
    (tests/support/postgres.py); a server of this session's own is stopped at its end."""
    server, own = shared_server()
    try:
        yield server
    finally:
        if own:
            server.stop()


class PostgresDatabases:
    """Fresh databases on one server, made from a template migrated once."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.by_path: dict[str, str] = {}
        self.template_ready = False

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _make_template(self) -> None:
        """Migrate the template once per server: on a shared one, the first worker does it
        (under the run's lock) and the others find it made."""
        shared = self.server.shared_dir
        if shared is None:
            await self._migrate_template()
        else:
            with locked(shared / "lock"):  # blocks this worker's loop only while one migrates
                made = shared / "template-ready"
                if not made.exists():
                    await self._migrate_template()
                    made.touch()
        self.template_ready = True

    async def _migrate_template(self) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await self._admin(f"CREATE DATABASE {TEMPLATE}")
        template = await PostgresDatabase.open(self.server.url(TEMPLATE))
        await template.close()

    async def url_for(self, path: str | Path) -> str:
        """The database standing for the SQLite file `path` (created on first use)."""
        key = str(path)
        if key not in self.by_path:
            if not self.template_ready:
                await self._make_template()
            name = self.server.new_database_name()
            # FILE_COPY: 0.13 s a database here, against 0.43 s for the default WAL_LOG (with
            # fsync off, its checkpoint costs nothing).
            await self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
            self.by_path[key] = self.server.url(name)
        return self.by_path[key]

    async def new_url(self) -> str:
        """A fresh migrated database's URL, for tests that ask for one directly."""
        return await self.url_for(f"<fresh {len(self.by_path)}>")


_databases: dict[int, PostgresDatabases] = {}


_migrated: list[bytes] = []  # this process's migrated SQLite file, once made


_open_sqlite = Database.open  # as the bot opens its file (taken before any test patches it)


async def start_migrated(path: Path) -> None:
    """Make `path`, if it does not exist yet, a copy of a newly migrated SQLite file (0600 in a
    0700 folder, as Database.open would)."""
    if not _migrated:
        with tempfile.TemporaryDirectory() as folder:
            fresh = os.path.join(folder, "migrated.db")
            await (await _open_sqlite(Path(fresh))).close()  # closed: the file is whole alone
            _migrated.append(_read(fresh))
    _write_private(path, _migrated[0])


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _write_private(path: Path, data: bytes) -> None:
    """`data` into a new file at `path`; a file already there is left as it is."""
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def postgres_databases(server: PostgresServer) -> PostgresDatabases:
    """The per-server database maker (one per server: the template is migrated once)."""
    if id(server) not in _databases:
        _databases[id(server)] = PostgresDatabases(server)
    return _databases[id(server)]


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend this run of the test uses; on PostgreSQL, Database.open opens PostgreSQL.

    Its own MonkeyPatch: a test's `monkeypatch.undo()` must not switch it back to SQLite.
    """
    name: str = getattr(request, "param", "sqlite")
    if name == "sqlite" and hasattr(request, "param"):  # run on both: a behaviour, not the file
        with pytest.MonkeyPatch.context() as monkeypatch:
            opened = Database.open.__func__  # type: ignore[attr-defined]

            async def open_from_template(cls: Any, path: str | Path) -> Database:
                await start_migrated(Path(path))
                return await opened(cls, path)

            monkeypatch.setattr(Database, "open", classmethod(open_from_template))
            yield name
        return
    if name != "postgresql":
        yield name
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        server = request.getfixturevalue("postgres_server")
        databases = postgres_databases(server)
        databases.by_path.clear()  # each test starts from fresh databases

        async def open_on_postgres(cls: Any, path: str | Path) -> Database:
            return await PostgresDatabase.open(await databases.url_for(path))

        monkeypatch.setattr(Database, "open", classmethod(open_on_postgres))
        yield name


def backends_for(
    metafunc: pytest.Metafunc,
    sqlite_only: frozenset[str],
    postgres_gaps: Mapping[str, str] | None = None,
) -> None:
    """Parametrize `backend` (autouse in the conftest) unless the test is SQLite-only.

    `sqlite_only` names modules ('test_files.py') or tests ('test_views.py::test_x') about the
    SQLite file itself. `postgres_gaps` maps a test to why it does not pass on PostgreSQL yet:
    its PostgreSQL run is a strict xfail, so it fails the day the gap is closed (remove it then).
    Only tests that use `tmp_path` (themselves or through a fixture) can open a database file,
    so only those run twice; a test of pure logic in the same folder runs once, and so does one
    that asks for `postgres_server` itself.
    """
    if "backend" not in metafunc.fixturenames:
        return
    module = Path(str(metafunc.definition.path)).name
    test = f"{module}::{metafunc.definition.originalname}"
    only_sqlite = (
        "tmp_path" not in metafunc.fixturenames
        or "postgres_server" in metafunc.fixturenames  # it uses both backends itself
        or module in sqlite_only
        or test in sqlite_only
        or bool(metafunc.definition.get_closest_marker("sqlite_only"))
    )
    if only_sqlite:
        metafunc.parametrize("backend", ["sqlite"], indirect=True)
        return
    gap = (postgres_gaps or {}).get(test)
    postgres = pytest.param(
        "postgresql", marks=[pytest.mark.xfail(strict=True, reason=gap)] if gap else []
    )
    metafunc.parametrize("backend", ["sqlite", postgres], indirect=True)
