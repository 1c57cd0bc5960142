"""Fixtures for end-to-end tests.

``fake_discord``   a started FakeDiscord; at teardown it fails the test if the bot hit an
                   unknown route, broke a Discord rule, or left an interaction unanswered.
``bot_process``    a factory: ``bot = bot_process(admins=[alice])`` then ``await bot.start()``
                   runs the real ``bot.py`` against the fake (stopped with SIGTERM at teardown,
                   and it must exit 0). Its log is attached to the report of a failing test.
``ladder_bot``     the common case: the bot already started, DMs only, no admins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from localdiscord import FakeDiscord

from .harness import BotProcess

BOT_PROCESSES = pytest.StashKey[list[BotProcess]]()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
        await fake.settle()
        assert not fake.unknown_routes, f"the bot called routes the fake does not serve: " \
                                        f"{fake.unknown_routes}"
        assert not fake.violations, "the bot broke Discord rules:\n" + "\n".join(
            f"  {v}" for v in fake.violations)


@pytest.fixture
async def bot_process(fake_discord: FakeDiscord, tmp_path, request
                      ) -> AsyncIterator[Callable[..., BotProcess]]:
    """Make BotProcess objects (not started) that share this test's fake and tmp_path."""
    made: list[BotProcess] = []
    request.node.stash[BOT_PROCESSES] = made

    def make(**kwargs) -> BotProcess:
        kwargs.setdefault("name", f"bot{len(made) + 1}")
        workdir = tmp_path / kwargs["name"]
        process = BotProcess(fake_discord, workdir, **kwargs)
        made.append(process)
        return process

    yield make
    errors = []
    for process in made:
        try:
            await process.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, "\n\n".join(errors)


@pytest.fixture
async def ladder_bot(bot_process: Callable[..., BotProcess]) -> BotProcess:
    bot = bot_process()
    await bot.start()
    return bot


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Attach each bot subprocess log to the report of a failed test."""
    report = yield
    if report.failed:
        for process in item.stash.get(BOT_PROCESSES, []):
            for n, path in enumerate(process.log_paths, start=1):
                text = path.read_text(encoding="utf-8", errors="replace") if path.exists() \
                    else "(no log)"
                report.sections.append((f"{process.name} log, run {n} ({path})", text[-12_000:]))
    return report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``e2e`` (deselect them with ``-m "not e2e"``)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.e2e)
