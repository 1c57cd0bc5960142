"""Onboarding end to end: /termsofservice and /setup, as a newcomer sees them and SQLite keeps them.

Each test runs the real ``bot.py`` against the fake Discord and checks two things: what the player
sees, and what is in the database file afterwards (read-only while the bot runs). Invalid input
must be answered with a message that names the rule, and must write nothing at all.

The steps (``accept_terms``, ``submit_setup``, ``finish_setup``, ...) are in ``flows.py``, the
database reads (``db_rows``, ``player_state``, ...) in ``state.py``.
"""

from __future__ import annotations

from pathlib import Path

from ladder.guards import REFUSALS
from localdiscord import FakeDiscord, rules
from localdiscord.protocol import BUTTON, CHANNEL_MESSAGE, MESSAGE_COMPONENT, MODAL, UPDATE_MESSAGE

from .flows import (
    accept_terms,
    choose,
    command_reply,
    finish_setup,
    modal_values,
    newcomers,
    open_setup,
    page_of,
    pick_country_and_region,
    refused_setup,
    setup_preview,
    submit_setup,
)
from .harness import BotProcess, in_process_bot, running_client
from .state import assert_no_unexpected_errors, db_rows, db_write, player_row, player_state

TERMS_HINT = "/termsofservice"


# --------------------------------------------------------------------------------------------
# The newcomer's path.
# --------------------------------------------------------------------------------------------


async def test_newcomer_accepts_the_terms_sets_up_and_sees_the_profile(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    alice = fake.user("alice")

    refused = await command_reply(fake, alice, "profile")
    assert refused.ephemeral
    assert TERMS_HINT in refused.text
    assert player_row(bot, alice) is None  # a refusal creates no record

    terms = await command_reply(fake, alice, "termsofservice")
    assert terms.ephemeral
    assert {b["label"] for b in terms.buttons()} == {"Accept", "Decline"}
    accepted = await fake.click(alice, terms, label="Accept")
    after = await accepted.reply()
    assert "Accepted" in after.text and "/setup" in after.text
    assert not after.buttons()  # the decision is made: the buttons are gone

    row = player_row(bot, alice)
    assert row is not None
    assert row["accepted_tos"] == 1 and row["accepted_tos_at"]
    assert row["discord_name"] == "alice"
    assert row["completed_setup"] == 0 and row["player_name"] is None
    log = player_state(bot, alice)["log"]
    assert [(e["setting"], e["new_value"], e["changed_by"]) for e in log] == [
        ("accepted_tos", "yes", alice.id)
    ]

    # /setup: the modal, then the preview with its selects and buttons.
    opened = await open_setup(fake, alice)
    modal = opened.callback.modal
    assert modal["custom_id"] == f"setup:modal:{alice.id}:0"  # routed; draft 0: a new /setup
    assert set(modal_values(opened)) == {
        "setup:player_name",
        "setup:battletag",
        "setup:alt_1",
        "setup:alt_2",
    }
    submitted = await submit_setup(
        fake, alice, "Alice", "Alice#1234", ("AliceAlt", ""), opened_by=opened
    )
    assert (await submitted.response()).type == CHANNEL_MESSAGE
    preview = await submitted.reply()
    assert preview.ephemeral
    assert "Alice" in preview.text and "Alice#1234" in preview.text and "AliceAlt" in preview.text
    assert preview.component(label="Confirm").get("disabled")  # no country, no region yet
    assert player_row(bot, alice)["player_name"] is None  # nothing saved before Confirm

    preview = await pick_country_and_region(fake, alice, preview, "FR", "EU")
    assert "France" in preview.text and "Europe" in preview.text
    assert not preview.component(label="Confirm").get("disabled")
    confirm = await fake.click(alice, preview, label="Confirm")
    saved = await confirm.reply()
    assert "Profile saved" in saved.text
    assert not saved.buttons() and not saved.selects()

    row = player_row(bot, alice)
    assert {k: row[k] for k in ("player_name", "battletag", "alt_name_1", "alt_name_2")} == {
        "player_name": "Alice",
        "battletag": "Alice#1234",
        "alt_name_1": "AliceAlt",
        "alt_name_2": None,
    }
    assert (row["country"], row["region"], row["completed_setup"]) == ("FR", "EU", 1)
    assert row["completed_setup_at"]
    state = player_state(bot, alice)
    assert {(n["name_key"], n["kind"]) for n in state["names"]} == {
        ("alice", "main"),
        ("alicealt", "alt"),
    }
    settings = {e["setting"]: e["new_value"] for e in state["log"]}
    assert settings == {
        "accepted_tos": "yes",
        "player_name": "Alice",
        "battletag": "Alice#1234",
        "alt_name_1": "AliceAlt",
        "country": "FR",
        "region": "EU",
        "completed_setup": "yes",
    }

    profile = await command_reply(fake, alice, "profile")
    assert profile.ephemeral
    assert "Alice" in profile.text and "Alice#1234" in profile.text
    assert "France" in profile.text and "Europe" in profile.text


INVALID_INPUTS = [
    # (what, name, battletag, alt 1, words the error must contain)
    ("too short name", "ab", "Good#1234", "", ["3–12 characters", "`ab` has 2"]),
    ("too long name", "abcdefghijklm", "Good#1234", "", ["3–12 characters"]),
    ("battletag without #", "Goodname", "Good1234", "", ["Name#1234"]),
    ("battletag letters after #", "Goodname", "Good#12ab", "", ["3–12 digits"]),
    ("zero-width character", "ab\u200bcd", "Good#1234", "", ["zero width space", "U+200B"]),
    ("emoji", "abc\U0001f600", "Good#1234", "", ["\U0001f600", "not allowed"]),
    ("SQL in the name", "x'); DROP TABLE players;--", "Good#1234", "", ["not allowed"]),
    ("SQL after the #", "Goodname", "a#1; DROP TABLE x", "", ["3–12 digits"]),
    ("SQL before the #", "Goodname", "x';DROP--#1234", "", ["`'` is not allowed"]),
    ("alt repeats the name", "Goodname", "Good#1234", "GOODNAME", ["repeats"]),
    ("name already taken", "Bobby", "Good#1234", "", ["`Bobby` is already taken"]),
    ("name taken in another case", "bOBBY", "Good#1234", "", ["already taken"]),
    ("alt taken by another player", "Goodname", "Good#1234", "BobAlt", ["already taken"]),
    ("name is another player's alt", "bobalt", "Good#1234", "", ["already taken"]),
    ("full-width look-alike", "Ｂｏｂｂｙ", "Good#1234", "", ["already taken"]),
]


async def test_invalid_setup_input_is_explained_and_writes_nothing(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    bob = fake.user("bob")
    await finish_setup(fake, bob, "Bobby", "Bob#5555", ("BobAlt", ""))
    alice = fake.user("alice")
    await accept_terms(fake, alice)
    before = player_state(bot, alice)
    bob_before = player_state(bot, bob)
    assert before["row"] is not None and not before["names"]

    for what, name, battletag, alt, words in INVALID_INPUTS:
        await refused_setup(fake, alice, name, battletag, alt, what=what, words=words)
        assert player_state(bot, alice) == before, f"{what} changed the database"
        assert player_state(bot, bob) == bob_before, f"{what} changed another player"

    listing = (
        "SELECT table_name AS name FROM information_schema.tables"
        if bot.database_url is not None
        else "SELECT name FROM sqlite_master"
    )
    tables = {r["name"] for r in db_rows(bot, listing)}
    assert {"players", "player_names", "player_action_logs", "command_calls"} <= tables


async def test_decline_is_stored_and_an_old_terms_message_still_works_after_a_restart(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    dave = fake.user("dave")
    older_terms = await command_reply(fake, dave, "termsofservice")
    terms = await command_reply(fake, dave, "termsofservice")
    declined = await (await fake.click(dave, terms, label="Decline")).reply()
    assert "Declined" in declined.text and TERMS_HINT in declined.text
    assert not declined.buttons()
    row = player_row(bot, dave)
    assert row["accepted_tos"] == 0 and row["accepted_tos_at"]

    for command in ("profile", "setup", "setcountry"):
        options = {"country": "FR"} if command == "setcountry" else None
        refused = await command_reply(fake, dave, command, options)
        assert REFUSALS["terms"] in refused.text, command
    assert player_row(bot, dave) == row

    # Changing one's mind later, on the older message, after a restart: the buttons persist.
    await bot.restart()
    click = await fake.click(dave, older_terms, label="Accept")
    assert (await click.response()).type == UPDATE_MESSAGE
    assert "Accepted" in (await click.reply()).text
    assert player_row(bot, dave)["accepted_tos"] == 1
    log = player_state(bot, dave)["log"]
    assert [e["new_value"] for e in log if e["setting"] == "accepted_tos"][-1] == "yes"


async def test_restart_reopens_the_modal_prefilled_and_cancel_saves_nothing(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    erin = fake.user("erin")
    await accept_terms(fake, erin)
    before = player_state(bot, erin)

    preview = await (await submit_setup(fake, erin, "Erin", "Erin#1234", ("ErinB", ""))).reply()
    preview = await pick_country_and_region(fake, erin, preview, "DE", "EU")

    restart = await fake.click(erin, preview, label="Restart")
    assert (await restart.response()).type == MODAL
    assert modal_values(restart) == {
        "setup:player_name": "Erin",
        "setup:battletag": "Erin#1234",
        "setup:alt_1": "ErinB",
        "setup:alt_2": "",
    }
    resubmitted = await fake.submit_modal(erin, restart, {"setup:player_name": "Erin2"})
    # Submitted from the preview: the preview itself is updated, country and region kept.
    assert (await resubmitted.response()).type == UPDATE_MESSAGE
    preview = await resubmitted.reply()
    assert "Erin2" in preview.text and "Germany" in preview.text and "Europe" in preview.text
    assert not preview.component(label="Confirm").get("disabled")
    assert player_state(bot, erin) == before  # still nothing saved

    cancelled = await (await fake.click(erin, preview, label="Cancel")).reply()
    assert "nothing was saved" in cancelled.text.lower()
    assert not cancelled.buttons() and not cancelled.selects()
    assert player_state(bot, erin) == before

    # A later /setup opens empty again (nothing was kept from the cancelled one).
    reopened = await open_setup(fake, erin)
    assert modal_values(reopened)["setup:player_name"] == ""


async def test_setup_again_is_prefilled_and_saves_only_the_changes(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    finn = fake.user("finn")
    await finish_setup(fake, finn, "Finn", "Finn#1234", country="SE", region="EU")
    log_before = len(player_state(bot, finn)["log"])

    opened = await open_setup(fake, finn)
    assert modal_values(opened)["setup:player_name"] == "Finn"
    assert modal_values(opened)["setup:battletag"] == "Finn#1234"
    submitted = await fake.submit_modal(finn, opened, {"setup:battletag": "Finn#9999"})
    preview = await submitted.reply()
    assert "Sweden" in preview.text  # country and region come from the record
    saved = await (await fake.click(finn, preview, label="Confirm")).reply()
    assert "1 change saved" in saved.text

    row = player_row(bot, finn)
    assert (row["player_name"], row["battletag"], row["country"]) == ("Finn", "Finn#9999", "SE")
    log = player_state(bot, finn)["log"]
    assert [(e["setting"], e["old_value"], e["new_value"]) for e in log[log_before:]] == [
        ("battletag", "Finn#1234", "Finn#9999")
    ]


async def test_two_players_set_up_at_the_same_time(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """Each player's /setup preview answers its own player, whoever opened one last."""
    fake, bot = fake_discord, ladder_bot
    gina, hugo = await newcomers(fake, "gina", "hugo")
    gina_preview = await (await submit_setup(fake, gina, "Gina", "Gina#1234")).reply()
    hugo_preview = await (await submit_setup(fake, hugo, "Hugo", "Hugo#1234")).reply()

    # gina works on her preview after hugo opened his: her clicks must reach her own view.
    gina_preview = await pick_country_and_region(fake, gina, gina_preview, "IT", "EU")
    hugo_preview = await pick_country_and_region(fake, hugo, hugo_preview, "ES", "EU")
    await fake.click(gina, gina_preview, label="Confirm")
    await fake.click(hugo, hugo_preview, label="Confirm")
    await fake.settle()
    assert (player_row(bot, gina)["player_name"], player_row(bot, gina)["country"]) == (
        "Gina",
        "IT",
    )
    assert (player_row(bot, hugo)["player_name"], player_row(bot, hugo)["country"]) == (
        "Hugo",
        "ES",
    )


async def test_a_name_claimed_while_previewing_is_refused_on_confirm(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """Both previews pass the early name check; the second Confirm must still be refused."""
    fake, bot = fake_discord, ladder_bot
    nina, omar = await newcomers(fake, "nina", "omar")
    nina_preview = await setup_preview(fake, nina, "Star", "Nina#1234", "NO", "EU")
    omar_preview = await setup_preview(fake, omar, "STAR", "Omar#1234", "EG", "EU")
    omar_before = player_state(bot, omar)

    saved = await (await fake.click(nina, nina_preview, label="Confirm")).reply()
    assert "Profile saved" in saved.text
    refused = await (await fake.click(omar, omar_preview, label="Confirm")).reply()
    assert "already taken" in refused.text and refused.ephemeral
    assert player_state(bot, omar) == omar_before
    names = db_rows(bot, "SELECT discord_uid FROM player_names WHERE name_key = 'star'")
    assert names == [{"discord_uid": nina.id}]


async def test_a_player_who_finished_setup_can_join_the_queue(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """The saved profile says "Next: /queue to play": the Join button must queue the player."""
    fake, bot = fake_discord, ladder_bot
    pia = fake.user("pia")
    await finish_setup(fake, pia, "Pia", "Pia#1234")
    queue = await command_reply(fake, pia, "queue")
    joined = await (await fake.click(pia, queue, label="Join")).reply()
    assert "not in the queue" not in joined.text, joined.text
    again = await command_reply(fake, pia, "queue")
    assert "already in the queue" in again.text, again.text
    await bot.stop()
    assert db_rows(bot, "SELECT discord_uid FROM queue_entries") == [{"discord_uid": pia.id}]
    assert_no_unexpected_errors(bot)


async def test_setup_before_the_terms_is_refused(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    ivy = fake_discord.user("ivy")
    refused = await command_reply(fake_discord, ivy, "setup")
    assert REFUSALS["terms"] in refused.text
    assert player_row(ladder_bot, ivy) is None


async def test_setup_left_open_over_a_restart_still_works(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """A /setup preview or modal left open over a restart carries on where it was.

    The draft is in SQLite and the custom_ids say which one, so nothing is lost with the
    process: the preview's Confirm saves what it shows, the modal's submit shows a preview.
    """
    fake, bot = fake_discord, ladder_bot
    jay, kay = await newcomers(fake, "jay", "kay")
    preview = await (await submit_setup(fake, jay, "Jay", "Jay#1234")).reply()
    preview = await choose(fake, jay, preview, "setup:country_page", page_of("US"))
    modal = await open_setup(fake, kay)  # kay is still typing when the bot restarts
    await bot.restart()

    # The page picked before the restart is still the one the preview offers.
    preview = await choose(fake, jay, preview, "setup:country", "US")
    preview = await choose(fake, jay, preview, "setup:region", "NA")
    saved = await (await fake.click(jay, preview, label="Confirm")).reply()
    assert "Profile saved" in saved.text, saved.text
    row = player_row(bot, jay)
    assert (row["player_name"], row["country"], row["region"]) == ("Jay", "US", "NA")

    kay_preview = await (await submit_setup(fake, kay, "Kay", "Kay#1234", opened_by=modal)).reply()
    assert kay_preview.ephemeral and "preview" in kay_preview.text.lower(), kay_preview.text
    await bot.restart()
    kay_preview = await pick_country_and_region(fake, kay, kay_preview, "CA", "NA")
    assert (
        "Profile saved"
        in (await (await fake.click(kay, kay_preview, label="Confirm")).reply()).text
    )
    assert player_row(bot, kay)["player_name"] == "Kay"
    assert not db_rows(bot, "SELECT * FROM setup_drafts")  # Confirm drops the draft


async def test_setup_drafts_expire_and_are_replaced(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """A preview whose draft is gone answers "expired" and changes nothing: one replaced by a
    newer /setup, one confirmed already, one over an hour old (found after a restart)."""
    fake, bot = fake_discord, ladder_bot
    lou = fake.user("lou")
    await accept_terms(fake, lou)
    first = await (await submit_setup(fake, lou, "Lou", "Lou#1234")).reply()
    second = await setup_preview(fake, lou, "Lou2", "Lou#2222", "FR", "EU")

    stale = await fake.click(lou, first, label="Restart")  # the newer /setup replaced it
    assert (await stale.response()).type == CHANNEL_MESSAGE
    assert "expired" in (await stale.reply()).text.lower()
    confirm_id = second.component(label="Confirm")["custom_id"]
    assert "Profile saved" in (await (await fake.click(lou, second, label="Confirm")).reply()).text
    before = player_state(bot, lou)
    # A second Confirm, as a client that still shows the old preview would send it.
    data = {"custom_id": confirm_id, "component_type": BUTTON}
    again = await fake.inject(MESSAGE_COMPONENT, lou, data, channel=second.channel,
                               message=second)  # fmt: skip
    assert "expired" in (await again.reply()).text.lower()
    assert player_state(bot, lou) == before

    third = await (await submit_setup(fake, lou, "Lou3", "Lou#3333")).reply()
    await bot.stop()
    db_write(bot, "UPDATE setup_drafts SET created_at = '2000-01-01 00:00:00.000'")
    await bot.start()
    late = await fake.click(lou, third, label="Cancel")
    assert "expired" in (await late.reply()).text.lower()
    assert player_state(bot, lou) == before
    await bot.stop()
    outcomes = db_rows(
        bot,
        "SELECT command, outcome FROM command_calls WHERE kind = 'component' ORDER BY id",
    )
    expired = [r["command"] for r in outcomes if r["outcome"] == "refused:expired"]
    assert expired == ["setup:restart", "setup:confirm", "setup:cancel"], outcomes


async def test_terms_buttons_keep_working_once_shown_terms_have_expired(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The Accept / Decline buttons are routed by custom_id: they must work on any terms
    message, also once every view nextcord might keep has timed out (15 minutes for an
    ephemeral message; the bot should keep none), and no expired view may bring back buttons
    already answered.

    Runs the bot in this event loop (not as a subprocess) so that the time-outs can be
    triggered instead of waited for.
    """
    fake = fake_discord
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        kim, leo = fake.user("kim"), fake.user("leo")
        kim_terms = await command_reply(fake, kim, "termsofservice")
        leo_terms = await command_reply(fake, leo, "termsofservice")
        await (await fake.click(kim, kim_terms, label="Accept")).reply()
        assert not kim_terms.buttons()

        # 15 minutes pass: every view that has a timeout expires, as nextcord would do it.
        for view in bot._connection._view_store.all_views():
            if view.timeout is not None:
                view.stop()
                await view.on_timeout()

        problems = []
        if kim_terms.buttons():
            problems.append("an expired view put the answered Accept/Decline buttons back")
        click = await fake.click(leo, leo_terms, label="Accept")
        await fake.settle()
        if [v for v in fake.take_violations() if v.rule == "no-response"]:
            problems.append("Accept on a terms message got no answer once views expired")
        else:
            assert (await click.response()).type == UPDATE_MESSAGE
            assert (await bot.players.get(leo.id)).accepted_tos
        assert not problems, problems


# --------------------------------------------------------------------------------------------
# /setcountry and its autocomplete.
# --------------------------------------------------------------------------------------------


async def test_setcountry_autocomplete_stores_the_chosen_code_and_refuses_the_rest(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    fake, bot = fake_discord, ladder_bot
    mia = fake.user("mia")
    await accept_terms(fake, mia)

    async def choices(typed: str) -> list[dict]:
        inter = await fake.autocomplete(mia, "setcountry", "country", typed)
        found = (await inter.response()).choices
        assert len(found) <= rules.AUTOCOMPLETE_CHOICES, typed
        return found

    french = await choices("fr")
    assert french[0] == {"name": "France", "value": "FR"}
    assert len(await choices("")) == rules.AUTOCOMPLETE_CHOICES
    united = [c["name"] for c in await choices("united")]
    assert "United Kingdom" in united and "United States" in united
    assert await choices("zzzzqqq") == []

    before = player_state(bot, mia)
    reply = await command_reply(fake, mia, "setcountry", {"country": french[0]["value"]})
    assert reply.ephemeral and "is now" in reply.text and "France" in reply.text
    assert player_row(bot, mia)["country"] == "FR"
    log = player_state(bot, mia)["log"]
    assert [(e["setting"], e["old_value"], e["new_value"]) for e in log[len(before["log"]) :]] == [
        ("country", None, "FR")
    ]

    # The same country again changes nothing and logs nothing.
    after_first = player_state(bot, mia)
    again = await command_reply(fake, mia, "setcountry", {"country": "FR"})
    assert "was already" in again.text
    assert player_state(bot, mia) == after_first

    # A name typed without picking from the list is understood too.
    typed = await command_reply(fake, mia, "setcountry", {"country": "germany"})
    assert "Germany" in typed.text
    assert player_row(bot, mia)["country"] == "DE"

    stored = player_state(bot, mia)
    for bad in ("Atlantis", "'; DROP TABLE players;--", "\u200b", "🇫🇷🇫🇷"):
        refused = await command_reply(fake, mia, "setcountry", {"country": bad})
        assert refused.ephemeral
        assert "pick a country from the list" in refused.text, (bad, refused.text)
        assert player_state(bot, mia) == stored, f"{bad!r} changed the database"

    profile = await command_reply(fake, mia, "profile")
    assert "Germany" in profile.text
