"""Browser tests: Debian's Chromium driven by Playwright, against the real website on a real
seeded SQLite file, served on 127.0.0.1 by aiohttp as bot.py serves it.

One site and one browser per test module (they are slow to make); one browser context (own
cookies) and page per test. Every page a test opens is screenshot into tests/artifacts/
(git-ignored), and a test fails if any page logged a console error (a CSP violation, a failed
load, a script error) — checked after the test body, with the screenshots already saved.

Chromium comes from Debian (`apt-get install -y chromium`; .ci/run installs it when missing):
Playwright's own browser download does not work here. Without a `chromium` on PATH the tests
fail with that command (tests/support/browser.py), never skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from tests.support.browser import CHROMIUM_ARGS, Tab, chromium, watched_tab
from tests.web.host_seed import Host, open_host
from tests.web.seed import Seeded, Site, open_site, seed_ladder
from web.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGE_SIZE = 3  # the seed's eight players fill three leaderboard pages
VIEWPORT = {"width": 1200, "height": 900}


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


@pytest_asyncio.fixture(loop_scope="module")
async def tab(browser, request) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport=VIEWPORT)
    opened = await watched_tab(context, request.node.name, ARTIFACTS)
    try:
        yield opened
    finally:
        await context.close()
    opened.assert_quiet()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (deselect them with ``-m "not browser"``)."""
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)
