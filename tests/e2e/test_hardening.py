"""What a hostile player, a careless admin and an unlucky restart could still do, end to end.

Each test runs the real bot against the fake Discord and failed before its fix:
* no-op clicks no longer edit the opponent's DM (one REST call each from the shared limit);
* Decline stops play: a Join button shown earlier is refused, and a queued player leaves;
* a ban, an unban and /setup reach the live leaderboard at once;
* a match message whose edit was lost is rendered again from SQLite at the next start;
* a SIGTERM with report clicks in flight: every click the bot took is finished and answered
  before the database closes, and after the restart every message shows the stored state.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import CHANNEL_MESSAGE, UPDATE_MESSAGE
from tests.reliability.e2e_helpers import assert_ladder_invariants

from .flows import (
    ask,
    command_reply,
    confirm,
    enabled_labels,
    finish_setup,
    forged_click,
    half_confirmed,
    join_queue,
    labels,
    ladder_with,
    open_queue,
    press,
    started_match,
    wait_text,
)
from .harness import WAIT, BotProcess
from .state import assert_no_unexpected_errors, db_rows, match_row


def edits_of(fake: FakeDiscord, message: RecordedMessage) -> int:
    """How many times the bot asked to edit ``message`` through the REST API."""
    path = f"/channels/{message.channel.id}/messages/{message.id}"
    return sum(1 for r in fake.requests if r.method == "PATCH" and r.path.endswith(path))


def edited_embeds(fake: FakeDiscord, message: RecordedMessage) -> list[Any]:
    """The embeds of each edit of ``message`` the bot asked for, in order."""
    path = f"/channels/{message.channel.id}/messages/{message.id}"
    return [
        r.body.get("embeds") if isinstance(r.body, dict) else None
        for r in fake.requests
        if r.method == "PATCH" and r.path.endswith(path)
    ]


def without_times(embeds: Any) -> str:
    """``embeds`` with every Discord timestamp (<t:1700000000:R>) the same."""
    return re.sub(r"<t:\d+(:\w)?>", "<t>", json.dumps(embeds, sort_keys=True))


async def test_clicks_that_change_nothing_do_not_edit_the_opponents_message(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    dm_a, dm_b = await half_confirmed(fake, alice, bob)
    await fake.settle()
    before, shown = edits_of(fake, dm_b), copy.deepcopy(dm_b.embeds)

    # Twenty more Confirm clicks from Alice (a modified client: her button is disabled).
    clicks = [await forged_click(fake, alice, dm_a, "match:1:confirm") for _ in range(20)]
    answers = [(await click.response()).type for click in clicks]
    assert set(answers) == {UPDATE_MESSAGE}, answers
    assert "Confirmed — waiting for opponent" in labels(dm_a)
    assert match_row(bot, 1)["status"] == "awaiting_confirmation"
    # A change that does concern Bob, as a marker: his message is edited for it, once, and
    # for nothing before it.
    await press(fake, alice, dm_a, "Abort (3 left this month)")
    await wait_text(fake, dm_b, "Aborted")
    await fake.settle()
    # Besides the abort's edit, one may come that the bot owed Bob already: his DM showed the
    # deadline computed before it went out, and the window moved when it did (cogs/matches.py
    # _send_one); the next refresh shows the moved one, at a moment this test cannot see. It
    # changes the deadline's timestamp only. A no-op click must change nothing at all.
    edits = edited_embeds(fake, dm_b)[before:]
    assert "Aborted" in str(edits[-1]), edits[-1]
    for embeds in edits[:-1]:
        assert embeds != shown, "a no-op click edited the opponent's message"
        assert without_times(embeds) == without_times(shown), f"{shown} -> {embeds}"
        shown = embeds
    assert len(edits) <= 2, f"{len(edits)} edits of the opponent's message"
    await bot.stop()  # every click is logged (the writer drains at the stop)
    rows = db_rows(
        bot,
        "SELECT kind, command, outcome FROM command_calls WHERE discord_uid = ? AND kind = ?",
        (alice.id, "component"),
    )
    assert sum(1 for r in rows if r["command"] == "match:confirm") == 21
    assert sum(1 for r in rows if r["command"] == "match:abort") == 1
    assert_no_unexpected_errors(bot)


async def test_declining_the_terms_stops_play_on_every_path(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice,) = await ladder_with(bot_process, tmp_path, "Alice")

    # A queue menu opened while she had accepted ...
    menu = await open_queue(fake, alice)
    terms = await command_reply(fake, alice, "termsofservice")
    await press(fake, alice, terms, "Decline")
    # ... cannot queue her after she declined.
    click = await fake.click(alice, menu, label="Join")
    assert (await click.response()).type == CHANNEL_MESSAGE
    refusal = await click.reply()
    assert refusal.ephemeral and "/termsofservice" in refusal.text, refusal.text
    assert not db_rows(bot, "SELECT * FROM queue_entries")

    # Queued, then Decline: she leaves the queue in the same transaction.
    terms = await command_reply(fake, alice, "termsofservice")
    await press(fake, alice, terms, "Accept")
    queued = await join_queue(fake, alice)
    assert len(db_rows(bot, "SELECT * FROM queue_entries")) == 1
    terms = await command_reply(fake, alice, "termsofservice")
    await press(fake, alice, terms, "Decline")
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    # Her queue message no longer says she is queued, nor offers Cancel.
    await wait_text(fake, queued, "You declined the terms")
    assert not queued.buttons()
    await bot.stop()
    outcomes = db_rows(
        bot,
        "SELECT command, outcome FROM command_calls WHERE kind = 'component'"
        " AND command = 'queue_view:join' ORDER BY interaction_id",
    )
    assert [r["outcome"] for r in outcomes] == ["refused:terms", "ok"]


async def test_ban_unban_and_setup_reach_the_live_leaderboard(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", admins=(root,))
    dm_a, dm_b = await started_match(fake, alice, bob)
    await press(fake, alice, dm_a, "I won")
    await press(fake, bob, dm_b, "I lost")
    await fake.wait_until(lambda: match_row(bot, 1)["status"] == "finished", WAIT, "rated")

    board = await command_reply(fake, alice, "leaderboard")
    assert "Alice" in board.text and "Bob" in board.text, board.text

    await confirm(fake, root, await ask(fake, root, "ban", {"player": bob, "reason": "cheat"}))
    board = await command_reply(fake, alice, "leaderboard")
    assert "Bob" not in board.text and "Alice" in board.text, board.text

    await ask(fake, root, "unban", {"player": bob, "reason": "appeal"})
    board = await command_reply(fake, alice, "leaderboard")
    assert "Bob" in board.text, board.text

    await finish_setup(fake, alice, "Alicia", "Alice#1234", country="DE")
    board = await command_reply(fake, bob, "leaderboard")
    assert "Alicia" in board.text and "🇩🇪" in board.text, board.text
    # One transaction: the ban, its admin_actions row, and (had he been queued) the removal.
    actions = db_rows(bot, "SELECT action FROM admin_actions ORDER BY id")
    assert [a["action"] for a in actions] == ["ban", "unban"]
    assert_no_unexpected_errors(bot)
    await assert_ladder_invariants(bot)


async def test_a_lost_edit_is_repaired_from_the_database_at_start(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    dm_a, dm_b = await half_confirmed(fake, alice, bob)
    fake.refused_edits.add(dm_a.id)  # from now on Alice's DM cannot be edited
    await press(fake, bob, dm_b, "Confirm")  # the match starts: Alice's DM should say so
    await fake.settle()
    assert "Confirmed — waiting for opponent" in labels(dm_a)  # the edit was lost
    assert match_row(bot, 1)["status"] == "in_progress"
    await bot.stop()

    fake.refused_edits.clear()
    bob_edits = edits_of(fake, dm_b)
    await bot.start()
    # At start every open match's messages are compared with SQLite and repaired.
    await fake.wait_until(lambda: "I won" in enabled_labels(dm_a), WAIT, "Alice's DM repaired")
    await fake.settle()
    assert edits_of(fake, dm_b) == bob_edits  # Bob's already showed the stored state
    assert_no_unexpected_errors(bot)


async def test_sigterm_with_report_clicks_in_flight_loses_nothing_and_messages_follow(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, players = await ladder_with(bot_process, tmp_path, *[f"Racer{n}" for n in range(8)])
    pairs = [(players[i], players[i + 1]) for i in range(0, len(players), 2)]
    dms: dict[int, RecordedMessage] = {}
    for number, (a, b) in enumerate(pairs, start=1):
        dms[a.id], dms[b.id] = await started_match(fake, a, b, number)
    rows = db_rows(bot, "SELECT id, player1_uid FROM matches")
    match_of = {}
    for row in db_rows(bot, "SELECT match_id, discord_uid FROM match_messages"):
        match_of[row["discord_uid"]] = row["match_id"]
    firsts = {r["player1_uid"] for r in rows}

    # Every player reports at once, and SIGTERM follows right behind the clicks.
    async def report(user: FakeUser):
        outcome = "win" if user.id in firsts else "loss"
        return await forged_click(
            fake, user, dms[user.id], f"match:{match_of[user.id]}:report:{outcome}"
        )

    clicks = await asyncio.gather(*(report(u) for u in players))
    await bot.stop()
    await fake.settle()
    fake.take_violations()  # clicks the bot never read are Discord's to fail
    assert "closed database" not in bot.log_text().lower()
    stored = {
        (r["id"], r["player1_report"], r["player2_report"], r["status"])
        for r in db_rows(bot, "SELECT * FROM matches")
    }
    by_match = {s[0]: s for s in stored}
    for user, click in zip(players, clicks, strict=True):
        mid = match_of[user.id]
        row = match_row(bot, mid)
        side = 1 if row["player1_uid"] == user.id else 2
        mine = row[f"player{side}_report"]
        if click.callback is not None and click.callback.type == UPDATE_MESSAGE:
            assert mine is not None, (user.username, by_match[mid])  # answered: stored
        elif click.callback is None:
            assert mine is None, (user.username, by_match[mid])  # never read: not stored

    # After the restart every message shows what SQLite holds.
    await bot.start()
    for user in players:
        row = match_row(bot, match_of[user.id])
        side = 1 if row["player1_uid"] == user.id else 2
        message = dms[user.id]
        if row["status"] == "finished":
            await wait_text(fake, message, "Match finished")
        elif row[f"player{side}_report"] is not None:
            await fake.wait_until(
                lambda m=message: "I won" not in enabled_labels(m), WAIT, "reported buttons"
            )
        else:
            await fake.wait_until(
                lambda m=message: "I won" in enabled_labels(m), WAIT, "report buttons"
            )
    assert_no_unexpected_errors(bot)
    await assert_ladder_invariants(bot)


async def test_queue_messages_say_when_an_admin_takes_players_out(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob, carol) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Carol", admins=(root,), wave_interval_seconds=3600
    )
    queued = {u.id: await join_queue(fake, u, ("bw_terran",)) for u in (alice, bob, carol)}

    await ask(fake, root, "dequeue", {"player": alice, "reason": "afk"})
    await wait_text(fake, queued[alice.id], "An admin took you out of the queue")
    await confirm(fake, root, await ask(fake, root, "ban", {"player": bob, "reason": "cheat"}))
    await wait_text(fake, queued[bob.id], "no longer in the queue")
    await confirm(fake, root, await ask(fake, root, "clearqueue", {"reason": "reset"}))
    await wait_text(fake, queued[carol.id], "An admin emptied the queue")
    for message in queued.values():
        assert not message.buttons()
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    assert_no_unexpected_errors(bot)
