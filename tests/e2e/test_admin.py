"""/admin end to end: ruling on a dispute, the other admin tools, and who may use them.

Every admin action that changes a result, a rating, a ban or the queue asks the admin to
confirm; only the admin who asked can press Confirm, and each action leaves one
``admin_actions`` row. A non-admin is refused every subcommand with ``refused:admin`` in the
command log, and nothing changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cogs.admin import ALREADY_ANSWERED
from ladder.guards import REFUSALS
from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import (
    CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    OPT_SUB_COMMAND,
    UPDATE_MESSAGE,
)

from .flows import (
    accept_terms,
    add_evidence,
    ask,
    command_reply,
    confirm,
    dispute,
    forged_click,
    join_queue,
    labels,
    ladder_with,
    matched_pair,
    onboard,
    open_setup,
    pick_country_and_region,
    press,
    refused_click,
    start_ladder_bot,
    started_match,
    submit_setup,
    wait_text,
)
from .harness import WAIT, BotProcess
from .state import assert_no_unexpected_errors, db_rows, match_row, player_row, ratings

ADMIN_ONLY = REFUSALS["admin"]


def admin_actions(bot: BotProcess) -> list[dict]:
    rows = db_rows(bot, "SELECT * FROM admin_actions ORDER BY id")
    for row in rows:
        row["details"] = json.loads(row["details"]) if row["details"] else None
    return rows


# --------------------------------------------------------------------------------------------
# Scenario 3: conflicting reports, a dispute with evidence, listed and ruled by the admin.
# --------------------------------------------------------------------------------------------


async def test_conflicting_reports_are_disputed_and_resolved_by_an_admin(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", admins=(root,))
    dm_a, dm_b = await dispute(fake, alice, bob)

    # Both reported a win: disputed, nothing rated, both told an admin will rule.
    row = match_row(bot, 1)
    assert row["status"] == "disputed" and row["result"] is None
    assert (row["player1_report"], row["player2_report"]) == ("win", "win")
    assert not db_rows(bot, "SELECT * FROM rating_log")
    assert set(ratings(bot).values()) == {1500}
    disputes = db_rows(bot, "SELECT * FROM disputes")
    assert [(d["match_id"], d["status"]) for d in disputes] == [(1, "open")]
    for dm in (dm_a, dm_b):
        assert "admin" in dm.text.lower()
        assert labels(dm) == ["Add evidence"]
    refusal = await refused_click(fake, bob, dm_b, custom_id="match:1:report:loss")
    assert "already reported a **win**" in refusal.text, refusal.text

    # The admin is told by DM, once.
    told = await fake.next_dm(root, within=WAIT)
    assert "Dispute on match #1" in told.text and "/admin resolve" in told.text
    assert "Alice" in told.text and "Bob" in told.text
    assert len(fake.dms(root)) == 1

    # Evidence through the button and its modal: stored verbatim; a bad link stores nothing.
    thanks = await add_evidence(
        fake, bob, dm_b, "I won on Eclipse", "https://replays.example/b.rep"
    )
    assert thanks.ephemeral and "Evidence added" in thanks.text, thanks.text
    bad = await add_evidence(fake, alice, dm_a, "", "ftp://nope")
    assert bad.ephemeral and "http" in bad.text, bad.text
    stored = db_rows(bot, "SELECT * FROM dispute_evidence")
    assert [(e["dispute_id"], e["discord_uid"], e["note"], e["url"]) for e in stored] == [
        (disputes[0]["id"], bob.id, "I won on Eclipse", "https://replays.example/b.rep")
    ]

    listed = await ask(fake, root, "disputes")
    assert "Open disputes (1)" in listed.text, listed.text
    assert "Match #1" in listed.text and "win / win" in listed.text
    assert f"<@{alice.id}>" in listed.text and f"<@{bob.id}>" in listed.text
    assert "I won on Eclipse" in listed.text and "https://replays.example/b.rep" in listed.text
    looked_up = await ask(fake, root, "match", {"match_id": 1})
    assert "Match #1" in looked_up.text and "Disputed" in looked_up.text

    # Cancel first: nothing changes.
    question = await ask(
        fake, root, "resolve", {"match_id": 1, "ruling": "p1_win", "reason": "replay"}
    )
    cancel = await fake.click(root, question, label="Cancel")
    assert (await cancel.response()).type == UPDATE_MESSAGE
    assert "nothing changed" in (await cancel.reply()).text
    assert match_row(bot, 1)["status"] == "disputed"
    assert not admin_actions(bot)

    # Then rule for player 1.
    p1, p2 = match_row(bot, 1)["player1_uid"], match_row(bot, 1)["player2_uid"]
    question = await ask(
        fake, root, "resolve", {"match_id": 1, "ruling": "p1_win", "reason": "replay shows it"}
    )
    assert "p1_win" in question.text and "match #1" in question.text
    done = await confirm(fake, root, question)
    assert "Match #1: p1_win" in done.text and "1500 → 1520" in done.text, done.text
    assert "1500 → 1480" in done.text

    row = match_row(bot, 1)
    assert (row["status"], row["result"], row["decided_by"]) == ("finished", "p1_win", "admin")
    assert ratings(bot) == {(p1, row["player1_race"]): 1520, (p2, row["player2_race"]): 1480}
    assert [r["match_id"] for r in db_rows(bot, "SELECT * FROM rating_log")] == [1]
    (ruled,) = db_rows(bot, "SELECT * FROM disputes")
    assert (ruled["status"], ruled["ruling"], ruled["ruled_by"], ruled["reason"]) == (
        "resolved",
        "p1_win",
        root.id,
        "replay shows it",
    )
    (action,) = admin_actions(bot)
    assert (action["admin_uid"], action["action"], action["target"], action["reason"]) == (
        root.id,
        "resolve_match",
        "match:1",
        "replay shows it",
    )
    assert action["details"]["before"]["status"] == "disputed"
    assert action["details"]["after"] == {"status": "finished", "result": "p1_win"}

    # Both players see the ruling on their match message.
    winner = "Alice" if p1 == alice.id else "Bob"
    for dm, uid in ((dm_a, alice.id), (dm_b, bob.id)):
        change = "+20" if uid == p1 else "-20"
        await wait_text(fake, dm, "Match finished", f"{winner} won", f"your MMR {change}")
        assert not dm.buttons()
    assert "No open disputes" in (await ask(fake, root, "disputes")).text

    # The same ruling again changes nothing (logged, but rated once).
    again = await confirm(
        fake,
        root,
        await ask(fake, root, "resolve", {"match_id": 1, "ruling": "p1_win", "reason": "again"}),
    )
    assert "Ratings changed:\nnone" in again.text, again.text
    assert ratings(bot) == {(p1, row["player1_race"]): 1520, (p2, row["player2_race"]): 1480}
    assert len(db_rows(bot, "SELECT * FROM rating_log")) == 1
    assert len(admin_actions(bot)) == 2

    # A correction re-rates in place: p2 wins instead.
    corrected = await confirm(
        fake,
        root,
        await ask(fake, root, "resolve", {"match_id": 1, "ruling": "p2_win", "reason": "oops"}),
    )
    assert "1520 → 1480" in corrected.text, corrected.text
    assert ratings(bot) == {(p1, row["player1_race"]): 1480, (p2, row["player2_race"]): 1520}
    assert len(db_rows(bot, "SELECT * FROM rating_log")) == 1
    assert_no_unexpected_errors(bot)


async def test_disputes_go_to_the_admin_channel_when_one_is_set(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    guild = fake.guild("Ladder Server", channels=("general", "ladder-admins"), admins=[root])
    channel = guild.channel("ladder-admins")
    bot = await start_ladder_bot(
        bot_process, tmp_path, admins=(root,), env={"ADMIN_CHANNEL_ID": str(channel.id)}
    )
    alice, bob = await onboard(fake, "Alice", "Bob")
    await dispute(fake, alice, bob)

    posted = await fake.wait_until(
        lambda: fake.channel_messages(channel), WAIT, "a message in the admin channel"
    )
    assert len(posted) == 1 and "Dispute on match #1" in posted[0].text
    assert not fake.dms(root)  # the channel replaces the DMs
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# Scenario 4 (the admin's half): authorisation.
# --------------------------------------------------------------------------------------------


def admin_subcommands(fake: FakeDiscord) -> set[str]:
    (admin,) = [c for c in fake.commands[None].values() if c["name"] == "admin"]
    return {o["name"] for o in admin.get("options", []) if o["type"] == OPT_SUB_COMMAND}


async def test_a_non_admin_is_refused_every_admin_subcommand(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob, mallory) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Mallory", admins=(root,)
    )
    await matched_pair(fake, alice, bob)
    carol = (await onboard(fake, "Carol"))[0]
    await join_queue(fake, carol)
    before = {
        table: db_rows(bot, f"SELECT * FROM {table}")
        for table in ("players", "ratings", "matches", "aborts", "rating_log")
    }

    calls: dict[str, dict[str, Any]] = {
        "resolve": {"match_id": 1, "ruling": "p1_win", "reason": "mine"},
        "mmr": {"player": mallory, "race": "bw_terran", "mode": "set", "amount": 3000,
                "reason": "why not"},
        "ban": {"player": alice, "reason": "x"},
        "unban": {"player": mallory, "reason": "x"},
        "dequeue": {"player": carol, "reason": "x"},
        "clearqueue": {"reason": "x"},
        "resetaborts": {"player": mallory, "reason": "x"},
        "player": {"player": alice},
        "match": {"match_id": 1},
        "disputes": {},
        "status": {},
        "web": {},
    }  # fmt: skip
    assert set(calls) == admin_subcommands(fake), "a new /admin subcommand needs a case here"
    for name, options in calls.items():
        refused = await ask(fake, mallory, name, options)
        assert ADMIN_ONLY in refused.text, (name, refused.text)
        assert not refused.buttons(), name

    for table, rows in before.items():
        assert db_rows(bot, f"SELECT * FROM {table}") == rows, table
    queued = db_rows(bot, "SELECT discord_uid FROM queue_entries")
    assert [q["discord_uid"] for q in queued] == [carol.id]  # still queued
    assert not admin_actions(bot)
    assert_no_unexpected_errors(bot)
    await bot.stop()  # drains the command log
    logged = db_rows(
        bot,
        "SELECT command, outcome FROM command_calls WHERE discord_uid = ? AND command LIKE 'admin%'"
        " ORDER BY interaction_id",
        (mallory.id,),
    )
    assert [(r["command"], r["outcome"]) for r in logged] == [
        (f"admin {name}", "refused:admin") for name in calls
    ]


async def test_only_the_asking_admin_can_press_confirm(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root, other_admin = fake.user("root"), fake.user("deputy")
    bot, (alice, mallory) = await ladder_with(
        bot_process, tmp_path, "Alice", "Mallory", admins=(root, other_admin)
    )

    question = await ask(fake, root, "ban", {"player": alice, "reason": "smurfing"})
    confirm_id = question.component(label="Confirm")["custom_id"]
    for intruder in (mallory, other_admin):
        click = await forged_click(fake, intruder, question, confirm_id)
        assert (await click.response()).type == CHANNEL_MESSAGE
        refusal = await click.reply()
        assert refusal.ephemeral and "someone else" in refusal.text, refusal.text
    assert labels(question) == ["Confirm", "Cancel"]  # still waiting for root
    assert player_row(bot, alice)["banned"] == 0
    assert not admin_actions(bot)

    done = await confirm(fake, root, question)
    assert "is banned" in done.text
    assert player_row(bot, alice)["banned"] == 1
    assert [a["action"] for a in admin_actions(bot)] == ["ban"]
    banned = await command_reply(fake, alice, "queue")
    assert "banned" in banned.text, banned.text

    # An action refused at Confirm time says why, and leaves no live-looking buttons behind
    # (they would only answer "This has expired").
    stranger = fake.user("stranger")  # never used the bot: no player record
    options = {"player": stranger, "race": "bw_terran", "mode": "set", "amount": 1600,
               "reason": "typo"}  # fmt: skip
    question = await ask(fake, root, "mmr", options)
    click = await fake.click(root, question, label="Confirm")
    await click.response()
    await fake.wait_until(
        lambda: any("No player" in m.text for m in [question, *click.messages]), WAIT,
        "the refusal",
    )  # fmt: skip
    assert not question.buttons(), f"the question still offers {labels(question)}"
    assert not db_rows(bot, "SELECT * FROM ratings")
    assert [a["action"] for a in admin_actions(bot)] == ["ban"]
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# The other admin tools: each does what it says and is logged once.
# --------------------------------------------------------------------------------------------


async def test_admin_tools_adjust_mmr_manage_the_queue_and_reset_aborts(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob, carol) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Carol", admins=(root,)
    )

    # MMR: set, add, subtract; each an admin action and a rating-log adjustment.
    for mode, amount, old, new in (
        ("set", 1700, 1500, 1700),
        ("add", 50, 1700, 1750),
        ("subtract", 250, 1750, 1500),
    ):
        options = {"player": alice, "race": "bw_zerg", "mode": mode, "amount": amount,
                   "reason": f"{mode} test"}  # fmt: skip
        done = await confirm(fake, root, await ask(fake, root, "mmr", options))
        assert f"{old} → {new}" in done.text, done.text
        assert ratings(bot)[(alice.id, "bw_zerg")] == new
    adjustments = db_rows(bot, "SELECT adjustment, amount FROM rating_log ORDER BY seq")
    assert [(a["adjustment"], a["amount"]) for a in adjustments] == [
        ("set", 1700),
        ("add", 50),
        ("add", -250),
    ]
    unknown = await ask(
        fake, root, "mmr",
        {"player": alice, "race": "nope", "mode": "set", "amount": 1, "reason": "x"},
    )  # fmt: skip
    assert "nope" in unknown.text and not unknown.buttons()

    # The queue: dequeue one player, then clear the rest.
    await join_queue(fake, alice)
    await join_queue(fake, bob, ("bw_zerg",))
    await fake.next_dm(alice, within=WAIT)  # alice and bob are matched (#1)
    await fake.next_dm(bob, within=WAIT)
    await join_queue(fake, carol)
    removed = await ask(fake, root, "dequeue", {"player": carol, "reason": "afk"})
    assert "removed from the queue" in removed.text
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    not_there = await ask(fake, root, "dequeue", {"player": carol, "reason": "afk"})
    assert "was not in the queue" in not_there.text
    await join_queue(fake, carol)
    cleared = await confirm(fake, root, await ask(fake, root, "clearqueue", {"reason": "reset"}))
    assert "Removed 1 player from the queue" in cleared.text
    assert not db_rows(bot, "SELECT * FROM queue_entries")

    # Aborts: Alice spends one, the admin gives it back.
    dm_a = fake.dms(alice)[0]
    await fake.click(alice, dm_a, label="Abort (3 left this month)")
    await wait_text(fake, dm_a, "Aborted")
    lookup = await ask(fake, root, "player", {"player": alice})
    assert "Aborts left" in lookup.text and "\n2\n" in lookup.text, lookup.text
    assert "1500" in lookup.text and "adjust_mmr" in lookup.text
    reset = await ask(fake, root, "resetaborts", {"player": alice, "reason": "server crash"})
    assert "aborts are reset" in reset.text
    assert "\n3\n" in (await ask(fake, root, "player", {"player": alice})).text
    await matched_pair(fake, alice, bob, 2)
    assert "Abort (3 left this month)" in labels(fake.dms(alice)[-1])

    # Unban needs no confirmation.
    await confirm(fake, root, await ask(fake, root, "ban", {"player": carol, "reason": "x"}))
    unbanned = await ask(fake, root, "unban", {"player": carol, "reason": "appeal"})
    assert "no longer banned" in unbanned.text
    assert player_row(bot, carol)["banned"] == 0

    actions = [(a["action"], a["target"]) for a in admin_actions(bot)]
    assert actions == [
        ("adjust_mmr", f"player:{alice.id}"),
        ("adjust_mmr", f"player:{alice.id}"),
        ("adjust_mmr", f"player:{alice.id}"),
        ("remove_from_queue", f"player:{carol.id}"),
        ("remove_from_queue", f"player:{carol.id}"),
        ("clear_queue", "queue"),
        ("reset_aborts", f"player:{alice.id}"),
        ("ban", f"player:{carol.id}"),
        ("unban", f"player:{carol.id}"),
    ]
    assert match_row(bot, 1)["status"] == "aborted"
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# A confirmation acts at most once, on the state it asked about.
# --------------------------------------------------------------------------------------------


CLICKS = 4  # Confirm clicks sent together: without the guard, two of them often both apply
ROUNDS = 3  # the race depends on timing, so it is run more than once


async def test_confirm_clicks_sent_together_apply_an_mmr_change_once(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice,) = await ladder_with(bot_process, tmp_path, "Alice", admins=(root,))
    options = {"player": alice, "race": "bw_zerg", "mode": "add", "amount": 50,
               "reason": "double click"}  # fmt: skip
    for round_ in range(ROUNDS):
        old = 1500 + 50 * round_
        question = await ask(fake, root, "mmr", options)
        shown = "no rating yet" if round_ == 0 else f"now {old}"
        assert shown in question.text, question.text

        # All the clicks are on the gateway before the bot has answered any of them.
        confirm_id = question.component(label="Confirm")["custom_id"]
        clicks = [await forged_click(fake, root, question, confirm_id) for _ in range(CLICKS)]
        answers = sorted([(await click.response()).type for click in clicks])
        assert answers == [CHANNEL_MESSAGE] * (CLICKS - 1) + [DEFERRED_UPDATE_MESSAGE], answers
        for late in [c for c in clicks if c.callback.type == CHANNEL_MESSAGE]:
            # The stored question was claimed by the first: the others are told so.
            reply = await late.reply()
            assert reply.ephemeral, reply.text
            assert ALREADY_ANSWERED in reply.text, reply.text
        applied = f"{old} → {old + 50}"
        await fake.wait_until(lambda a=applied, q=question: a in q.text, WAIT, "the applied change")
        assert not question.buttons()
        assert ratings(bot) == {(alice.id, "bw_zerg"): old + 50}

    assert [a["action"] for a in admin_actions(bot)] == ["adjust_mmr"] * ROUNDS
    adjustments = db_rows(bot, "SELECT adjustment, amount FROM rating_log")
    assert [(a["adjustment"], a["amount"]) for a in adjustments] == [("add", 50)] * ROUNDS
    assert_no_unexpected_errors(bot)


async def test_a_second_admins_stale_ruling_is_refused(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root, deputy = fake.user("root"), fake.user("deputy")
    bot, (alice, bob) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", admins=(root, deputy)
    )
    await dispute(fake, alice, bob)

    # Both admins are asked about the disputed match; root confirms first.
    for_root = await ask(fake, root, "resolve", {"match_id": 1, "ruling": "p1_win",
                                                 "reason": "replay"})  # fmt: skip
    for_deputy = await ask(fake, deputy, "resolve", {"match_id": 1, "ruling": "p2_win",
                                                     "reason": "my replay"})  # fmt: skip
    assert "(disputed)" in for_root.text and "(disputed)" in for_deputy.text
    done = await confirm(fake, root, for_root)
    assert "Match #1: p1_win" in done.text, done.text
    rated, row = ratings(bot), match_row(bot, 1)
    assert (row["status"], row["result"]) == ("finished", "p1_win")

    # The deputy's Confirm was about a disputed match: refused, nothing re-rated.
    refused = await confirm(fake, deputy, for_deputy)
    assert (
        "Match #1 changed since you asked: it is now finished (p1_win). Nothing was changed"
        in refused.text
    ), refused.text
    assert ratings(bot) == rated and match_row(bot, 1) == row
    assert [(a["admin_uid"], a["action"]) for a in admin_actions(bot)] == [
        (root.id, "resolve_match")
    ]
    (ruled,) = db_rows(bot, "SELECT ruling, ruled_by FROM disputes")
    assert (ruled["ruling"], ruled["ruled_by"]) == ("p1_win", root.id)
    assert len(db_rows(bot, "SELECT * FROM rating_log")) == 1

    # Asked again, about the match as it is now, the deputy can correct it.
    again = await ask(fake, deputy, "resolve", {"match_id": 1, "ruling": "p2_win",
                                                "reason": "my replay"})  # fmt: skip
    assert "(finished, p1_win)" in again.text, again.text
    corrected = await confirm(fake, deputy, again)
    assert "Match #1: p2_win" in corrected.text, corrected.text
    assert match_row(bot, 1)["result"] == "p2_win"
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# /admin disputes: player text escaped, both sides' evidence, pages.
# --------------------------------------------------------------------------------------------

FORGED_NOTE = (
    "I won, the replay proves it.\n**Opponent:** I admit I lost, sorry\n"
    "[https://youtube.com/watch?v=proof](https://evil.example/steal) @everyone"
)
LONG_NOTE = "L" * 1000  # the modal's maximum
LONG_URL = "https://replays.example/" + "r" * 470


async def onboard_as(fake: FakeDiscord, username: str, name: str, battletag: str) -> FakeUser:
    """``onboard`` for a player whose name is not a valid battletag name (``_Erin_``)."""
    user = fake.user(username)
    await accept_terms(fake, user)
    opened = await open_setup(fake, user)
    preview = await (await submit_setup(fake, user, name, battletag, opened_by=opened)).reply()
    assert "preview" in preview.text.lower(), preview.text
    preview = await pick_country_and_region(fake, user, preview, "FR", "EU")
    assert "Profile saved" in (await press(fake, user, preview, "Confirm")).text
    return user


async def disputed(
    fake: FakeDiscord, a: FakeUser, b: FakeUser, match_id: int
) -> tuple[RecordedMessage, RecordedMessage]:
    """Match ``match_id`` between ``a`` and ``b``, both reporting a win."""
    dm_a, dm_b = await started_match(fake, a, b, match_id)
    await press(fake, a, dm_a, "I won")
    await press(fake, b, dm_b, "I won")
    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Disputed")
    return dm_a, dm_b


async def evidence(fake: FakeDiscord, user: FakeUser, dm: RecordedMessage, *items) -> None:
    for note, url in items:
        thanks = await add_evidence(fake, user, dm, note, url)
        assert "Evidence added" in thanks.text, thanks.text


def match_numbers(message: RecordedMessage) -> list[int]:
    return [int(n) for n in re.findall(r"Match #(\d+)\*\*", message.text)]


async def test_disputes_show_player_text_escaped_both_sides_and_page(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot = await start_ladder_bot(bot_process, tmp_path, admins=(root,))
    erin = await onboard_as(fake, "erin", "_Erin_", "Erin#1234")
    bob, carol, dave, frank, gina, hugo = await onboard(
        fake, "Bob", "Carol", "Dave", "Frank", "Gina", "Hugo"
    )

    # Match 1: Erin forges a line and a link, then sends nine more long notes; Bob one note.
    dm_e, dm_b = await disputed(fake, erin, bob, 1)
    assert r"\_Erin\_" in dm_e.text and "_Erin_ " not in dm_e.text  # names escaped in DMs too
    await evidence(fake, erin, dm_e, (FORGED_NOTE, "https://evil.example/steal"))
    await evidence(fake, erin, dm_e, *[(LONG_NOTE, LONG_URL)] * 9)
    await evidence(fake, bob, dm_b, ("Bob's replay shows my win", "https://replays.example/b"))
    # Matches 2-4: long evidence on both sides, so the listing needs more than one page.
    for match_id, (a, b) in enumerate(((carol, dave), (frank, gina), (hugo, bob)), start=2):
        dm_a, dm_b = await disputed(fake, a, b, match_id)
        await evidence(fake, a, dm_a, *[(LONG_NOTE, LONG_URL)] * 2)
        await evidence(fake, b, dm_b, *[(LONG_NOTE, LONG_URL)] * 2)
    assert len(db_rows(bot, "SELECT * FROM dispute_evidence")) == 10 + 1 + 3 * 4

    listed = await ask(fake, root, "disputes")
    assert "Open disputes (4)" in listed.text, listed.text
    assert labels(listed) == ["Previous", "Page 1 of 2", "Next"], labels(listed)
    assert match_numbers(listed)[0] == 1
    (description,) = [e["description"] for e in listed.embeds]
    assert len(description) <= 4096
    # The forged line is part of Erin's note, on the note's own line, escaped.
    assert "**Opponent:**" not in description and "\n**Opponent" not in description
    forged = next(line for line in description.splitlines() if "Opponent" in line)
    assert forged.startswith("· I won, the replay proves it. \\*\\*Opponent:\\*\\*"), forged
    assert r"\[https\://youtube.com/watch?v=proof\]\(https\://evil.example/steal\)" in forged, (
        forged
    )
    assert "`https://evil.example/steal`" in forged  # the link's real target, as plain text
    assert "@everyone" not in description
    assert r"**\_Erin\_**" in description and "**_Erin_**" not in description
    # Both sides: Erin's ten notes are capped and counted; Bob's one note is there.
    assert f"(<@{erin.id}>): 10 pieces of evidence" in description
    assert "+8 more" in description
    assert "Bob's replay shows my win" in description
    assert "`https://replays.example/b`" in description

    # Next shows the next disputes; Previous goes back.
    nxt = await fake.click(root, listed, label="Next")
    assert (await nxt.response()).type == UPDATE_MESSAGE
    page2 = await nxt.reply()
    assert labels(page2) == ["Previous", "Page 2 of 2", "Next"]
    assert [b.get("disabled", False) for b in page2.buttons()] == [False, True, True]
    first_page = [1, *[n for n in (2, 3, 4) if n not in match_numbers(page2)]]
    assert sorted(first_page + match_numbers(page2)) == [1, 2, 3, 4]
    assert match_numbers(page2) and 1 not in match_numbers(page2)

    # Only admins may turn the pages, and nothing is kept in memory: they work after a restart.
    own = await command_reply(fake, bob, "help")
    refusal = await refused_click(fake, bob, own, custom_id="disputes:page:1")
    assert ADMIN_ONLY in refusal.text, refusal.text
    await bot.restart()
    back = await fake.click(root, listed, label="Previous")
    assert (await back.response()).type == UPDATE_MESSAGE
    page1 = await back.reply()
    assert match_numbers(page1)[0] == 1 and "Page 1 of 2" in labels(page1)
    assert_no_unexpected_errors(bot)
