"""Every storage test that opens a database runs on SQLite and on PostgreSQL (tests/support)."""

from __future__ import annotations

import pytest

from tests.support.backends import backend, backends_for, postgres_server

__all__ = ["backend", "postgres_server"]

# About SQLite itself (the file, its PRAGMAs, the read-only connection, the SQLite log writer)
# or about no database at all.
SQLITE_ONLY_MODULES = frozenset(
    {
        "test_command_log.py",
        "test_database.py",
        "test_files.py",
        "test_read_connection.py",
        "test_replay_parser.py",
    }
)


@pytest.fixture(autouse=True)
def _backend(backend: str) -> str:
    return backend


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends_for(metafunc, SQLITE_ONLY_MODULES)
