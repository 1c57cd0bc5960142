"""The website through the real bot.py against the local Discord: it serves once the bot has
started, /admin web's link logs a browser in, SIGTERM stops it with everything else, and a
port already in use stops start-up with one line naming WEB_PORT (exit 2)."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import aiohttp
import pytest

from .flows import command_reply
from .harness import BOT_SCRIPT, REPO_ROOT, BotProcess

if TYPE_CHECKING:
    from localdiscord import FakeDiscord

pytestmark = pytest.mark.e2e

LISTENING = re.compile(r"Website listening on (http://127\.0\.0\.1:[0-9]+)/")
LINK = re.compile(r"(http://127\.0\.0\.1:[0-9]+/login/[A-Za-z0-9_-]{43})")


def site_of(bot: BotProcess) -> str:
    found = LISTENING.search(bot.log_text())
    assert found, bot.log_tail()
    return found.group(1)


def browser() -> aiohttp.ClientSession:
    """A client with its own cookies (kept for 127.0.0.1, as a browser keeps them)."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_admin_web_logs_a_browser_in_to_the_bot_s_dashboard(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot = bot_process(admins=[root])
    await bot.start()
    site = site_of(bot)
    async with browser() as http:
        leaderboard = await http.get(site + "/")
        assert leaderboard.status == 200
        refused = await http.get(site + "/dashboard", allow_redirects=False)
        assert (refused.status, refused.headers["Location"]) == (303, "/login")

        reply = await command_reply(fake, root, "admin web")
        assert reply.ephemeral
        found = LINK.search(reply.text)
        assert found and found.group(1).startswith(site + "/login/"), reply.text
        link = found.group(1)
        welcome = await http.get(link)
        assert welcome.status == 200
        dashboard = await http.get(site + "/dashboard", allow_redirects=False)
        assert dashboard.status == 200
        page = await dashboard.text()
        assert 'id="live-table"' in page
        if bot.database_url is None:
            assert 'id="chart-calls"' in page and 'id="chart-funnel"' in page
        else:  # the usage report reads SQLite: said so, the live figures still shown
            assert 'id="dash-no-report"' in page and 'id="chart-calls"' not in page
    async with browser() as other:  # the same link, a second time
        assert (await other.get(link)).status == 403
    token = link.rsplit("/", 1)[1]
    assert token not in bot.log_text()  # the bot logs at DEBUG here, and still never the link


async def test_admin_web_when_the_website_is_off(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    root = fake_discord.user("root")
    bot = bot_process(admins=[root], env={"WEB_ENABLED": "false"})
    await bot.start()
    assert not LISTENING.search(bot.log_text())
    reply = await command_reply(fake_discord, root, "admin web")
    assert "website is off" in reply.text and "/login/" not in reply.text


async def test_sigterm_stops_the_website_with_the_bot(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    bot = bot_process()
    await bot.start()
    site = site_of(bot)
    async with browser() as http:
        # A kept-alive connection is open when the signal comes: it must not hold the stop.
        assert (await http.get(site + "/robots.txt")).status == 200
        assert await bot.stop() == 0
        log = bot.log_text()
        assert log.index("Website stopped") < log.index("Stopped cleanly"), log
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(site + "/", timeout=aiohttp.ClientTimeout(total=5))


async def test_a_port_in_use_stops_start_up_with_one_line(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = bot_process(env={"WEB_PORT": str(port), "LOG_LEVEL": "INFO"})
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(BOT_SCRIPT), cwd=REPO_ROOT, env=bot.environment(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out, err)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    naming = [line for line in lines if "WEB_PORT" in line]
    assert len(naming) == 1 and naming[0] == lines[-1], lines
    assert naming[0].startswith("ladderbot: ") and str(port) in naming[0]
    assert "Traceback" not in err.decode() + out.decode()
    assert fake_discord.ready_count == 0  # it never logged in to Discord
