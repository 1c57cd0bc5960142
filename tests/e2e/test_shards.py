"""One bot process running several Discord gateway shards (SHARD_COUNT, SHARD_IDS) on
PostgreSQL: it identifies once per shard, with the shard's [id, count], and answers commands.

The local Discord sends every event to the newest session, so the commands reach the shard that
identified last: the process answers on whichever of its shards an interaction arrives.
"""

from __future__ import annotations

from localdiscord import FakeDiscord
from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer

from .flows import command_reply, onboard
from .harness import START_TIMEOUT, BotFactory

__all__ = ["postgres_server"]

# nextcord waits 5 s before each IDENTIFY after the first (Discord's identify rate limit).
SECOND_SHARD_WITHIN = START_TIMEOUT + 10


async def test_a_process_runs_two_of_four_shards_and_answers(
    fake_discord: FakeDiscord, bot_process: BotFactory, postgres_server: PostgresServer
) -> None:
    url = await postgres_databases(postgres_server).new_url()
    bot = bot_process(env={"DATABASE_URL": url, "SHARD_COUNT": "4", "SHARD_IDS": "0,1"})
    before = fake_discord.ready_count
    await bot.start()
    await fake_discord.wait_until(
        lambda: fake_discord.shards_ready() == {(0, 4), (1, 4)},
        SECOND_SHARD_WITHIN,
        "the bot to identify as shards 0 and 1 of 4",
    )
    await fake_discord.wait_synced(after=before + 1)  # the second shard's sync is done too
    identified = [p["d"].get("shard") for p in fake_discord.gateway_received if p["op"] == 2]
    assert identified == [[0, 4], [1, 4]]  # once per shard, none of the other processes'

    # A command on the newest session (shard 1): it reads and writes players on PostgreSQL.
    (alice,) = await onboard(fake_discord, "Alice")
    profile = await command_reply(fake_discord, alice, "profile")
    assert "Alice" in profile.text or any("Alice" in str(e) for e in profile.embeds)
    assert (await command_reply(fake_discord, alice, "help")).embeds
    # Each shard's READY syncs the commands; only the first registers them, once each.
    created = [
        r.body["name"]
        for r in fake_discord.requests
        if r.method == "POST" and r.route == "/applications/{app_id}/commands"
    ]
    assert "profile" in created and len(created) == len(set(created)), created
    # Ready once every shard of the process is (the ladder's loops wait for it).
    await fake_discord.wait_until(
        lambda: "Connected as" in bot.log_text(), START_TIMEOUT, "the bot to be ready", poll=0.05
    )
