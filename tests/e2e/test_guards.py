"""The guards end to end: DM-only, admins, and banned players, on the real bot.

Every refusal is checked twice: what the player reads, and the ``refused:<guard>`` outcome the
command log keeps for it (read from the SQLite file after the bot stopped).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ladder.guards import REFUSALS
from localdiscord import FakeDiscord
from localdiscord.protocol import UPDATE_MESSAGE

from .flows import accept_terms, command_reply, finish_setup
from .harness import BotProcess
from .state import db_rows, db_write, player_row, player_state

BANNED_TEXT = "banned"
DM_ONLY_TEXT = REFUSALS["dm_only"]


def outcomes(bot: BotProcess, uid: int, kind: str = "slash") -> list[tuple[str, str, int | None]]:
    """(command, outcome, guild_id) of ``uid``'s logged interactions of one kind, in order."""
    rows = db_rows(
        bot,
        "SELECT command, outcome, guild_id FROM command_calls WHERE discord_uid = ? AND kind = ?"
        " ORDER BY interaction_id",
        (uid, kind),
    )
    return [(r["command"], r["outcome"], r["guild_id"]) for r in rows]


async def test_player_commands_in_a_guild_are_refused_and_admins_pass(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    alice, root = fake.user("alice"), fake.user("root")
    guild = fake.guild("Ladder Server", members=[alice, root])
    bot = bot_process(admins=[root])
    await bot.start()
    await accept_terms(fake, alice)  # so that only DM-only can stop her in the guild

    for command in ("profile", "termsofservice", "setup", "queue", "leaderboard"):
        # Registered with contexts [bot DM]: Discord does not offer them in a guild at all ...
        with pytest.raises(AssertionError, match="cannot be used in a guild"):
            await command_reply(fake, alice, command, guild=guild)
    for command in ("profile", "termsofservice", "setup"):
        # ... and one sent anyway (an old or modified client) is refused by the guard.
        refused = await command_reply(fake, alice, command, guild=guild, forged=True)
        assert refused.ephemeral, command
        assert DM_ONLY_TEXT in refused.text, (command, refused.text)

    help_in_guild = await command_reply(fake, alice, "help", guild=guild)
    assert help_in_guild.ephemeral and "/termsofservice" in help_in_guild.text

    # The same command in a DM works.
    assert "Profile" in (await command_reply(fake, alice, "profile")).text

    # An admin (ADMIN_IDS) may use a player command in a guild channel (where it shows when
    # registered in that guild: Discord reads contexts on global commands only).
    terms = await command_reply(fake, root, "termsofservice", guild=guild, forged=True)
    assert DM_ONLY_TEXT not in terms.text and terms.buttons()
    click = await fake.click(root, terms, label="Accept")
    assert (await click.response()).type == UPDATE_MESSAGE
    profile = await command_reply(fake, root, "profile", guild=guild, forged=True)
    assert DM_ONLY_TEXT not in profile.text and "Profile" in profile.text
    assert player_row(bot, root)["accepted_tos"] == 1

    admin_commands = "admin" in fake.command_names()
    if admin_commands:
        refused = await command_reply(fake, alice, "admin disputes", guild=guild)
        assert REFUSALS["admin"] in refused.text
        disputes = await command_reply(fake, root, "admin disputes", guild=guild)
        assert REFUSALS["admin"] not in disputes.text and DM_ONLY_TEXT not in disputes.text

    await bot.stop()
    assert outcomes(bot, alice.id) == [
        ("termsofservice", "ok", None),
        ("profile", "refused:dm_only", guild.id),
        ("termsofservice", "refused:dm_only", guild.id),
        ("setup", "refused:dm_only", guild.id),
        ("help", "ok", guild.id),
        ("profile", "ok", None),
    ] + ([("admin disputes", "refused:admin", guild.id)] if admin_commands else [])
    assert outcomes(bot, root.id) == [
        ("termsofservice", "ok", guild.id),
        ("profile", "ok", guild.id),
    ] + ([("admin disputes", "ok", guild.id)] if admin_commands else [])

    # DM_ONLY=false: the same player command is accepted in the guild.
    bot.dm_only = False
    await bot.start()
    profile = await command_reply(fake, alice, "profile", guild=guild)
    assert DM_ONLY_TEXT not in profile.text and "Profile" in profile.text


async def test_a_banned_player_is_refused_everywhere(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    bob, carol = fake.user("bob"), fake.user("carol")
    guild = fake.guild("Ladder Server", members=[bob, carol])
    bot = bot_process()
    await bot.start()
    await finish_setup(fake, bob, "Bobby", "Bob#1234")
    # carol reads the terms but has not decided when she is banned.
    carol_terms = await command_reply(fake, carol, "termsofservice")
    bob_terms = await command_reply(fake, bob, "termsofservice")
    await bot.stop()

    db_write(bot, "UPDATE players SET banned = 1 WHERE discord_uid = ?", (bob.id,))
    db_write(
        bot,
        "INSERT INTO players (discord_uid, discord_name, banned, created_at, updated_at)"
        " VALUES (?, 'carol', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')",
        (carol.id,),
    )
    bob_before, carol_before = player_state(bot, bob), player_state(bot, carol)
    logged_before = len(outcomes(bot, bob.id))
    await bot.start()

    tried = [
        ("help", None, None),
        ("termsofservice", None, None),
        ("setup", None, None),
        ("profile", None, None),
        ("setcountry", {"country": "DE"}, None),
        ("help", None, guild),  # allowed in guilds, but not for a banned player
        ("profile", None, guild),  # banned comes before DM-only
    ]
    if "queue" in fake.command_names():
        tried.append(("queue", None, None))
    for command, options, where in tried:
        reply = await command_reply(fake, bob, command, options, guild=where, forged=True)
        assert reply.ephemeral, command
        assert REFUSALS["banned"] in reply.text, (command, reply.text)

    # The old terms messages still carry their (persistent) buttons: refused too.
    for user, terms, label in ((carol, carol_terms, "Accept"), (bob, bob_terms, "Decline")):
        click = await fake.click(user, terms, label=label)
        reply = await click.reply()
        assert BANNED_TEXT in reply.text, (user.username, reply.text)

    # The autocomplete reveals nothing that matters, but it must still answer in time.
    await (await fake.autocomplete(bob, "setcountry", "country", "ge")).response()

    await bot.stop()
    assert player_state(bot, bob) == bob_before
    assert player_state(bot, carol) == carol_before
    logged = outcomes(bot, bob.id)[logged_before:]
    assert logged == [
        (command, "refused:banned", where.id if where else None) for command, _, where in tried
    ]
    assert outcomes(bot, carol.id) == [("termsofservice", "ok", None)]
    # The clicks on the old terms buttons are logged too, refused for the same reason.
    assert outcomes(bot, carol.id, "component") == [("tos:accept", "refused:banned", None)]
    assert outcomes(bot, bob.id, "component")[-1] == ("tos:decline", "refused:banned", None)


@pytest.mark.parametrize("admin", [True, False])
async def test_admin_commands_need_an_admin(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], admin: bool
) -> None:
    """/admin is refused to everyone not in ADMIN_IDS, also guild administrators."""
    fake = fake_discord
    boss = fake.user("boss")
    guild = fake.guild("Ladder Server", admins=[boss])  # Administrator on the guild
    bot = bot_process(admins=[boss] if admin else [])
    await bot.start()
    reply = await command_reply(fake, boss, "admin disputes", guild=guild)
    assert (REFUSALS["admin"] in reply.text) is not admin, reply.text
    await bot.stop()
    expected = "ok" if admin else "refused:admin"
    assert outcomes(bot, boss.id) == [("admin disputes", expected, guild.id)]
