"""Fixtures for end-to-end tests.

``fake_discord``   a started FakeDiscord; at teardown it fails the test if the bot hit an
                   unknown route, broke a Discord rule, or left an interaction unanswered.
``bot_process``    a factory: ``bot = bot_process(admins=[alice])`` then ``await bot.start()``
                   runs the real ``bot.py`` against the fake (stopped with SIGTERM at teardown,
                   and it must exit 0). Its log is attached to the report of a failing test.
``ladder_bot``     the common case: the bot already started, DMs only, no admins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from localdiscord import FakeDiscord

from .harness import BotFactory, BotProcess, bot_factory, checked_fake, log_sections

BOT_PROCESSES = pytest.StashKey[list[BotProcess]]()
MODULE_BOTS = "__module_bots__"  # a test module's attribute: the bots its module fixtures made


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with checked_fake() as fake:
        yield fake


@pytest.fixture
async def bot_process(fake_discord: FakeDiscord, tmp_path: Path, request: pytest.FixtureRequest
                      ) -> AsyncIterator[BotFactory]:
    """Make BotProcess objects (not started) that share this test's fake and tmp_path."""
    async with bot_factory(fake_discord, tmp_path) as make:
        request.node.stash[BOT_PROCESSES] = make.made
        yield make


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
