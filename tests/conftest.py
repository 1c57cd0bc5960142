"""The whole run's fixtures' bookkeeping: the PostgreSQL server its xdist workers share, and
bots forked from a zygote (tests/support/zygote.py; LADDERBOT_TEST_FORK=0 to exec each).

This runs in the controlling process (before xdist starts its workers, which inherit the
environment) and, without xdist, in the one process: it names the run, and stops the run's
shared server at the end (tests/support/postgres.py).
"""

from __future__ import annotations

import os

import pytest

from tests.support.postgres import SESSION_ENV, stop_shared_server
from tests.support.zygote import FORK_ENV


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(FORK_ENV, "1")
    if not hasattr(config, "workerinput"):  # the controlling process
        session = str(os.getpid())
        stop_shared_server(session)  # a killed earlier run's, had it had this pid
        os.environ[SESSION_ENV] = session


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(SESSION_ENV) == str(os.getpid()):
        stop_shared_server(os.environ[SESSION_ENV])
        del os.environ[SESSION_ENV]
