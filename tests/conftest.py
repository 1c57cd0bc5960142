"""The whole run's fixtures' bookkeeping: the PostgreSQL server its xdist workers share, and
bots forked from a zygote (tests/support/zygote.py; LADDERBOT_TEST_FORK=0 to exec each).

This runs in the controlling process (before xdist starts its workers, which inherit the
environment) and, without xdist, in the one process: it names the run, and stops the run's
shared server at the end (tests/support/postgres.py).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator

import pytest

from tests.support.postgres import SESSION_ENV, stop_shared_server
from tests.support.zygote import FORK_ENV

# The collector of a test process: young passes 14x rarer (as the bot's own, app/gc_tuning.py),
# and what collection built (modules, test functions, their strategies) out of its passes. A
# worker's full passes over its growing heap took 0.3-1.2 s each, ~37 s of CPU per run in all.
TEST_GC_THRESHOLDS = (10_000, 10, 10)


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*TEST_GC_THRESHOLDS)
    os.environ.setdefault(FORK_ENV, "1")
    if not hasattr(config, "workerinput"):  # the controlling process
        session = str(os.getpid())
        stop_shared_server(session)  # a killed earlier run's, had it had this pid
        os.environ[SESSION_ENV] = session


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and os.environ.get(SESSION_ENV) == str(os.getpid()):
        stop_shared_server(os.environ[SESSION_ENV])
        del os.environ[SESSION_ENV]


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _catalog_caches_emptied() -> Iterator[None]:
    """After each test, forget what i18n worked out from the catalogs (the commands' names in
    each language, messages with those names put in): a test that swaps `i18n.catalog` for a
    pseudo or empty one must not leave a later test of its worker names it computed then
    (`/queue` left English for zh_CN, seen once in a full run)."""
    yield
    i18n = sys.modules.get("i18n")
    if i18n is not None:
        i18n._command_names.cache_clear()
        i18n.commands_shown.cache_clear()
