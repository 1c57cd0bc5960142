"""Every player-facing flow in every language, through the real bot: no English leaks.

Each flow (a newcomer's terms and /setup, the queue and a match reported to its end, a dispute
an admin rules on) is played by users whose Discord app speaks one locale, clicking by
custom_id (tests/e2e/language_flows.py). Then everything each of them was shown — message
content, embeds, buttons, selects, modals, as first sent and after every edit — is searched for
an English text of the template whose translation in that language differs from it
(tests/support/leaks.py). English players are the control: nothing is ever a leak for them,
and the flows must still work.

A player's /language choice beats their Discord app, is stored (players.language), survives a
restart, and is used for what the bot writes to them unprompted (the match found DM).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from i18n import from_discord
from localdiscord import FakeDiscord
from tests.support.leaks import LeakDetector, Seen, describe

from .flows import command_reply, start_ladder_bot
from .harness import WAIT, BotProcess
from .language_flows import (
    accept_terms_by_id,
    ask_by_id,
    disputed_by_id,
    finished,
    has_id,
    matched_pair_by_id,
    onboard_in,
    press_id,
    refused_setup_by_id,
    report,
    rule_dispute,
    seen_by,
    seen_since,
    setup_by_id,
    speaker,
    started_match_by_id,
)
from .state import assert_no_unexpected_errors, db_rows, match_row, player_row

# Discord's locale codes for our languages; en-US is the control.
LOCALES = ["en-US", "es-ES", "ko", "ru", "zh-CN"]
TRANSLATED = [code for code in LOCALES if code != "en-US"]
# What each language's own script looks like (Spanish is written in Latin letters, like English).
SCRIPTS = {"ko": re.compile(r"[\uac00-\ud7a3]"), "ru": re.compile(r"[\u0400-\u04ff]"),
           "zh_CN": re.compile(r"[\u4e00-\u9fff]")}  # fmt: skip


def language_of(locale: str) -> str:
    language = from_discord(locale)
    assert language is not None, locale
    return language


def assert_no_english(language: str, *seen: Iterable[Seen]) -> None:
    texts = [s for texts in seen for s in texts]
    assert texts, "nothing was seen: the flow did not run"
    leaks = LeakDetector.for_language(language).leaks(texts)
    assert not leaks, f"[{language}] " + describe(leaks)


def written_in(language: str, text: str) -> bool:
    """Whether `text` has letters of `language`'s script (always true for Spanish/English)."""
    script = SCRIPTS.get(language)
    return script is None or bool(script.search(text))


# --------------------------------------------------------------------------------------------
# The newcomer: terms, /setup's modal (one refusal on the way), country and region, Confirm.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_newcomer_signs_up_in_their_language(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path,
    locale: str,
) -> None:
    fake = fake_discord
    bot = await start_ladder_bot(bot_process, tmp_path)
    user = speaker(fake, "newcomer", locale)

    # Before the terms: refused, in their language.
    early = await command_reply(fake, user, "queue")
    assert early.ephemeral and not has_id(early, "queue_view:join"), early.text
    await accept_terms_by_id(fake, user)
    assert player_row(bot, user)["accepted_tos"] == 1

    await refused_setup_by_id(fake, user, "Newcomer", "no battletag")
    saved = await setup_by_id(fake, bot, user, "Newcomer", country="KR", region="EU")
    assert not has_id(saved, "setup:confirm"), saved.text
    assert player_row(bot, user)["completed_setup"] == 1

    profile = await command_reply(fake, user, "profile")
    assert "Newcomer" in profile.text, profile.text

    assert_no_english(language_of(locale), seen_by(fake, user))
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# The queue and a match: /queue, Join, the match found DM to both, Confirm, win and loss.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_match_is_played_and_reported_in_their_language(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path,
    locale: str,
) -> None:
    fake = fake_discord
    bot = await start_ladder_bot(bot_process, tmp_path)
    alice, bob = await onboard_in(fake, bot, locale, "Alice", "Bob")

    dm_a, dm_b = await started_match_by_id(fake, bot, alice, bob)
    await report(fake, alice, dm_a, "win")
    await report(fake, bob, dm_b, "loss")
    row = await finished(fake, bot, 1, dm_a, dm_b)
    assert row["decided_by"] == "agreement"
    assert row["result"] == ("p1_win" if row["player1_uid"] == alice.id else "p2_win")

    language = language_of(locale)
    assert_no_english(language, seen_by(fake, alice), seen_by(fake, bob))
    for dm in (dm_a, dm_b):
        assert "Alice" in dm.text and "Bob" in dm.text, dm.text  # names stay as typed
        assert written_in(language, dm.text), dm.text
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# A dispute: both report a win; the admin is told, lists the disputes and rules.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_dispute_is_reported_and_ruled_in_their_language(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path,
    locale: str,
) -> None:
    fake = fake_discord
    root = speaker(fake, "root", locale)
    bot = await start_ladder_bot(bot_process, tmp_path, admins=(root,))
    # The admin has used the bot before (without /language): it knows their app's language.
    await command_reply(fake, root, "help")
    alice, bob = await onboard_in(fake, bot, locale, "Alice", "Bob")

    dm_a, dm_b = await disputed_by_id(fake, bot, alice, bob)
    assert match_row(bot, 1)["status"] == "disputed"

    told = await fake.next_dm(root, within=WAIT)  # the admin is told, in the admin's language
    assert "Alice" in told.text and "Bob" in told.text, told.text
    listed = await ask_by_id(fake, root, "disputes")
    assert f"<@{alice.id}>" in listed.text and f"<@{bob.id}>" in listed.text, listed.text
    await ask_by_id(fake, root, "match", {"match_id": 1})

    await rule_dispute(fake, root, 1, "p1_win", "replay 1")
    row = await finished(fake, bot, 1, dm_a, dm_b)
    assert (row["result"], row["decided_by"]) == ("p1_win", "admin")
    (ruled,) = db_rows(bot, "SELECT status, ruling FROM disputes")
    assert (ruled["status"], ruled["ruling"]) == ("resolved", "p1_win")

    language = language_of(locale)
    assert_no_english(language, seen_by(fake, alice), seen_by(fake, bob))
    assert_no_english(language, seen_by(fake, root))
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# /language: beats the Discord app, reaches the match found DM, survives a restart.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chosen", [language_of(code) for code in TRANSLATED])
async def test_a_chosen_language_beats_the_app_and_survives_a_restart(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path,
    chosen: str,
) -> None:
    fake = fake_discord
    bot = await start_ladder_bot(bot_process, tmp_path)
    # Both players' Discord apps are in English; only Alice picks another language.
    alice, bob = await onboard_in(fake, bot, "en-US", "Alice", "Bob")
    before_choice = seen_by(fake, alice)

    answer = await command_reply(fake, alice, "language", {"language": chosen})
    assert answer.ephemeral
    assert player_row(bot, alice)["language"] == chosen
    assert player_row(bot, bob)["language"] is None

    # The match found DM, which Alice did not ask for, is in her language; Bob's in English.
    dm_a, dm_b = await matched_pair_by_id(fake, bot, alice, bob)
    await press_id(fake, alice, dm_a, "match:1:confirm")
    assert_no_english(chosen, seen_since(fake, alice, before_choice))
    assert written_in(chosen, dm_a.text), dm_a.text
    if chosen in SCRIPTS:
        assert not SCRIPTS[chosen].search(dm_b.text), dm_b.text

    # After a restart the choice is read back from the database.
    await bot.restart()
    before_restart = seen_by(fake, alice)
    profile = await command_reply(fake, alice, "profile")
    assert written_in(chosen, profile.text), profile.text
    assert_no_english(chosen, seen_since(fake, alice, before_restart))
    assert player_row(bot, alice)["language"] == chosen

    # Back to the Discord app's language: English again (nothing is a leak in English).
    await command_reply(fake, alice, "language", {"language": "auto"})
    assert player_row(bot, alice)["language"] is None
    assert_no_unexpected_errors(bot)
