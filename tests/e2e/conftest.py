"""Fixtures for end-to-end tests.

``fake_discord``   a started FakeDiscord; at teardown it fails the test if the bot hit an
                   unknown route, broke a Discord rule, or left an interaction unanswered.
``bot_process``    a factory: ``bot = bot_process(admins=[alice])`` then ``await bot.start()``
                   runs the real ``bot.py`` against the fake (stopped with SIGTERM at teardown,
                   and it must exit 0). Its log is attached to the report of a failing test.
``ladder_bot``     the common case: the bot already started, DMs only, no admins.

Every test with a bot runs twice, ``[sqlite]`` and ``[postgresql]`` (``backend``, as in the
storage and service folders): in the PostgreSQL run each bot gets ``DATABASE_URL`` of a fresh
PostgreSQL database, the one ``Database.open`` of its SQLite path opens in the test too
(tests/support/backends.py), and ``state.db_rows`` reads it. Tests about the SQLite file itself,
or that run their own databases, run once (``SQLITE_ONLY``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from localdiscord import FakeDiscord
from tests.support.backends import backend, backends_for, postgres_databases, postgres_server

from .harness import BotFactory, BotProcess, bot_factory, checked_fake, log_sections

__all__ = ["backend", "postgres_server"]

BOT_PROCESSES = pytest.StashKey[list[BotProcess]]()
MODULE_BOTS = "__module_bots__"  # a test module's attribute: the bots its module fixtures made


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with checked_fake() as fake:
        yield fake


# Tests that run on SQLite only, and why. (A test that asks for `postgres_server` runs its own
# databases and runs once too.)
SQLITE_ONLY: frozenset[str] = frozenset({
    "test_fake_discord.py",  # the fake alone
    # It kills the bot at a moment found by watching SQLite's write lock and -wal file.
    "test_seasons.py::test_a_season_change_killed_midway_is_all_or_nothing",
    # About the web port: it starts bot.py itself, with no database made for it.
    "test_website.py::test_a_port_in_use_stops_start_up_with_one_line",
    # Discord's 429s and the bot's retries: nothing of the database in it, and seconds of waits.
    "test_wave_dms.py::test_a_match_dm_and_a_queue_edit_outlast_more_429s_than_nextcord_retries",
})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends_for(metafunc, SQLITE_ONLY)


@pytest.fixture
async def bot_process(fake_discord: FakeDiscord, tmp_path: Path, request: pytest.FixtureRequest,
                      backend: str) -> AsyncIterator[BotFactory]:
    """Make BotProcess objects (not started) that share this test's fake and tmp_path, on the
    test's backend."""
    async with bot_factory(fake_discord, tmp_path) as make:
        if backend == "postgresql":
            make.new_database = postgres_databases(
                request.getfixturevalue("postgres_server")
            ).url_for
        request.node.stash[BOT_PROCESSES] = make.made
        yield make
    if backend == "postgresql":
        for bot in make.made:
            assert not bot.database_path.exists(), f"{bot.name} on PostgreSQL wrote SQLite"


@pytest.fixture
async def ladder_bot(bot_process: BotFactory) -> BotProcess:
    bot = bot_process()
    await bot.start()
    return bot


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Attach the log of each bot subprocess the test used (its own, and those of a
    module-scoped ``module_bot_process``) to the report of a failed test."""
    report = yield
    if report.failed:
        made: list[BotProcess] = item.stash.get(BOT_PROCESSES, [])  # typed here, not by list()
        processes = list(made)
        module = getattr(item, "module", None)
        processes += getattr(module, MODULE_BOTS, []) if module else []
        report.sections += log_sections(processes)
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e`` (deselect them with ``-m "not e2e"``)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
