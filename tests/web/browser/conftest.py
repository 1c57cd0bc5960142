"""Browser tests: Debian's Chromium driven by Playwright, against the real website on a real
seeded SQLite file, served on 127.0.0.1 by aiohttp as bot.py serves it.

One site and one browser per test module (they are slow to make); one browser context (own
cookies) and page per test. Every page a test opens is screenshot into tests/artifacts/
(git-ignored), and a test fails if any page logged a console error (a CSP violation, a failed
load, a script error) — checked after the test body, with the screenshots already saved.

Chromium comes from Debian (`apt-get install -y chromium`; .ci/run installs it when missing):
Playwright's own browser download does not work here. Without a `chromium` on PATH the tests
are skipped on a developer's machine and fail under CI (CI=true), where .ci/run should have
installed it.
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
import pytest_asyncio
from aiohttp import web

from tests.web.host_seed import Host, open_host
from tests.web.seed import Seeded, Site, open_site, seed_ladder
from web.app import create_app

if TYPE_CHECKING:  # imported by the fixtures that need a browser
    from playwright.async_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGE_SIZE = 3  # the seed's eight players fill three leaderboard pages
VIEWPORT = {"width": 1200, "height": 900}
TIMEOUT_MS = 15_000


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "no `chromium` on PATH: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Served:
    """The website on a real port, its seed and its host services."""

    url: str  # http://127.0.0.1:<port>, no trailing slash
    seeded: Seeded
    site: Site
    host: Host
    runner: web.AppRunner


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory) -> AsyncIterator[Served]:
    folder = tmp_path_factory.mktemp("browser-site")
    seeded = await seed_ladder(folder / "ladder.db")
    site = await open_site(seeded.path, page_size=PAGE_SIZE)
    host = await open_host(site, seeded)
    runner = web.AppRunner(create_app(host.services), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        yield Served(f"http://127.0.0.1:{port}", seeded, site, host, runner)
    finally:
        await runner.cleanup()
        await host.close()
        await site.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator:
    executable = chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Tab:
    """One browser context's page, with what it logged and where its screenshots go."""

    page: Page
    name: str
    console_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    async def shot(self, label: str) -> Path:
        """Screenshot the whole page into tests/artifacts/<test>-<label>.png."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path


@pytest_asyncio.fixture(loop_scope="module")
async def tab(browser, request) -> AsyncIterator[Tab]:
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
    # A hostile name that ran as a script would most likely open a dialog: that fails too.
    page.on("dialog", lambda dialog: opened.console_errors.append(f"{page.url}: a dialog"))
    try:
        yield opened
    finally:
        await context.close()
    assert not opened.console_errors, "pages logged console errors:\n" + "\n".join(
        opened.console_errors
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (deselect them with ``-m "not browser"``)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)
