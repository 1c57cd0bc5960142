"""The notification sender under load, through the real nextcord client: 500 notifications
against a local Discord whose global rate limit answers a share of the requests 429 with
`retry_after`. Every notification ends once, sent or dropped as stale (its waiting player
left), none twice; a command's latency meanwhile is measured and reported, not asserted; a
close drains within a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cogs.notification_sender import NotificationSender
from ladder.notifications import Notice
from localdiscord import FakeDiscord
from services.notifications import Due
from storage.database import format_time

from .flows import command_reply
from .harness import in_process_bot, running_client

NOTIFICATIONS = 500
RECIPIENTS = 50
WAITING = 5  # players the notifications are about; one leaves the queue midway
RATE = 40  # the fake's global limit, requests a second: a share of the sends get 429


def seed(database: Path, fake: FakeDiscord) -> tuple[list[int], list[int], datetime]:
    """Recipients and queued players, written as finished /setup."""
    stamp = format_time(datetime.now(UTC) - timedelta(days=1))
    joined = datetime.now(UTC).replace(microsecond=0)
    recipients = [fake.user(f"sub{n}").id for n in range(RECIPIENTS)]
    waiting = [fake.user(f"waiter{n}").id for n in range(WAITING)]
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, player_name, region, accepted_tos,"
            " completed_setup, created_at, updated_at) VALUES (?, ?, ?, 'EU', 1, 1, ?, ?)",
            [(uid, f"u{uid}", f"P{uid}", stamp, stamp) for uid in recipients + waiting],
        )
        conn.executemany(
            "INSERT INTO queue_entries (discord_uid, races, vetoes, joined_at) VALUES (?, ?, ?, ?)",
            [(uid, '["bw_zerg"]', "[]", format_time(joined)) for uid in waiting],
        )
    return recipients, waiting, joined


async def test_500_notifications_with_429s_end_once_each_and_commands_stay_fast(
    tmp_path: Path,
) -> None:
    async with (
        FakeDiscord(global_rate_limit=RATE) as fake,
        in_process_bot(tmp_path) as bot,
        running_client(fake, bot),
    ):
        assert bot.notifications is not None and bot.queue_notifications is not None
        service = bot.notifications
        # More workers than the bot's own, so the rate limit is reached on a slow machine.
        sender = NotificationSender(bot.queue_notifications.send_dm, service, workers=8)
        recipients, waiting, joined = seed(tmp_path / "in-process.db", fake)
        dues: list[Due] = []
        async with bot.db.transaction() as conn:
            now = datetime.now(UTC)
            for n in range(NOTIFICATIONS):
                notice = Notice(
                        recipients[n % RECIPIENTS], waiting[n % WAITING], joined, "bw_zerg",
                        "EU", 1500,
                    )  # fmt: skip
                dues.append(Due(await service.repo.record(conn, notice, now), notice, now))
        sender.start()
        for due in dues:
            sender.submit(due, f"notification {due.id}")

        # Commands keep coming while the sender works; their latency is measured.
        player = fake.user("commander")
        latencies: list[float] = []
        done = asyncio.create_task(sender.idle())
        left = False
        while not done.done():
            started = time.perf_counter()
            await command_reply(fake, player, "help")
            latencies.append(time.perf_counter() - started)
            if not left and sender.counts["sent"] >= 100:
                assert await bot.queue.leave_queue(waiting[0])  # his are stale now
                left = True
        await done
        await sender.close(1.0)

        texts = Counter(m.content for uid in recipients for m in fake.dms(fake.users[uid]))
        assert all(count == 1 for count in texts.values()), texts.most_common(3)
        rows = await bot.db.fetchall(
            "SELECT id, about_uid, outcome FROM notifications_sent ORDER BY id"
        )
        outcomes = Counter(r[2] for r in rows)
        sent_ids = {f"notification {r[0]}" for r in rows if r[2] == "sent"}
        assert set(texts) == sent_ids  # sent means delivered, once
        assert outcomes["sent"] + outcomes["dropped"] == NOTIFICATIONS, outcomes
        assert outcomes["dropped"] > 0 and outcomes["failed"] == 0
        assert all(r[1] == waiting[0] for r in rows if r[2] == "dropped")
        throttled = sum(1 for r in fake.requests if r.status == 429)
        assert throttled > 0, "the fake's rate limit never answered 429"
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(
            f"\n{NOTIFICATIONS} notifications: {outcomes['sent']} sent,"
            f" {outcomes['dropped']} dropped, {throttled} requests answered 429;"
            f" /help during it: {len(latencies)} calls, p50"
            f" {latencies[len(latencies) // 2] * 1e3:.0f} ms, p99 {p99 * 1e3:.0f} ms"
        )


async def test_a_close_drains_within_a_second_and_logs_the_rest_dropped(tmp_path: Path) -> None:
    async with (
        FakeDiscord(global_rate_limit=5) as fake,  # very slow: most stay unsent
        in_process_bot(tmp_path) as bot,
        running_client(fake, bot),
    ):
        assert bot.notifications is not None and bot.queue_notifications is not None
        service = bot.notifications
        sender = bot.queue_notifications.sender
        recipients, waiting, joined = seed(tmp_path / "in-process.db", fake)
        async with bot.db.transaction() as conn:
            now = datetime.now(UTC)
            for n in range(100):
                notice = Notice(recipients[n % RECIPIENTS], waiting[0], joined, "bw_zerg",
                                    "EU", 1500)  # fmt: skip
                sender.submit(Due(await service.repo.record(conn, notice, now), notice, now), "hi")
        sender.start()
        await fake.wait_until(lambda: sender.counts["sent"] >= 1, 30, "a first DM")
        started = time.perf_counter()
        await sender.close(1.0)
        assert time.perf_counter() - started <= 1.1
        rows = await bot.db.fetchall("SELECT outcome FROM notifications_sent")
        outcomes = Counter(r[0] for r in rows)
        assert outcomes["queued"] == 0 and outcomes["dropped"] > 0, outcomes
