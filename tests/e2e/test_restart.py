"""Restarts mid-ladder: everything lives in SQLite, so a stop (SIGTERM) loses nothing.

The components on every message sent before a restart keep working after it (their
custom_id says what they act on; what they need besides is in SQLite), the queue survives,
and a deadline that passed while the bot was down fires at start-up. Deadlines are moved
into the past while the bot is stopped, so no test races a timer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cogs.components import EXPIRED
from ladder.guards import REFUSALS
from localdiscord import FakeDiscord

from .flows import (
    LEAVE_LABEL,
    accept_terms,
    ask,
    choose,
    command_reply,
    confirm,
    custom_id_of,
    half_confirmed,
    join_queue,
    labels,
    ladder_with,
    match_dm,
    matched_pair,
    onboard,
    open_queue,
    page_of,
    pick_country_and_region,
    press,
    refused_click,
    start_ladder_bot,
    started_match,
    submit_setup,
    wait_text,
)
from .harness import WAIT, BotProcess
from .state import assert_no_unexpected_errors, db_rows, db_write, match_row, ratings, wait_db

LONG_AGO = "2000-01-01 00:00:00.000"  # a stored deadline that has certainly passed


async def test_old_match_buttons_work_after_restarts(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    dm_a, dm_b = await half_confirmed(fake, alice, bob)

    # Stopped while awaiting Bob's confirmation; Bob confirms on the old message.
    await bot.restart()
    await press(fake, bob, dm_b, "Confirm")
    assert match_row(bot, 1)["status"] == "in_progress"
    await fake.wait_until(lambda: "I won" in labels(dm_a), WAIT, "Alice's report buttons")
    await press(fake, alice, dm_a, "I won")

    # Stopped while awaiting Bob's report; Bob reports on the old message.
    await bot.restart()
    await press(fake, bob, dm_b, "I lost")
    row = match_row(bot, 1)
    assert (row["status"], row["decided_by"]) == ("finished", "agreement")
    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Match finished", "Alice won")
        assert not dm.buttons()
    assert ratings(bot) == {(alice.id, "bw_terran"): 1520, (bob.id, "bw_zerg"): 1480}
    assert len(db_rows(bot, "SELECT * FROM rating_log")) == 1
    assert bot.exit_codes == [0, 0]
    assert_no_unexpected_errors(bot)


async def test_the_queue_survives_a_restart(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    # A fixed MMR window of 100: Carol (1800) can never meet Alice or Bob (1500).
    bot, (alice, bob, carol) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Carol", admins=(root,), window_growth=0
    )
    options = {"player": carol, "race": "sc2_zerg", "mode": "set", "amount": 1800, "reason": "t"}
    await confirm(fake, root, await ask(fake, root, "mmr", options))
    await join_queue(fake, alice)
    queued_c = await join_queue(fake, carol, ("sc2_zerg",))
    await bot.restart()

    # Both still queued after the restart.
    queued = db_rows(bot, "SELECT discord_uid FROM queue_entries ORDER BY joined_at")
    assert [q["discord_uid"] for q in queued] == [alice.id, carol.id]
    # Carol's old queue message still takes her out of the queue.
    left = await press(fake, carol, queued_c, LEAVE_LABEL)
    assert "You left the queue" in left.text
    queued = db_rows(bot, "SELECT discord_uid FROM queue_entries")
    assert [q["discord_uid"] for q in queued] == [alice.id]

    # Bob joins: Alice, queued since before the restart, is matched with him.
    await join_queue(fake, bob, ("bw_zerg",))
    dm_a = await match_dm(fake, alice, 1)
    await match_dm(fake, bob, 1)
    row = match_row(bot, 1)
    assert (row["player1_uid"], row["player2_uid"]) == (alice.id, bob.id)  # longer waiter first
    assert labels(dm_a) == ["Confirm", "Abort (3 left this month)"]
    assert not fake.dms(carol)
    assert_no_unexpected_errors(bot)


async def test_work_left_by_a_stop_is_done_at_start(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """Deadlines that passed while the bot was down fire at start-up, and a match the stop
    caught before its DMs went out is announced then."""
    fake = fake_discord
    bot = await start_ladder_bot(bot_process, tmp_path)
    names = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank")
    alice, bob, carol, dave, erin, frank = await onboard(fake, *names)
    # Match 1 waits for Bob's confirmation; match 2 is on and only Dave reported (a loss).
    dm_a, dm_b = await half_confirmed(fake, alice, bob)
    dm_c, dm_d = await started_match(fake, carol, dave, 2)
    await press(fake, dave, dm_d, "I lost")
    # Match 3 was just made by a wave; the stop cancels the loops before its DMs go out (as
    # if: the wave's transaction committed, but no DM was sent or recorded).
    await matched_pair(fake, erin, frank, 3)

    await bot.stop()
    db_write(bot, "UPDATE matches SET confirm_deadline = ? WHERE id = 1", (LONG_AGO,))
    db_write(bot, "UPDATE matches SET report_deadline = ? WHERE id = 2", (LONG_AGO,))
    db_write(bot, "DELETE FROM match_messages WHERE match_id = 3")
    await bot.start()

    # Bob never confirmed: match 1 is cancelled, and both players' messages say so.
    await wait_db(fake, bot, "SELECT 1 FROM matches WHERE id = 1 AND status = 'cancelled'",
                  what="match #1 to be cancelled")  # fmt: skip
    assert match_row(bot, 1)["no_shows"] == f"[{bob.id}]"
    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Cancelled")
        await fake.wait_until(lambda m=dm: not m.buttons(), WAIT, "the buttons to go")
    assert not db_rows(bot, "SELECT * FROM aborts")  # a no-show is not an abort

    # Dave's single report stands for match 2: Carol won.
    await wait_db(fake, bot, "SELECT 1 FROM matches WHERE id = 2 AND status = 'finished'",
                  what="match #2 to be decided")  # fmt: skip
    assert match_row(bot, 2)["decided_by"] == "single_report"
    for dm in (dm_c, dm_d):
        await wait_text(fake, dm, "Match finished", "Carol won")
        assert not dm.buttons()
    assert ratings(bot) == {
        (alice.id, "bw_terran"): 1500,
        (bob.id, "bw_zerg"): 1500,
        (carol.id, "bw_terran"): 1520,
        (dave.id, "bw_zerg"): 1480,
        (erin.id, "bw_terran"): 1500,
        (frank.id, "bw_zerg"): 1500,
    }
    # Alice and Bob are free to queue again.
    await matched_pair(fake, alice, bob, 4)

    # Erin and Frank get match 3 now, and can play it.
    dm_e = await match_dm(fake, erin, 3, within=8)
    dm_f = await match_dm(fake, frank, 3, within=8)
    assert labels(dm_e) == labels(dm_f) == ["Confirm", "Abort (3 left this month)"]
    await press(fake, erin, dm_e, "Confirm")
    await press(fake, frank, dm_f, "Confirm")
    assert match_row(bot, 3)["status"] == "in_progress"
    assert_no_unexpected_errors(bot)


async def test_menus_previews_terms_and_questions_from_before_a_restart_still_work(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """Every component is routed by its custom_id, with its state in the id or in SQLite: a
    /queue menu, a /setup preview, a terms message and an admin's question shown before a
    restart are answered after it as they would have been before it."""
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", admins=(root,))
    menu = await open_queue(fake, alice)
    races = custom_id_of(menu, "queue_view:races")
    await (await fake.select(alice, menu, ["bw_zerg", "sc2_protoss"], custom_id=races)).reply()
    terms = await command_reply(fake, bob, "termsofservice")
    question = await ask(fake, root, "mmr", {"player": bob, "race": "bw_zerg", "mode": "set",
                                             "amount": 1700, "reason": "seed"})  # fmt: skip
    carol = fake.user("carol")
    await accept_terms(fake, carol)
    preview = await (await submit_setup(fake, carol, "Carol", "Carol#1234")).reply()
    preview = await choose(fake, carol, preview, "setup:country_page", page_of("SE"))
    await bot.restart()

    vetoes = custom_id_of(menu, "queue_view:vetoes")
    vetoed = await (await fake.select(alice, menu, ["Eclipse"], custom_id=vetoes)).reply()
    assert "BW Zerg, SC2 Protoss" in vetoed.text and "Eclipse" in vetoed.text, vetoed.text
    assert "You are in the queue" in (await press(fake, alice, menu, "Join")).text
    (entry,) = db_rows(bot, "SELECT races, vetoes FROM queue_entries")
    assert (entry["races"], entry["vetoes"]) == ('["bw_zerg", "sc2_protoss"]', '["Eclipse"]')

    done = await confirm(fake, root, question)
    assert "bw_zerg: 1500 → 1700" in done.text, done.text
    assert ratings(bot)[(bob.id, "bw_zerg")] == 1700

    assert "Declined" in (await press(fake, bob, terms, "Decline")).text
    assert db_rows(bot, "SELECT accepted_tos FROM players WHERE discord_uid = ?",
                   (bob.id,)) == [{"accepted_tos": 0}]  # fmt: skip

    preview = await pick_country_and_region(fake, carol, preview, "SE", "EU")
    assert "Profile saved" in (await press(fake, carol, preview, "Confirm")).text
    assert db_rows(bot, "SELECT country FROM players WHERE discord_uid = ?",
                   (carol.id,)) == [{"country": "SE"}]  # fmt: skip
    assert_no_unexpected_errors(bot)


async def test_an_admin_question_expires_and_needs_its_admin(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """A stored question is answered for two minutes, by its admin, while he is an admin."""
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", admins=(root,))
    old = await ask(fake, root, "ban", {"player": alice, "reason": "old question"})
    kept = await ask(fake, root, "ban", {"player": bob, "reason": "kept question"})
    old_id = int(old.component(label="Confirm")["custom_id"].rsplit(":", 1)[1])
    await bot.stop()
    db_write(bot, "UPDATE admin_confirmations SET created_at = ? WHERE id = ?",
             (LONG_AGO, old_id))  # fmt: skip
    await bot.start()

    expired = await refused_click(fake, root, old, label="Confirm")
    assert EXPIRED.user_message in expired.text, expired.text
    # root is no longer an admin when he answers the other one.
    bot.admin_ids = []
    await bot.restart()
    refused = await refused_click(fake, root, kept, label="Confirm")
    assert REFUSALS["admin"] in refused.text, refused.text
    assert not db_rows(bot, "SELECT * FROM players WHERE banned = 1")
    assert not db_rows(bot, "SELECT * FROM admin_actions")
    await bot.stop()
    outcomes = db_rows(bot, "SELECT command, outcome FROM command_calls WHERE kind = 'component'"
                            " AND command LIKE 'admin:%' ORDER BY id")  # fmt: skip
    assert [(o["command"], o["outcome"]) for o in outcomes] == [
        ("admin:confirm", "refused:expired"),
        ("admin:confirm", "refused:admin"),
    ]
