"""Debian's Chromium through Playwright, for the website's and the playground's browser tests:
how it is launched, and a tab that records console errors and saves screenshots."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported by the fixtures that need a browser
    from playwright.async_api import BrowserContext, Page

# Playwright's own browser download does not work here; these flags keep Chromium off the
# (closed) network: without them it keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def chromium() -> str:
    """The path of Debian's `chromium`. Without it the browser tests fail (never skip: a skip
    would hide pages nobody looked at) with the command that installs it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("no `chromium` on PATH: apt-get install -y chromium (.ci/run does)")
    return path


@dataclass
class Tab:
    """One browser page, what it logged, and where its screenshots go."""

    page: Page
    name: str
    artifacts: Path
    console_errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    async def shot(self, label: str) -> Path:
        """Screenshot the whole page into <artifacts>/<test>-<label>.png."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{self.name}-{label}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def assert_quiet(self) -> None:
        assert not self.console_errors, "the page logged console errors:\n" + "\n".join(
            self.console_errors
        )


async def watched_tab(context: BrowserContext, test_name: str, artifacts: Path) -> Tab:
    """A new page in `context` whose console errors, uncaught errors and dialogs are recorded
    (a player's text that ran as a script would most likely open a dialog: that fails too)."""
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    tab = Tab(page, re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_"), artifacts)

    def on_console(message) -> None:
        if message.type == "error":
            tab.console_errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.console_errors.append(f"{page.url}: {error}"))
    page.on("dialog", lambda dialog: tab.console_errors.append(f"{page.url}: a dialog"))
    return tab
