"""Smoke tests of the real bot program against the fake Discord.

These only show that the bot starts, syncs its commands, answers, stops cleanly on SIGTERM and
starts again on the same database. The e2e bots are forked from the tests' zygote (a Python
that has imported the bot: tests/support/zygote.py); the first test here starts `python bot.py`
itself, so that path is tested as it runs in production.
"""

from __future__ import annotations

from localdiscord import FakeDiscord

from .harness import BotFactory, BotProcess

FIRST_VERSION_COMMANDS = {"termsofservice", "setup", "setcountry", "profile", "help"}


async def test_python_bot_py_starts_syncs_answers_and_stops(fake_discord: FakeDiscord,
                                                            bot_process: BotFactory) -> None:
    bot = bot_process(exec_start=True)  # `python bot.py`, not forked
    await bot.start()
    assert fake_discord.command_names() >= FIRST_VERSION_COMMANDS
    alice = fake_discord.user("alice")
    reply = await (await fake_discord.slash(alice, "help")).reply()
    assert reply.embeds
    await bot.restart()
    assert bot.exit_codes == [0]
    assert (await (await fake_discord.slash(alice, "help")).reply()).embeds
    assert "Event loop: uvloop" in bot.log_text(0)  # installed by the set-up: the fast loop


async def test_the_standard_event_loop_when_asked(fake_discord: FakeDiscord,
                                                  bot_process: BotFactory) -> None:
    bot = bot_process(env={"LADDERBOT_EVENT_LOOP": "asyncio"})
    await bot.start()
    alice = fake_discord.user("alice")
    assert (await (await fake_discord.slash(alice, "help")).reply()).embeds
    assert "Event loop: asyncio" in bot.log_text()


async def test_bot_starts_syncs_and_answers_help(fake_discord: FakeDiscord,
                                                 ladder_bot: BotProcess) -> None:
    assert fake_discord.command_names() >= FIRST_VERSION_COMMANDS
    alice = fake_discord.user("alice")
    reply = await (await fake_discord.slash(alice, "help")).reply()
    assert reply.embeds


async def test_profile_in_a_dm_before_the_terms(fake_discord: FakeDiscord,
                                               ladder_bot: BotProcess) -> None:
    alice = fake_discord.user("alice")
    inter = await fake_discord.slash(alice, "profile")  # in a DM: no guild given
    reply = await inter.reply()
    assert reply.ephemeral
    assert "/termsofservice" in reply.text


async def test_bot_restarts_on_the_same_database(fake_discord: FakeDiscord,
                                                 ladder_bot: BotProcess) -> None:
    ids_before = {c["name"]: c["id"] for c in fake_discord.commands[None].values()}
    await ladder_bot.restart()
    assert ladder_bot.exit_codes == [0]
    assert ladder_bot.database_path.exists() == (ladder_bot.database_url is None)
    # The commands were found again, not registered anew.
    assert {c["name"]: c["id"] for c in fake_discord.commands[None].values()} == ids_before
    bob = fake_discord.user("bob")
    assert (await (await fake_discord.slash(bob, "help")).reply()).embeds
