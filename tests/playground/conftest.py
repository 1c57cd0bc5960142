"""Fixtures for the playground's tests.

``playground``  the playground as ``bot.py playground`` runs it — the real bot (``bot.serve``)
                against a fresh local Discord, the page and its API — in this test's event loop,
                on a SQLite file in tmp_path, with waves every half second. At teardown the bot
                must have broken no Discord rule (tests that provoke one take it back).
``tab``         a page of Debian's Chromium (Playwright) on the playground; its screenshots go to
                tests/artifacts/playground/ (git-ignored) and any console error fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from playground.app import PlaygroundSite
from playground.runner import Options, Playground

if TYPE_CHECKING:  # imported by the fixture that needs a browser
    from playwright.async_api import Page, ViewportSize

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "playground"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "no `chromium` on PATH: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


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


@dataclass
class Tab:
    """One browser page, what it logged, and where its screenshots go."""

    page: Page
    name: str
    console_errors: list[str] = field(default_factory=list)

    async def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
async def tab(playground: PlaygroundSite, request) -> AsyncIterator[Tab]:
    executable = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable,
                                                   args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")
        opened = Tab(page, name)

        def on_console(message) -> None:
            if message.type == "error":
                opened.console_errors.append(f"{page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: opened.console_errors.append(f"{page.url}: {error}"))
        # A player's text that ran as a script would most likely open a dialog: that fails too.
        page.on("dialog", lambda dialog: opened.console_errors.append(f"{page.url}: a dialog"))
        try:
            yield opened
        finally:
            await context.close()
            await browser.close()
    assert not opened.console_errors, "the page logged console errors:\n" + "\n".join(
        opened.console_errors)
