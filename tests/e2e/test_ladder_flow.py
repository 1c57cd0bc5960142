"""The ladder end to end: /queue, matchmaking waves, the match DM and its buttons, reports,
ratings, aborts and no-shows, as the players see them and SQLite keeps them.

Each test runs the real ``bot.py`` against the fake Discord with a copy of ``data/`` whose
ladder.toml has a short wave interval (``ladder_data_dir``), so a match is made within a second
of two players joining. Deadlines are never raced: a test that needs one to pass either sets a
window no player has to beat, or moves the stored deadline while the bot is stopped.

The steps (``start_ladder_bot``, ``onboard``, ``join_queue``, ``match_dm``, ``press``, ...) are
in ``flows.py``. Disputes are in ``test_admin.py``, restarts in ``test_restart.py``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import UPDATE_MESSAGE

from .flows import (
    LEAVE_LABEL,
    command_reply,
    custom_id_of,
    enabled_labels,
    forged_click,
    join_queue,
    labels,
    ladder_with,
    match_dm,
    matched_pair,
    open_queue,
    press,
    refused_click,
    started_match,
    wait_text,
)
from .harness import WAIT, BotProcess
from .state import assert_no_unexpected_errors, db_rows, match_row, ratings, wait_db


def command_outcomes(bot: BotProcess, command: str) -> list[tuple[int, str]]:
    rows = db_rows(
        bot,
        "SELECT discord_uid, outcome FROM command_calls WHERE command = ? ORDER BY interaction_id",
        (command,),
    )
    return [(r["discord_uid"], r["outcome"]) for r in rows]


# --------------------------------------------------------------------------------------------
# Scenario 1: queue, match, confirm, report, rated.
# --------------------------------------------------------------------------------------------


async def test_two_players_queue_confirm_report_and_are_rated(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")

    # Alice opens /queue: her races are offered, the first one picked by default.
    offered = await open_queue(fake, alice)
    race_menu = offered.component(custom_id=custom_id_of(offered, "queue_view:races"))
    assert [o["value"] for o in race_menu["options"]][:2] == ["bw_terran", "bw_zerg"]
    assert {"Join", "Cancel"} <= set(labels(offered))
    await press(fake, alice, offered, "Cancel")  # changes her mind: not queued
    assert not db_rows(bot, "SELECT * FROM queue_entries")

    queued_a = await join_queue(fake, alice, ("bw_terran",), vetoes=("Eclipse",))
    assert "BW Terran" in queued_a.text and "Eclipse" in queued_a.text
    entries = db_rows(bot, "SELECT * FROM queue_entries")
    assert [(e["discord_uid"], e["races"], e["vetoes"]) for e in entries] == [
        (alice.id, '["bw_terran"]', '["Eclipse"]')
    ]
    await wait_db(  # the queue message is remembered (just after the click is answered)
        fake,
        bot,
        "SELECT 1 FROM queue_entries WHERE message_id = ?",
        (queued_a.id,),
        what="the queue message id",
    )
    queued_b = await join_queue(fake, bob, ("bw_zerg",))
    assert "BW Zerg" in queued_b.text

    # Within a few waves both get the match by DM: opponent, races, MMRs, map, Confirm/Abort.
    dm_a, dm_b = await match_dm(fake, alice, 1), await match_dm(fake, bob, 1)
    row = match_row(bot, 1)
    assert row["status"] == "awaiting_confirmation"
    assert {row["player1_uid"], row["player2_uid"]} == {alice.id, bob.id}
    assert row["map"] != "Eclipse"  # Alice vetoed it
    assert not db_rows(bot, "SELECT * FROM queue_entries")  # matched players leave the queue
    for dm, me, other in ((dm_a, "Alice (you)", "Bob"), (dm_b, "Bob (you)", "Alice")):
        text = dm.text
        assert me in text and other in text
        assert "BW Terran" in text and "BW Zerg" in text
        assert text.count("1500 MMR") == 2
        assert row["map"] in text
        assert "confirm" in text.lower()
        assert labels(dm) == ["Confirm", "Abort (3 left this month)"]
    stored = {(alice.id, dm_a.id), (bob.id, dm_b.id)}  # each DM is remembered, to edit it
    await fake.wait_until(
        lambda: {
            (m["discord_uid"], m["message_id"])
            for m in db_rows(bot, "SELECT * FROM match_messages")
        } == stored,
        WAIT, "both match messages to be stored", poll=0.1,
    )  # fmt: skip

    # Alice confirms: her button says so; Bob's message still asks him to confirm.
    await press(fake, alice, dm_a, "Confirm")
    assert labels(dm_b) == ["Confirm", "Abort (3 left this month)"]
    assert "Confirmed — waiting for opponent" in labels(dm_a)
    assert dm_a.component(label="Confirmed — waiting for opponent").get("disabled")
    assert match_row(bot, 1)["status"] == "awaiting_confirmation"
    await press(fake, bob, dm_b, "Confirm")
    assert match_row(bot, 1)["status"] == "in_progress"
    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Match on")
        await fake.wait_until(lambda m=dm: "I won" in labels(m), WAIT, "the report buttons")
        assert labels(dm) == ["I won", "I lost", "Draw", "Abort (3 left this month)"]

    # Consistent reports: Alice won, Bob lost.
    after_a = await press(fake, alice, dm_a, "I won")
    assert "I won ✓" in labels(after_a) and not enabled_labels(after_a)
    assert match_row(bot, 1)["status"] == "in_progress"
    await press(fake, bob, dm_b, "I lost")
    row = match_row(bot, 1)
    assert row["status"] == "finished" and row["decided_by"] == "agreement"
    alice_is_p1 = row["player1_uid"] == alice.id
    assert row["result"] == ("p1_win" if alice_is_p1 else "p2_win")
    assert row["mmr_change"] == (20 if alice_is_p1 else -20)
    for dm, change in ((dm_a, "+20"), (dm_b, "-20")):
        await wait_text(fake, dm, "Match finished", "Alice won", f"your MMR {change}")
        assert not dm.buttons()
    assert ratings(bot) == {(alice.id, "bw_terran"): 1520, (bob.id, "bw_zerg"): 1480}
    games = db_rows(bot, "SELECT discord_uid, games, wins, losses FROM ratings ORDER BY mmr DESC")
    assert [(g["discord_uid"], g["games"], g["wins"], g["losses"]) for g in games] == [
        (alice.id, 1, 1, 0),
        (bob.id, 1, 0, 1),
    ]
    assert [r["match_id"] for r in db_rows(bot, "SELECT * FROM rating_log")] == [1]

    # A repeated click changes nothing; a different report is refused.
    again = await forged_click(fake, alice, dm_a, "match:1:report:win")
    assert (await again.response()).type == UPDATE_MESSAGE
    changed = await refused_click(fake, bob, dm_b, custom_id="match:1:report:win")
    assert "already reported a **loss**" in changed.text, changed.text
    assert ratings(bot) == {(alice.id, "bw_terran"): 1520, (bob.id, "bw_zerg"): 1480}
    assert len(db_rows(bot, "SELECT * FROM rating_log")) == 1

    # /profile shows the new MMR; /leaderboard ranks Alice above Bob.
    for user, mmr in ((alice, "1520"), (bob, "1480")):
        profile = await command_reply(fake, user, "profile")
        assert f"{mmr} MMR" in profile.text, profile.text
    board = (await command_reply(fake, bob, "leaderboard")).text
    assert "Alice" in board and "Bob" in board, board
    assert board.index("Alice") < board.index("Bob"), board
    assert "1520" in board and "1480" in board, board

    assert_no_unexpected_errors(bot)
    await bot.stop()  # drains the command log
    assert command_outcomes(bot, "queue") == [(alice.id, "ok"), (alice.id, "ok"), (bob.id, "ok")]


# --------------------------------------------------------------------------------------------
# Scenario 2: one queue place at a time, no queue while in a match, Cancel leaves.
# --------------------------------------------------------------------------------------------


async def test_queue_is_refused_when_queued_or_in_a_match_and_cancel_leaves(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")

    queued = await join_queue(fake, alice)
    again = await command_reply(fake, alice, "queue")
    assert again.ephemeral and "already in the queue" in again.text, again.text
    assert len(db_rows(bot, "SELECT * FROM queue_entries")) == 1

    # The queue message's Cancel button leaves the queue.
    left = await press(fake, alice, queued, LEAVE_LABEL)
    assert "You left the queue" in left.text and not left.buttons()
    assert not db_rows(bot, "SELECT * FROM queue_entries")

    # In a match: /queue names the match.
    queued_a = await join_queue(fake, alice)
    queued_b = await join_queue(fake, bob)
    await match_dm(fake, alice, 1)
    await match_dm(fake, bob, 1)
    for user in (alice, bob):
        busy = await command_reply(fake, user, "queue")
        assert busy.ephemeral and "match #1" in busy.text, busy.text
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    # Her queue message no longer says she is queued, nor offers Cancel: it says she was
    # matched. A Cancel click that was already on its way is answered the same way.
    for message in (queued_a, queued_b):
        await wait_text(fake, message, "A match was found")
        assert not message.buttons()
    late = await forged_click(fake, alice, queued_a, "queue:leave")
    assert "not in the queue any more" in (await late.reply()).text
    assert match_row(bot, 1)["status"] == "awaiting_confirmation"

    # A player who has not finished /setup cannot queue at all.
    dave = fake.user("dave")
    refused = await command_reply(fake, dave, "queue")
    assert refused.ephemeral and "/termsofservice" in refused.text
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    assert_no_unexpected_errors(bot)
    await bot.stop()
    assert command_outcomes(bot, "queue") == [
        (alice.id, "ok"),
        (alice.id, "rejected"),
        (alice.id, "ok"),
        (bob.id, "ok"),
        (alice.id, "rejected"),
        (bob.id, "rejected"),
        (dave.id, "refused:terms"),
    ]


# --------------------------------------------------------------------------------------------
# Scenario 4 (players' half): nobody acts on someone else's match.
# --------------------------------------------------------------------------------------------


async def test_a_player_cannot_act_on_someone_elses_match(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob, mallory) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", "Mallory")
    dm_a, dm_b = await matched_pair(fake, alice, bob)
    own = await command_reply(fake, mallory, "help")  # a message of Mallory's to click from
    # Both DMs recorded: the bot is done with the match until someone clicks (each DM's
    # sending moves the confirmation deadline to when it went out).
    await wait_db(fake, bot, "SELECT count(*) FROM match_messages WHERE match_id = 1"
                  " HAVING count(*) = 2", what="both match messages recorded")  # fmt: skip

    before = match_row(bot, 1)
    for action in ("confirm", "abort"):
        refusal = await refused_click(fake, mallory, own, custom_id=f"match:1:{action}")
        assert "not a player in this match" in refusal.text, refusal.text
    assert match_row(bot, 1) == before

    await press(fake, alice, dm_a, "Confirm")
    await press(fake, bob, dm_b, "Confirm")
    before = match_row(bot, 1)
    for outcome in ("win", "loss", "draw"):
        refusal = await refused_click(fake, mallory, own, custom_id=f"match:1:report:{outcome}")
        assert "not a player in this match" in refusal.text, refusal.text
    refusal = await refused_click(fake, mallory, own, custom_id="match:1:abort")
    assert "not a player in this match" in refusal.text
    # A match that does not exist, and a custom_id that means nothing.
    missing = await refused_click(fake, mallory, own, custom_id="match:99:confirm")
    assert "No match `99`" in missing.text, missing.text
    garbage = await refused_click(fake, mallory, own, custom_id="match:1:explode")
    assert "not recognised" in garbage.text, garbage.text
    assert match_row(bot, 1) == before
    assert not db_rows(bot, "SELECT * FROM aborts")
    assert not db_rows(bot, "SELECT * FROM rating_log")
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# Both players click at the same moment: each message must end up showing the match as it is.
# --------------------------------------------------------------------------------------------

PAIRS = 6
ROUNDS = 2


async def click_together(
    fake: FakeDiscord, clicks: list[tuple[FakeUser, RecordedMessage, str]]
) -> None:
    """Send every (user, message, custom_id) click at once; wait for the answers and for the
    bot to go quiet (the opponents' messages are edited only where they change)."""
    sent = [await forged_click(fake, user, dm, custom) for user, dm, custom in clicks]
    for click in sent:
        assert (await click.response()).type == UPDATE_MESSAGE, (await click.reply()).text
    await fake.settle()


def stale_messages(
    bot: BotProcess, dms: dict[int, RecordedMessage], users: list[FakeUser]
) -> list[str]:
    """Users whose match message does not show what the match's status calls for."""
    wanted = {"in_progress": ["I won", "I lost", "Draw"], "finished": []}
    stale = []
    for user in users:
        (row,) = db_rows(
            bot,
            "SELECT m.status FROM matches m JOIN match_messages mm ON mm.match_id = m.id"
            " WHERE mm.message_id = ?",
            (dms[user.id].id,),
        )
        shown = [label for label in labels(dms[user.id]) if not label.startswith("Abort")]
        if shown != wanted[row["status"]]:
            stale.append(f"{user.username}: {row['status']} shown as {shown}")
    return stale


async def settled_messages(
    fake: FakeDiscord, bot: BotProcess, dms: dict[int, RecordedMessage], users: list[FakeUser]
) -> list[str]:
    """The stale messages left once the bot has had WAIT seconds to bring them up to date."""
    with contextlib.suppress(TimeoutError):
        await fake.wait_until(
            lambda: not stale_messages(bot, dms, users), WAIT, "every message current", poll=0.1
        )
    return stale_messages(bot, dms, users)


async def test_simultaneous_clicks_leave_both_messages_current(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """Both players of several matches confirm at once, then report at once.

    Each click answers its own message and then edits the opponent's with the state its own
    transaction saw; when the two clicks interleave, the later edit can put an older state
    back on a message (e.g. Confirm buttons on a match that has started). This race does not
    show up on every run; several matches and rounds make it very likely without the fix.
    """
    fake = fake_discord
    bot, users = await ladder_with(bot_process, tmp_path, *[f"Player{n}" for n in range(2 * PAIRS)])
    stale: list[str] = []
    for round_no in range(ROUNDS):
        for user in users:
            await join_queue(fake, user)
        dms = {user.id: await fake.next_dm(user, within=WAIT) for user in users}
        await fake.wait_until(
            lambda r=round_no: len(db_rows(
                bot, "SELECT 1 FROM match_messages WHERE match_id > ?", (r * PAIRS,)
            )) == 2 * PAIRS,
            WAIT, "every match message to be stored", poll=0.1,
        )  # fmt: skip
        mine = {
            m["discord_uid"]: m["match_id"]
            for m in db_rows(bot, "SELECT * FROM match_messages WHERE match_id > ?",
                             (round_no * PAIRS,))
        }  # fmt: skip
        await click_together(fake, [(u, dms[u.id], f"match:{mine[u.id]}:confirm") for u in users])
        stale += await settled_messages(fake, bot, dms, users)
        firsts = {
            m["player1_uid"]
            for m in db_rows(bot, "SELECT player1_uid FROM matches WHERE id > ?",
                             (round_no * PAIRS,))
        }  # fmt: skip
        await click_together(
            fake,
            [
                (u, dms[u.id], f"match:{mine[u.id]}:report:{'win' if u.id in firsts else 'loss'}")
                for u in users
            ],
        )
        stale += await settled_messages(fake, bot, dms, users)
    statuses = {r["status"] for r in db_rows(bot, "SELECT status FROM matches")}
    assert statuses == {"finished"}
    assert not stale, "messages left showing an older state:\n" + "\n".join(stale)
    assert_no_unexpected_errors(bot)


# --------------------------------------------------------------------------------------------
# Scenario 6: aborts, and the allowance shown on the button.
# --------------------------------------------------------------------------------------------


async def test_abort_cancels_the_match_and_spends_one_abort(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", aborts_per_month=2)

    # Match 1: Alice aborts before confirming.
    dm_a, dm_b = await matched_pair(fake, alice, bob, 1)
    assert "Abort (2 left this month)" in labels(dm_a)
    aborted = await press(fake, alice, dm_a, "Abort (2 left this month)")
    assert "Aborted" in aborted.text and not aborted.buttons()
    await wait_text(fake, dm_b, "Aborted")
    await fake.wait_until(lambda: not dm_b.buttons(), WAIT, "Bob's buttons to go")
    row = match_row(bot, 1)
    assert (row["status"], row["aborted_by"], row["result"]) == ("aborted", alice.id, None)
    used = db_rows(bot, "SELECT discord_uid, used FROM aborts")
    assert [(u["discord_uid"], u["used"]) for u in used] == [(alice.id, 1)]
    assert set(ratings(bot).values()) == {1500}  # no rating change

    # Match 2: Alice has one abort left, Bob still two; Alice aborts after both confirmed.
    dm_a, dm_b = await matched_pair(fake, alice, bob, 2)
    assert "Abort (1 left this month)" in labels(dm_a)
    assert "Abort (2 left this month)" in labels(dm_b)
    await press(fake, alice, dm_a, "Confirm")
    await press(fake, bob, dm_b, "Confirm")
    await fake.wait_until(lambda: "I won" in labels(dm_a), WAIT, "the report buttons")
    await press(fake, alice, dm_a, "Abort (1 left this month)")
    assert match_row(bot, 2)["status"] == "aborted"
    await wait_text(fake, dm_b, "Aborted")

    # Match 3: Alice has none left: her Abort button is disabled; Bob's still works.
    dm_a, dm_b = await matched_pair(fake, alice, bob, 3)
    button = dm_a.component(label="Abort (0 left this month)")
    assert button.get("disabled")
    refusal = await refused_click(fake, alice, dm_a, custom_id="match:3:abort")
    assert "no aborts left" in refusal.text, refusal.text
    assert match_row(bot, 3)["status"] == "awaiting_confirmation"
    await press(fake, bob, dm_b, "Abort (2 left this month)")
    assert match_row(bot, 3)["status"] == "aborted"
    used = db_rows(bot, "SELECT discord_uid, used FROM aborts ORDER BY discord_uid")
    assert {(u["discord_uid"], u["used"]) for u in used} == {(alice.id, 2), (bob.id, 1)}
    # An abort after a report is refused: it would dodge a loss.
    dm_a, dm_b = await started_match(fake, alice, bob, 4)
    await press(fake, bob, dm_b, "I lost")
    refusal = await refused_click(fake, bob, dm_b, custom_id="match:4:abort")
    assert "already reported" in refusal.text, refusal.text
    assert match_row(bot, 4)["status"] == "in_progress"
    assert_no_unexpected_errors(bot)


async def test_a_no_show_is_cancelled_at_the_confirmation_deadline(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    # Nobody races this window: neither player confirms.
    bot, (alice, bob) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", confirmation_window_seconds=2
    )
    dm_a, dm_b = await matched_pair(fake, alice, bob)

    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Cancelled")
        assert not dm.buttons()
    row = match_row(bot, 1)
    assert row["status"] == "cancelled"
    assert set(json.loads(row["no_shows"])) == {alice.id, bob.id}
    refusal = await refused_click(fake, bob, dm_b, custom_id="match:1:confirm")
    assert "cancelled" in refusal.text.lower(), refusal.text
    assert not db_rows(bot, "SELECT * FROM aborts")  # a no-show is not an abort
    # Both may queue again.
    for user in (alice, bob):
        left = await press(fake, user, await join_queue(fake, user), LEAVE_LABEL)
        assert "You left the queue" in left.text
    assert_no_unexpected_errors(bot)
