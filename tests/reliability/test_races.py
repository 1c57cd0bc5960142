"""Races on the real bot: two interactions injected at the same moment through the fake Discord.

Double clicks on Confirm, on a report and on Join; two players joining at once; both players
reporting at the same instant (agreeing and disagreeing); an admin's ruling racing a late
report; a confirmation racing its own deadline. Whatever order the bot takes them in, every
click is answered (no apology, no ERROR in the bot's log), no match is made twice, no rating is
applied twice, and the final state is the one a referee expects.

The ladder services' tests (tests/services) race the use cases directly; these go through the
gateway, the component router, the pipeline's guards and the views, as Discord delivers them.
One bot serves the module (players are fresh in every test); the deadline race has its own bot
with a 2-second confirmation window.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import CHANNEL_MESSAGE, UPDATE_MESSAGE
from tests.e2e.flows import (
    LEAVE_LABEL,
    ask,
    ladder_data_dir,
    onboard,
    open_queue,
    press,
    start_ladder_bot,
)
from tests.e2e.harness import WAIT, BotProcess
from tests.e2e.state import db_rows
from tests.reliability.e2e_helpers import (
    answered,
    assert_clean,
    forged_component,
    mark,
    match,
    pair,
    start,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

_names = itertools.count(1)


def fresh(fake: FakeDiscord, n: int = 2) -> list[str]:
    return [f"Racer{next(_names)}" for _ in range(n)]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ladder(module_fake: FakeDiscord, module_bot_process, tmp_path_factory):
    root = module_fake.user("root")
    data = ladder_data_dir(tmp_path_factory.mktemp("races"))
    bot = module_bot_process(admins=[root], env={"DATA_DIR": str(data)})
    await bot.start()
    return module_fake, bot, root


def rating_log(bot: BotProcess, match_id: int) -> list[dict]:
    return db_rows(bot, "SELECT * FROM rating_log WHERE match_id = ?", (match_id,))


def mmr(bot: BotProcess, user: FakeUser) -> dict[str, int]:
    rows = db_rows(bot, "SELECT race, mmr FROM ratings WHERE discord_uid = ?", (user.id,))
    return {r["race"]: r["mmr"] for r in rows}


def matches_of(bot: BotProcess, *users: FakeUser) -> list[dict]:
    ids = [u.id for u in users]
    marks = ", ".join("?" * len(ids))
    return db_rows(
        bot,
        f"SELECT * FROM matches WHERE player1_uid IN ({marks}) OR player2_uid IN ({marks})",
        (*ids, *ids),
    )


async def clicks(fake: FakeDiscord, *pressed: tuple[FakeUser, RecordedMessage, str]):
    """Inject several clicks back to back, before the bot answers any of them."""
    return await asyncio.gather(*(fake.click(u, m, label=label) for u, m, label in pressed))


async def test_double_click_on_confirm(ladder) -> None:
    fake, bot, _ = ladder
    since = await mark(fake, bot)
    alice, bob = await onboard(fake, *fresh(fake))
    match_id, dm_a, dm_b = await pair(fake, bot, alice, bob)

    both = await clicks(fake, (alice, dm_a, "Confirm"), (alice, dm_a, "Confirm"))
    callbacks = [await c.response() for c in both]
    assert {cb.type for cb in callbacks} <= {UPDATE_MESSAGE, CHANNEL_MESSAGE}
    row = match(bot, match_id)
    assert row["status"] == "awaiting_confirmation"
    side = 1 if row["player1_uid"] == alice.id else 2
    assert row[f"player{side}_confirmed_at"] and not row[f"player{3 - side}_confirmed_at"]

    await press(fake, bob, dm_b, "Confirm")
    await wait_status(fake, bot, match_id, "in_progress")
    assert len(matches_of(bot, alice, bob)) == 1
    await assert_clean(fake, bot, since)


async def test_double_click_on_a_report_rates_the_match_once(ladder) -> None:
    fake, bot, _ = ladder
    since = await mark(fake, bot)
    alice, bob = await onboard(fake, *fresh(fake))
    match_id, dm_a, dm_b = await start(fake, bot, alice, bob)

    both = await clicks(fake, (alice, dm_a, "I won"), (alice, dm_a, "I won"))
    await answered(*both)
    row = match(bot, match_id)
    side = 1 if row["player1_uid"] == alice.id else 2
    assert (row["status"], row[f"player{side}_report"]) == ("in_progress", "win")

    await press(fake, bob, dm_b, "I lost")
    row = await wait_status(fake, bot, match_id, "finished")
    assert row["decided_by"] == "agreement"
    assert len(rating_log(bot, match_id)) == 1
    assert mmr(bot, alice) == {"bw_terran": 1520} and mmr(bot, bob) == {"bw_zerg": 1480}
    await assert_clean(fake, bot, since)


@pytest.mark.parametrize(
    ("a_says", "b_says", "status"),
    [("I won", "I lost", "finished"), ("I won", "I won", "disputed"), ("Draw", "Draw", "finished")],
    ids=["agreeing", "conflicting", "draw"],
)
async def test_both_players_report_at_the_same_instant(ladder, a_says, b_says, status) -> None:
    fake, bot, root = ladder
    since = await mark(fake, bot)
    alice, bob = await onboard(fake, *fresh(fake))
    match_id, dm_a, dm_b = await start(fake, bot, alice, bob)
    admin_dms = len(fake.dms(root))

    both = await clicks(fake, (alice, dm_a, a_says), (bob, dm_b, b_says))
    await answered(*both)
    row = await wait_status(fake, bot, match_id, status)
    disputes = db_rows(bot, "SELECT * FROM disputes WHERE match_id = ?", (match_id,))
    if status == "disputed":
        assert len(disputes) == 1 and not rating_log(bot, match_id)
        assert (mmr(bot, alice), mmr(bot, bob)) == ({"bw_terran": 1500}, {"bw_zerg": 1500})
        await fake.wait_until(lambda: len(fake.dms(root)) > admin_dms, WAIT, "the dispute DM")
        await asyncio.sleep(0.3)  # a second notice would come right after the first
        notices = [m for m in fake.dms(root)[admin_dms:] if f"match #{match_id}" in m.text]
        assert len(notices) == 1, [m.text for m in notices]
    else:
        assert not disputes and len(rating_log(bot, match_id)) == 1
        expected = (1520, 1480) if a_says == "I won" else (1500, 1500)
        assert (mmr(bot, alice)["bw_terran"], mmr(bot, bob)["bw_zerg"]) == expected
        assert row["decided_by"] == "agreement"
    await assert_clean(fake, bot, since)


async def test_two_players_join_at_once_and_are_matched_once(ladder) -> None:
    fake, bot, _ = ladder
    since = await mark(fake, bot)
    alice, bob = await onboard(fake, *fresh(fake))
    menus = [await open_queue(fake, alice), await open_queue(fake, bob)]
    both = await clicks(fake, (alice, menus[0], "Join"), (bob, menus[1], "Join"))
    for reply in await answered(*both):
        assert "You are in the queue" in reply.text, reply.text
    await fake.wait_until(lambda: matches_of(bot, alice, bob), WAIT, "their match", poll=0.05)
    await asyncio.sleep(1.0)  # a few more waves: none may match them again
    (made,) = matches_of(bot, alice, bob)
    assert {made["player1_uid"], made["player2_uid"]} == {alice.id, bob.id}
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    await assert_clean(fake, bot, since)


async def test_double_click_on_join_queues_once(ladder) -> None:
    fake, bot, _ = ladder
    since = await mark(fake, bot)
    (alice,) = await onboard(fake, *fresh(fake, 1))
    menu = await open_queue(fake, alice)
    both = await clicks(fake, (alice, menu, "Join"), (alice, menu, "Join"))
    replies = await answered(*both)
    texts = [r.text for r in replies]
    assert sum("You are in the queue" in t for t in texts) >= 1, texts
    assert all("You are in the queue" in t or "already in the queue" in t for t in texts), texts
    queued = db_rows(bot, "SELECT discord_uid FROM queue_entries")
    assert queued == [{"discord_uid": alice.id}]
    # Either click may be the one that queued; the other was refused without buttons.
    queued_message = next(
        r for r in replies if any(c.get("label") == LEAVE_LABEL for c in r.all_components())
    )
    await press(fake, alice, queued_message, LEAVE_LABEL)  # leave the queue empty
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    await assert_clean(fake, bot, since)


async def test_an_admin_ruling_racing_a_late_report_is_final(ladder) -> None:
    fake, bot, root = ladder
    since = await mark(fake, bot)
    alice, bob = await onboard(fake, *fresh(fake))
    match_id, dm_a, dm_b = await start(fake, bot, alice, bob)
    await press(fake, alice, dm_a, "I won")
    row = match(bot, match_id)
    ruling = "p2_win" if row["player1_uid"] == alice.id else "p1_win"  # for Bob
    question = await ask(fake, root, "resolve",
                         {"match_id": match_id, "ruling": ruling, "reason": "replay"})  # fmt: skip

    both = await clicks(fake, (root, question, "Confirm"), (bob, dm_b, "I lost"))
    await answered(*both)
    row = await wait_status(fake, bot, match_id, "finished")
    # One outcome, whichever came first. The ruling first: it is final, Bob's late report
    # changes nothing. Bob's report first: the match is decided by agreement, and the
    # ruling, asked about a match in progress, is refused as stale (nothing re-rated).
    admin_reply = await both[0].reply()
    if row["decided_by"] == "admin":
        assert row["result"] == ruling
        winner, loser = bob, alice
    else:
        assert row["decided_by"] == "agreement", row
        assert "changed since you asked" in admin_reply.text, admin_reply.text
        winner, loser = alice, bob
    assert len(rating_log(bot, match_id)) == 1
    assert (mmr(bot, winner), mmr(bot, loser)) in (
        ({"bw_terran": 1520}, {"bw_zerg": 1480}), ({"bw_zerg": 1520}, {"bw_terran": 1480}))
    wins = db_rows(bot, "SELECT discord_uid, wins, losses, games FROM ratings WHERE discord_uid"
                   " IN (?, ?)", (alice.id, bob.id))  # fmt: skip
    assert {(w["discord_uid"], w["wins"], w["losses"], w["games"]) for w in wins} == {
        (winner.id, 1, 0, 1), (loser.id, 0, 1, 1)}  # fmt: skip
    await assert_clean(fake, bot, since)


# --- a confirmation racing its deadline: a bot of its own ----------------------------------


def stored_time(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.mark.asyncio(loop_scope="function")
async def test_a_confirmation_racing_its_deadline_has_one_outcome(
    fake_discord: FakeDiscord, bot_process, tmp_path: Path
) -> None:
    """Bob's Confirm arrives 150 ms before, at, and 150 ms after the stored deadline (three
    matches), while the bot's deadline timer fires: he plays, or he is the no-show; never both,
    never neither, and his click is answered either way."""
    fake = fake_discord
    bot = await start_ladder_bot(bot_process, tmp_path, confirmation_window_seconds=3)
    since = await mark(fake, bot)
    offsets = (-0.15, 0.0, 0.15)
    players = await onboard(fake, *fresh(fake, 2 * len(offsets)))
    rounds = []
    for n, offset in enumerate(offsets):
        alice, bob = players[2 * n : 2 * n + 2]
        match_id, dm_a, dm_b = await pair(fake, bot, alice, bob)
        await press(fake, alice, dm_a, "Confirm")
        deadline = stored_time(match(bot, match_id)["confirm_deadline"])
        rounds.append((offset, bob, match_id, dm_b, deadline, dm_b.component(label="Confirm")))

    async def race(offset, bob, match_id, dm_b, deadline, button):
        await asyncio.sleep(max(deadline + offset - time.time(), 0))
        late = time.time() - deadline
        # Bob's client still shows the button (the edit that removes it may be on its way).
        click = await forged_component(fake, bob, dm_b, button["custom_id"])
        callback = await click.response()
        reply = await click.reply()
        await wait_status(fake, bot, match_id, "in_progress", "cancelled")
        await asyncio.sleep(0.3)  # the deadline timer has fired by now, if it is going to
        row = match(bot, match_id)
        if row["status"] == "in_progress":  # Bob was in time: his click started the match
            assert callback.type == UPDATE_MESSAGE and "Match on" in reply.text, reply.text
            assert row["no_shows"] is None and row["started_at"]
        else:  # too late: refused, or shown the cancellation; Bob is the no-show
            assert row["status"] == "cancelled" and row["no_shows"] == f"[{bob.id}]"
            assert any(w in reply.text.lower() for w in ("cancel", "deadline", "too late")), (
                reply.text)  # fmt: skip
        return round(late, 3), row["status"]

    outcomes = await asyncio.gather(*(race(*r) for r in rounds))
    assert not db_rows(bot, "SELECT * FROM aborts")
    print(f"\nconfirmation vs deadline (click late by s → outcome): {outcomes}")
    await assert_clean(fake, bot, since)
