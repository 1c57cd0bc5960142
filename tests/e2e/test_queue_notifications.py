"""Queue notifications through the real bot and client: /notify, one DM per waiting player to
each subscriber who could meet him, never within the interval, never in quiet hours, never
about a player matched before the delay, never naming him.

Each "none" is shown against a control: a DM that must come (about a later player, or to
another subscriber in the same round), so no test waits for something not to happen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from localdiscord import FakeDiscord, FakeUser

from .flows import LEAVE_LABEL, command_reply, join_queue, ladder_with, match_dm, press
from .harness import BotFactory, BotProcess
from .state import db_rows

WAIT_SECONDS = 3  # how long a player waits before subscribers hear of him


async def notify(fake: FakeDiscord, user: FakeUser, **options: str) -> str:
    reply = await command_reply(fake, user, "notify", options)
    assert "Queue notifications" in reply.text, reply.text
    return reply.text


async def settled(fake: FakeDiscord, bot: BotProcess) -> None:
    """Every notification decided so far has ended (sent, dropped or failed)."""
    await fake.wait_until(
        lambda: not db_rows(bot, "SELECT 1 FROM notifications_sent WHERE outcome = 'queued'"),
        30,
        "the notifications to be sent",
        poll=0.1,  # a database row wakes no wait on the fake: without it, each took the full 30 s
    )


async def test_subscribers_hear_once_of_a_waiting_player_and_never_his_name(
    bot_process: BotFactory, tmp_path: Path
) -> None:
    bot, (alice, bob, carol, dave, erin, gina) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Carol", "Dave", "Erin", "Gina",
        wait_seconds=WAIT_SECONDS,
    )  # fmt: skip
    fake = bot.fake
    shown = await notify(fake, alice, enabled="on")
    assert "**on**" in shown and "Last notification: none yet" in shown

    # Bob and Carol are matched before the delay: nobody hears of them.
    await join_queue(fake, bob, ("bw_zerg",))
    await join_queue(fake, carol, ("bw_zerg",))
    await match_dm(fake, bob, 1)
    await match_dm(fake, carol, 1)

    # Dave waits alone: Alice hears of him, once, without his name. Her first DM is this
    # one, so none came about Bob or Carol.
    waiting = await join_queue(fake, dave, ("bw_protoss",))
    dm = await fake.next_dm(alice, within=30)
    assert dm.text == (
        "Someone is looking for a BW Protoss match in EU (about 1500). /queue to play."
    )
    await settled(fake, bot)
    assert len(fake.dms(alice)) == 1
    assert "Last notification: <t:" in await notify(fake, alice)

    # Erin is in her quiet hours; Gina is not. Dave queues again within Alice's interval:
    # only Gina hears of it.
    now = datetime.now(UTC)
    quiet = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"
    shown = await notify(fake, erin, enabled="on", quiet_hours=quiet, time_zone="Etc/UTC")
    assert f"Quiet hours: {quiet} (Etc/UTC)" in shown
    await notify(fake, gina, enabled="on")
    await press(fake, dave, waiting, LEAVE_LABEL)
    await join_queue(fake, dave, ("bw_protoss",))
    assert (await fake.next_dm(gina, within=30)).text.startswith("Someone is looking for")
    await settled(fake, bot)
    assert len(fake.dms(alice)) == 1, [m.text for m in fake.dms(alice)]
    assert fake.dms(erin) == []
    assert fake.dms(dave) == []  # nobody hears of himself
    rows = db_rows(bot, "SELECT discord_uid, outcome FROM notifications_sent ORDER BY id")
    assert [(r["discord_uid"], r["outcome"]) for r in rows] == [
        (alice.id, "sent"),
        (gina.id, "sent"),
    ]
