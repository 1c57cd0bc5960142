"""Take the README's screenshots of the website: the leaderboard, a player, the dashboard.

    .venv/bin/python scripts/docs_screenshots.py [OUT_DIR] [--narrow] [--lang ko]
                                     (default docs/screenshots, 1200 px wide, English)

--narrow shoots a 390 px phone screen; --lang asks for the pages in that language (as a browser
whose language it is would). Korean and Chinese need a CJK font (apt-get install fonts-noto-cjk).

The same seeded ladder as the browser tests (tests/web/seed.py, tests/web/host_seed.py),
served on 127.0.0.1 and shot in Debian's Chromium (apt-get install -y chromium).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from aiohttp import web
from playwright.async_api import FloatRect, ViewportSize, async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM_ARGS  # noqa: E402
from tests.web.host_seed import open_host  # noqa: E402
from tests.web.seed import open_site, seed_ladder  # noqa: E402
from web.app import create_app  # noqa: E402

VIEWPORT: ViewportSize = {"width": 1200, "height": 900}


async def main(out: Path, viewport: ViewportSize = VIEWPORT, language: str = "en") -> None:
    with tempfile.TemporaryDirectory() as folder:
        seeded = await seed_ladder(Path(folder) / "ladder.db")
        site = await open_site(seeded.path)
        host = await open_host(site, seeded)
        runner = web.AppRunner(create_app(host.services), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
                )
                page = await browser.new_page(
                    viewport=viewport, extra_http_headers={"Accept-Language": language}
                )
                await page.goto(url + "/")
                await page.screenshot(path=str(out / "leaderboard.png"), full_page=True)
                await page.goto(url + "/players/Alice")
                await page.screenshot(path=str(out / "profile.png"), full_page=True)
                await page.goto(url + await host.login_link())
                await page.wait_for_url(url + "/dashboard")
                clip: FloatRect = {"x": 0, "y": 0, "width": viewport["width"], "height": 1400}
                await page.screenshot(path=str(out / "dashboard.png"), full_page=True, clip=clip)
                await browser.close()
        finally:
            await runner.cleanup()
            await host.close()
            await site.close()
    for name in ("leaderboard", "profile", "dashboard"):
        print(out / f"{name}.png")


if __name__ == "__main__":
    args = sys.argv[1:]
    narrow = "--narrow" in args
    language = args[args.index("--lang") + 1] if "--lang" in args else "en"
    positional = [a for i, a in enumerate(args) if not a.startswith("--")
                  and (i == 0 or args[i - 1] != "--lang")]
    target = Path(positional[0]) if positional else ROOT / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    size: ViewportSize = {"width": 390, "height": 844} if narrow else VIEWPORT
    asyncio.run(main(target, size, language))
