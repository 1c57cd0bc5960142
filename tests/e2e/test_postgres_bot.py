"""The real bot on PostgreSQL (DATABASE_URL) against the fake Discord: it starts, migrates,
answers commands that read and write players, logs them with COPY, stops and starts again.

A smoke test of the process on PostgreSQL with a URL of its own; every other test of this
folder runs on both backends (conftest.py).
"""

from __future__ import annotations

import asyncpg

from localdiscord import FakeDiscord
from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer

from .harness import BotFactory

__all__ = ["postgres_server"]


async def test_the_bot_runs_on_postgresql(
    fake_discord: FakeDiscord, bot_process: BotFactory, postgres_server: PostgresServer
) -> None:
    url = await postgres_databases(postgres_server).new_url()
    bot = bot_process(env={"DATABASE_URL": url})
    await bot.start()
    alice = fake_discord.user("alice")
    reply = await (await fake_discord.slash(alice, "profile")).reply()
    assert "/termsofservice" in reply.text
    assert (await (await fake_discord.slash(alice, "help")).reply()).embeds
    # It listened before it read the standings: nothing to read again at start (bot.py).
    assert "notifications were lost" not in bot.log_text()
    await bot.restart()  # SIGTERM: the command log drains into PostgreSQL
    assert bot.exit_codes == [0]
    assert not bot.database_path.exists()  # nothing went to an SQLite file
    conn = await asyncpg.connect(url)
    try:
        logged = await conn.fetch("SELECT command, discord_uid FROM command_calls ORDER BY id")
    finally:
        await conn.close()
    assert [(r["command"], r["discord_uid"]) for r in logged] == [
        ("profile", alice.id),
        ("help", alice.id),
    ]
    bob = fake_discord.user("bob")
    assert (await (await fake_discord.slash(bob, "help")).reply()).embeds
