"""A matchmaking wave whose DMs go out at Discord's pace: each player's confirmation window runs
from when their match DM was sent, not from the wave.

The fake's opt-in global rate limit makes the bot's REST calls slow, as Discord's 50 requests a
second do for a big wave (bench/bench_wave_dms.py measures 2,000 players). Forty players who
finished /setup are written into the database queued with one race (so the first wave pairs
them all), each with the queue message /queue left in their DMs; then the real ``bot.py`` runs
the wave: it edits the queue messages and DMs every match. The wave takes seconds; the
confirmation window is set around that.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage.database
from localdiscord import FakeDiscord, FakeUser
from storage.database import Database, format_time, parse_time

from .flows import join_queue, ladder_data_dir, ladder_with, match_dm, wait_text
from .harness import BotProcess, in_process_bot, running_client
from .state import assert_no_unexpected_errors, db_rows

PLAYERS = 40
RATE = 10  # the fake's global limit, requests a second: the wave's calls take seconds
# The window starts just before the bot sends a DM; the call itself may wait for the rate
# limit (nextcord waits up to ~1 s after a 429) before the DM arrives.
TOLERANCE = 3.0
SLOW_WAVE = TOLERANCE + 1.0  # the last DM comes later than this after the wave
DM_ROUTE = "/channels/{channel_id}/messages"
EDIT_ROUTE = "/channels/{channel_id}/messages/{message_id}"
NEXTCORD_TRIES = 5  # a request answered 429 this many times is given up by nextcord
WAIT = 60.0


async def queued_players(fake: FakeDiscord, database: Path, count: int) -> list[FakeUser]:
    """Players who finished /setup, queued with one race, each with a queue message."""
    database.parent.mkdir(parents=True, exist_ok=True)
    db = await Database.open(database)  # the bot's own migrations (its database, either backend)
    stamp = format_time(datetime.now(UTC) - timedelta(days=1))
    users = [fake.user(f"waver{n}") for n in range(count)]
    players, queue = [], []
    for n, user in enumerate(users):
        players.append(
            (user.id, user.username, f"Waver{n:03d}", f"Waver{n:03d}#{1000 + n}", "FR", "EU",
             1, stamp, 1, stamp, 0, stamp, stamp)
        )  # fmt: skip
        # What /queue left in the DMs in an earlier run. The wave edits it to "A match was found".
        channel = fake.dm_channel(user)
        message = fake.plant_message(channel, {"embeds": [{"title": "You are in the queue"}]})
        queue.append((user.id, '["bw_terran"]', "[]", stamp, channel.id, message.id))
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO players (discord_uid, discord_name, player_name, battletag, country,"
                " region, accepted_tos, accepted_tos_at, completed_setup, completed_setup_at,"
                " banned, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                players,
            )
            await conn.executemany(
                "INSERT INTO queue_entries (discord_uid, races, vetoes, joined_at, channel_id,"
                " message_id) VALUES (?, ?, ?, ?, ?, ?)",
                queue,
            )
    finally:
        await db.close()
    return users


async def run_wave(
    fake: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path, window: float
) -> tuple[BotProcess, dict[int, list[float]]]:
    """Start the bot on PLAYERS queued players with a slow Discord; wait until each has a
    match DM. Returns the bot and {uid: wall-clock arrival time of each match DM}."""
    data = ladder_data_dir(tmp_path, wave_interval_seconds=1, confirmation_window_seconds=window)
    bot = bot_process(env={"DATA_DIR": str(data), "LOG_LEVEL": "INFO"})
    users = await queued_players(fake, bot.database_path, PLAYERS)
    owner = {fake.dm_channel(u).id: u.id for u in users}
    fake.global_rate_limit = RATE
    offset = time.time() - time.monotonic()  # the fake's clock (monotonic) to the bot's
    await bot.start()

    found: dict[int, list[float]] = {}
    read = 0

    def arrivals() -> dict[int, list[float]]:
        # Called at every request the fake records: read only the new ones. (Reading them all
        # each time is quadratic: on a busy machine, with thousands of 429s and retries, it
        # kept the fake's loop from answering the bot's heartbeats for 40 s.)
        nonlocal read
        requests = fake.requests
        for index in range(read, len(requests)):
            r = requests[index]
            if r.method == "POST" and r.route == DM_ROUTE and r.status == 200:
                uid = owner.get(int(r.path.split("/")[2]))
                if uid is not None:
                    found.setdefault(uid, []).append(r.at + offset)
        read = len(requests)
        return found

    await fake.wait_until(lambda: len(arrivals()) == PLAYERS, WAIT, "a DM to every player")
    # Every send finished and recorded: a second DM to anyone would have been sent by then.
    await fake.wait_until(
        lambda: len(db_rows(bot, "SELECT 1 FROM match_messages")) == PLAYERS,
        WAIT,
        "every match message recorded",
        poll=0.1,
    )
    return bot, dict(arrivals())


def check_wave(
    fake: FakeDiscord, bot: BotProcess, sent: dict[int, list[float]], window: float
) -> None:
    """Every player got one match DM, with Confirm; each match's window ran from its second DM;
    no match was cancelled as a no-show before that window could run out."""
    assert Counter(len(times) for times in sent.values()) == {1: PLAYERS}, "one DM each"
    matches = db_rows(bot, "SELECT * FROM matches ORDER BY id")
    assert len(matches) == PLAYERS // 2
    wave = min(parse_time(m["created_at"]).timestamp() for m in matches)
    last = max(times[0] for times in sent.values())
    if last - wave < SLOW_WAVE:  # not an AssertionError: the xfail below must not cover it
        pytest.fail(f"the wave's DMs took {last - wave:.1f} s: too fast to show anything")
    problems = []
    for m in matches:
        second_dm = max(sent[m["player1_uid"]][0], sent[m["player2_uid"]][0])
        deadline = parse_time(m["confirm_deadline"]).timestamp()
        if deadline < second_dm + window - TOLERANCE:
            problems.append(
                f"match #{m['id']}: deadline {deadline - second_dm:+.1f} s from its second DM"
                f" (sent {second_dm - wave:.1f} s after the wave), status {m['status']}"
            )
        if m["status"] == "cancelled" and (
            parse_time(m["ended_at"]).timestamp() < second_dm + window - TOLERANCE
        ):
            problems.append(
                f"match #{m['id']}: cancelled as a no-show ({m['no_shows']})"
                f" {parse_time(m['ended_at']).timestamp() - second_dm:+.1f} s from its second DM"
            )
    assert not problems, f"window {window:g} s:\n" + "\n".join(problems)
    # Each DM, as first sent, offered its match to confirm (not a match already over).
    shown = db_rows(bot, "SELECT * FROM match_messages")
    assert len(shown) == PLAYERS
    for row in shown:
        first = fake.messages[row["message_id"]].history[0]
        labels = [c.get("label") for r in first.get("components", []) for c in r["components"]]
        assert "Confirm" in labels, f"match #{row['match_id']} was first shown with {labels}"
    assert_no_unexpected_errors(bot)


async def test_each_confirmation_window_starts_at_its_dm(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """The wave's DMs take several seconds; each match's deadline is its second DM + window,
    which a deadline fixed at the wave (wave + window) would miss by that much."""
    window = 20.0  # longer than the whole wave: no deadline passes while it is sent
    bot, sent = await run_wave(fake_discord, bot_process, tmp_path, window)
    check_wave(fake_discord, bot, sent, window)
    statuses = {m["status"] for m in db_rows(bot, "SELECT status FROM matches")}
    assert statuses == {"awaiting_confirmation"}


async def test_a_wave_longer_than_the_window_cancels_nobody_early(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """Sending the wave takes longer than the confirmation window: still, every player gets
    the whole window from their DM, and no match is cancelled before that."""
    window = 5.0
    bot, sent = await run_wave(fake_discord, bot_process, tmp_path, window)
    check_wave(fake_discord, bot, sent, window)


async def test_a_match_dm_and_a_queue_edit_outlast_more_429s_than_nextcord_retries(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """nextcord tries a rate-limited request five times, then raises. A burst longer than that
    once cost a player their match DM (found under load in the wave test above): the bot now
    waits the 429's retry_after and sends again, so the DM and the queue-message edit land."""
    fake = fake_discord
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob")
    alice_queued = await join_queue(fake, alice, ("bw_terran",))
    alice_edit = f"/channels/{fake.dm_channel(alice).id}/messages/{alice_queued.id}"
    bob_dm = f"/channels/{fake.dm_channel(bob).id}/messages"
    fake.throttled[alice_edit] = fake.throttled[bob_dm] = NEXTCORD_TRIES + 1
    await join_queue(fake, bob, ("bw_zerg",))  # the next wave matches them
    await match_dm(fake, bob, 1, within=WAIT)
    await match_dm(fake, alice, 1)
    await wait_text(fake, alice_queued, "A match was found", within=WAIT)
    assert fake.throttled[alice_edit] == fake.throttled[bob_dm] == 0  # every 429 was met
    log = bot.log_text()
    assert log.count("still rate limited") == 2
    assert "Could not DM player" not in log and "Could not update" not in log, log[-3000:]
    assert_no_unexpected_errors(bot)


async def test_a_busy_database_delays_a_match_dm_but_never_loses_it(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found by the wave test above on a loaded machine: the DMs' writes (each moves the
    match's deadline and records the message) gave up after one lock wait, and the match was
    cancelled as a no-show with neither player told of it. They wait for the database now."""
    fake = fake_discord
    monkeypatch.setattr(storage.database, "LOCK_WAIT_SECONDS", 0.05)  # busy sooner
    ann, ben = await queued_players(fake, tmp_path / "in-process.db", 2)
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        wave = await bot.queue.pair_queue()
        [match] = wave.matches
        caplog.clear()
        async with bot.db.transaction():  # another write holds the lock for a while
            sending = asyncio.create_task(bot.notifier.matches_found(wave.matches))

            def gave_up_twice() -> bool:
                return caplog.text.count("Ladder write failed") >= 2 or sending.done()

            await fake.wait_until(gave_up_twice, WAIT, "the DMs to meet the busy lock", poll=0.01)
            assert not sending.done(), sending
        await sending
        for user in (ann, ben):
            [dm] = fake.dms(user)[1:]  # after the planted queue message
            assert "Confirm" in [b.get("label") for b in dm.buttons()], dm.text
        shown = db_rows(tmp_path / "in-process.db", "SELECT discord_uid FROM match_messages")
        assert sorted(r["discord_uid"] for r in shown) == sorted([ann.id, ben.id])
        assert (await bot.matches.get_match(match.id)).confirm_deadline > match.confirm_deadline
        assert "its DMs failed" not in caplog.text
