"""Impersonation by look-alike names, end to end: the real bot against the fake Discord.

While `Alice` exists, another player's /setup must not get a name that reads "Alice" (a
Cyrillic `А`, Greek and Cyrillic letters, a capital I for the l, full-width letters, a Hangul
filler that draws as nothing), nor Alice's battletag in another case. Each refusal must say
what is wrong, and write nothing at all.
"""

from __future__ import annotations

from localdiscord import FakeDiscord
from localdiscord.protocol import CHANNEL_MESSAGE, UPDATE_MESSAGE

from .flows import (
    accept_terms,
    finish_setup,
    newcomers,
    pick_country_and_region,
    refused_setup,
    setup_preview,
    submit_setup,
)
from .harness import BotProcess
from .state import assert_no_unexpected_errors, db_rows, player_state

ATTEMPTS = [
    # (what, name, words the refusal must contain)
    ("a Cyrillic А", "\u0410lice", ["mixes", "Cyrillic", "Latin"]),
    (
        "Greek and Cyrillic letters",
        "\u0391\u04cf\u0456\u0441\u0435",
        ["mixes", "Greek", "Cyrillic"],
    ),
    ("a trailing Hangul filler", "Alice\u3164", ["invisible", "U+3164"]),
    ("only Hangul fillers", "\u3164\u3164\u3164\u3164", ["invisible", "U+3164"]),
    ("a zero-width joiner", "Al\u200dice", ["invisible", "U+200D"]),
    ("a capital I for the l", "AIice", ["`AIice` is already taken"]),
    ("all-Cyrillic АІісе", "\u0410\u0406\u0456\u0441\u0435", ["already taken"]),
    ("full-width letters", "\uff21\uff4c\uff49\uff43\uff45", ["already taken"]),
]


def keys(bot: BotProcess) -> dict[str, list[dict]]:
    return {
        "names": db_rows(bot, "SELECT * FROM player_names ORDER BY name_key"),
        "battletags": db_rows(bot, "SELECT * FROM player_battletags ORDER BY battletag_key"),
    }


async def test_a_look_alike_of_a_taken_name_is_refused_and_writes_nothing(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    alice = fake.user("alice")
    await finish_setup(fake, alice, "Alice", "Alice#1234")
    mallory = fake.user("mallory")
    await accept_terms(fake, mallory)
    before, alice_before, keys_before = (
        player_state(bot, mallory),
        player_state(bot, alice),
        keys(bot),
    )

    for what, name, words in ATTEMPTS:
        await refused_setup(fake, mallory, name, "Mallory#1234", what=what, words=words)
        assert player_state(bot, mallory) == before, f"{what} changed the database"
        assert player_state(bot, alice) == alice_before, f"{what} changed Alice"
        assert keys(bot) == keys_before, what

    # A name of her own still works.
    await finish_setup(fake, mallory, "Mallory", "Mallory#1234", accept=False)
    assert_no_unexpected_errors(bot)


async def test_a_battletag_another_player_uses_is_refused_and_writes_nothing(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    alice, bob = fake.user("alice"), fake.user("bob")
    await finish_setup(fake, alice, "Alice", "Alice#1234")
    await accept_terms(fake, bob)
    before, keys_before = player_state(bot, bob), keys(bot)

    refused = await (await submit_setup(fake, bob, "Bobby", "ALICE#1234")).reply()
    if refused.buttons():  # the modal let it through: Confirm must refuse it
        preview = await pick_country_and_region(fake, bob, refused, "DE", "EU")
        confirm = await fake.click(bob, preview, label="Confirm")
        refused = await confirm.reply()
    assert refused.ephemeral
    assert "`ALICE#1234` is already used by another player" in refused.text, refused.text
    assert "went wrong" not in refused.text
    assert player_state(bot, bob) == before
    assert keys(bot) == keys_before
    assert db_rows(bot, "SELECT discord_uid FROM players WHERE battletag IS NOT NULL") == [
        {"discord_uid": alice.id}
    ]
    assert_no_unexpected_errors(bot)


async def test_two_players_confirming_the_same_battletag_at_once_one_gets_it(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """Both previews pass every early check; only one Confirm may save the battletag."""
    fake, bot = fake_discord, ladder_bot
    carol, dave = await newcomers(fake, "carol", "dave")
    carol_preview = await setup_preview(fake, carol, "Carol", "Shared#1234", "NO", "EU")
    dave_preview = await setup_preview(fake, dave, "Dave", "shared#1234", "NL", "EU")
    before = {user.id: player_state(bot, user) for user in (carol, dave)}

    clicks = [
        await fake.click(carol, carol_preview, label="Confirm"),
        await fake.click(dave, dave_preview, label="Confirm"),
    ]
    await fake.settle()
    replies = [await click.reply() for click in clicks]
    for click in clicks:
        assert (await click.response()).type in (UPDATE_MESSAGE, CHANNEL_MESSAGE)
    # Either may come first (on PostgreSQL the two reads before the write race); one only wins.
    saved = [i for i, reply in enumerate(replies) if "Profile saved" in reply.text]
    assert len(saved) == 1, [reply.text for reply in replies]
    winner, loser = (carol, dave) if saved == [0] else (dave, carol)
    refused = replies[1 - saved[0]].text
    assert "already used by another player" in refused, refused
    assert player_state(bot, loser) == before[loser.id]
    assert db_rows(bot, "SELECT * FROM player_battletags") == [
        {"battletag_key": "shared#1234", "discord_uid": winner.id}
    ]
    assert_no_unexpected_errors(bot)
