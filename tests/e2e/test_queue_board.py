"""The live queue board through the real bot: created in QUEUE_CHANNEL_ID, edited when the
queue changes, not edited when nothing changed, sent again after someone deletes it, and the
same message after a restart (its id in SQLite). It never names anyone."""

from __future__ import annotations

from pathlib import Path

from localdiscord import FakeDiscord
from localdiscord.objects import FakeChannel, RecordedMessage

from .flows import LEAVE_LABEL, join_queue, ladder_with, press
from .harness import BotFactory

INTERVAL = 0.3  # edit_interval_seconds: ticks come fast in a test


def live(fake: FakeDiscord, channel: FakeChannel) -> list[RecordedMessage]:
    return fake.channel_messages(channel)


def lookups(fake: FakeDiscord, message: RecordedMessage) -> int:
    """How often the bot fetched the board's message (once a tick when nothing changed)."""
    path = f"/channels/{message.channel.id}/messages/{message.id}"
    return sum(1 for r in fake.requests if r.method == "GET" and r.path.endswith(path))


async def board(fake: FakeDiscord, channel: FakeChannel, *needles: str) -> RecordedMessage:
    """The one live board message, once it shows every needle."""

    def found() -> RecordedMessage | None:
        messages = live(fake, channel)
        if len(messages) == 1 and all(n in messages[0].text for n in needles):
            return messages[0]
        return None

    return await fake.wait_until(found, 30, f"the board to show {needles}")


async def test_the_board_follows_the_queue_and_survives_deletion_and_restart(
    bot_process: BotFactory, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    guild = fake.guild(channels=("general", "queue"))
    channel = guild.channel("queue")
    bot, (bob,) = await ladder_with(
        bot_process, tmp_path, "Bob", edit_interval_seconds=INTERVAL,
    )  # fmt: skip
    # ladder_with starts the bot with the data folder only; the channel comes with a restart.
    await bot.stop()
    bot.extra_env["QUEUE_CHANNEL_ID"] = str(channel.id)
    await bot.start()

    first = await board(fake, channel, "Nobody is queueing")
    joined = await join_queue(fake, bob, ("bw_zerg",))
    changed = await board(fake, channel, "1 queueing", "BW Zerg · EU: 1", "Longest wait")
    assert changed.id == first.id and "Bob" not in changed.text
    bodies = len(changed.history)

    # Nothing changes: the bot only looks the message up, tick after tick.
    seen = lookups(fake, changed)
    await fake.wait_until(lambda: lookups(fake, changed) >= seen + 3, 30, "three quiet ticks")
    assert len(changed.history) == bodies

    # Someone deletes it: it comes back, as a new message.
    changed.deleted = True
    again = await board(fake, channel, "1 queueing")
    assert again.id != first.id

    # A restart finds it in SQLite and keeps it.
    await bot.stop()
    await bot.start()
    seen = lookups(fake, again)
    await fake.wait_until(lambda: lookups(fake, again) >= seen + 2, 30, "ticks after restart")
    assert [m.id for m in live(fake, channel)] == [again.id]

    await press(fake, bob, joined, LEAVE_LABEL)
    assert (await board(fake, channel, "Nobody is queueing")).id == again.id
