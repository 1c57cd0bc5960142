"""The website through the real bot.py against the local Discord: it serves once the bot has
started, /admin web's link logs a browser in, /profile, /leaderboard and the match messages
link their pages when WEB_BASE_URL is set, SIGTERM stops it with everything else, and a port
already in use stops start-up with one line naming WEB_PORT (exit 2)."""

from __future__ import annotations

import asyncio
import html
import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from .flows import accept_terms, command_reply, ladder_with, matched_pair, press, wait_text
from .harness import BOT_SCRIPT, REPO_ROOT, BotFactory, BotProcess
from .state import db_rows, db_write

if TYPE_CHECKING:
    from localdiscord import FakeDiscord, RecordedMessage

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


# A name /setup refuses today (a space, ?#&/%), as a ladder from before its rules holds it.
OLD_NAME = "Zoë a?b#c&d/e%f"
OLD_NAME_PATH = "/players/Zo%C3%AB%20a%3Fb%23c%26d%2Fe%25f"
BASE = "https://ladder.example/sub"  # WEB_BASE_URL: links name it; the pages are at `site`


def embed_url(message: RecordedMessage) -> str | None:
    """The link of the message's (first) embed, if it has one."""
    assert message.embeds, message.text
    url = message.embeds[0].get("url")
    return url if url is None else str(url)


async def opened(http: aiohttp.ClientSession, site: str, url: str | None) -> str:
    """The page a link from Discord names, fetched from the bot's own site: its HTML."""
    assert url is not None and url.startswith(BASE + "/"), url
    response = await http.get(site + url.removeprefix(BASE), allow_redirects=False)
    assert response.status == 200, (url, response.status)
    return await response.text()


async def test_profile_leaderboard_and_match_messages_link_their_pages(
    bot_process: BotFactory, tmp_path: Path
) -> None:
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    fake = bot.fake
    # No WEB_BASE_URL: no link.
    assert embed_url(await command_reply(fake, alice, "profile")) is None
    assert embed_url(await command_reply(fake, alice, "leaderboard")) is None

    await bot.stop()
    db_write(bot, "UPDATE players SET player_name = ? WHERE discord_uid = ?", (OLD_NAME, alice.id))
    db_write(bot, "DELETE FROM key_versions WHERE keys = 'players'")  # the bot re-keys its names
    bot.extra_env["WEB_BASE_URL"] = BASE + "/"
    await bot.start()
    site = site_of(bot)
    async with browser() as http:
        link = embed_url(await command_reply(fake, alice, "profile"))
        assert link == BASE + OLD_NAME_PATH
        assert html.escape(OLD_NAME) in await opened(http, site, link)

        # Terms accepted, no /setup yet: /profile answers, with no link to a page there is not.
        carol = fake.user("carol")
        await accept_terms(fake, carol)
        assert embed_url(await command_reply(fake, carol, "profile")) is None

        dm_a, dm_b = await matched_pair(fake, alice, bob)
        assert embed_url(dm_a) == embed_url(dm_b) == BASE + "/matches/1"
        for user, dm in ((alice, dm_a), (bob, dm_b)):
            await press(fake, user, dm, "Confirm")
        for dm in (dm_a, dm_b):
            await wait_text(fake, dm, "Match on")
        await press(fake, alice, dm_a, "I won")
        await press(fake, bob, dm_b, "I lost")
        for dm in (dm_a, dm_b):  # the result, on each player's message, links the match
            await wait_text(fake, dm, "Match finished", f"{OLD_NAME} won")
            assert embed_url(dm) == BASE + "/matches/1", dm.text
        assert db_rows(bot, "SELECT status FROM matches WHERE id = 1") == [{"status": "finished"}]
        page = await opened(http, site, embed_url(dm_a))
        assert html.escape(OLD_NAME) in page and "Bob" in page

        link = embed_url(await command_reply(fake, bob, "leaderboard"))  # both ranked now
        assert link == BASE + "/"
        page = await opened(http, site, link)
        assert html.escape(OLD_NAME) in page and "Bob" in page
