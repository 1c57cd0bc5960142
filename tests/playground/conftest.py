"""Fixtures for the playground's tests.

``playground``  the playground as ``bot.py playground`` runs it — the real bot (``bot.serve``)
                against a fresh local Discord, the page and its API — in this test's event loop,
                on a SQLite file in tmp_path, with waves every half second. At teardown the bot
                must have broken no Discord rule (tests that provoke one take it back).
``tab``         a page of Debian's Chromium (Playwright) on the playground; its screenshots go to
                tests/artifacts/playground/ (git-ignored) and any console error fails the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from playground.app import PlaygroundSite
from playground.runner import Options, Playground
from tests.support.browser import CHROMIUM_ARGS, Tab, chromium, watched_tab

if TYPE_CHECKING:  # imported by the fixture that needs a browser
    from playwright.async_api import ViewportSize

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "playground"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[PlaygroundSite]:
    options = Options(database_path=tmp_path / "playground.db", port=0, fresh=True,
                      open_browser=False, timers={"wave_interval_seconds": 0.5})
    running = Playground(options)
    await running.start()
    site = PlaygroundSite(running, seed=7)
    await site.start("127.0.0.1", 0)
    try:
        yield site
        fake = running.fake
        assert fake is not None
        assert not fake.violations, "the bot broke Discord rules:\n" + "\n".join(
            f"  {v}" for v in fake.violations)
        assert not fake.unknown_routes, fake.unknown_routes
    finally:
        await site.stop()
        await running.close()


@pytest.fixture
async def tab(playground: PlaygroundSite, request) -> AsyncIterator[Tab]:
    executable = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable,
                                                   args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=VIEWPORT)
        opened = await watched_tab(context, request.node.name, ARTIFACTS)
        try:
            yield opened
        finally:
            await context.close()
            await browser.close()
    opened.assert_quiet()
