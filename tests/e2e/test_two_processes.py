"""Two real bot processes on one PostgreSQL and the local Discord: one leads (matchmaking,
deadlines, the queue board, queue notifications), the other answers commands; SIGKILL the
leader, between waves or in the middle of one, and the other takes over: no queue entry lost,
no player matched twice, no match rated twice.

The local Discord sends every event to the newest gateway session, so the second bot started
receives the interactions; the first one, started alone, becomes the leader. Each process runs
one gateway shard of two (SHARD_COUNT, SHARD_IDS), as in production.
"""

from __future__ import annotations

import time

import asyncpg

from localdiscord import FakeDiscord, FakeUser
from localdiscord.objects import RecordedMessage
from storage.leader import LEADER_LOCK_KEY, WAVE_LOCK_KEY
from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer, until_server

from .flows import (
    command_reply,
    join_queue,
    labels,
    ladder_data_dir,
    match_dm,
    onboard,
    press,
    wait_text,
)
from .harness import BotFactory, BotProcess

__all__ = ["postgres_server"]

# Long enough that players queued just after a wave are still waiting when the leader dies.
WAVE_SECONDS = 5
WITHIN = 20.0
LEADER_LOG = "This process is now the leader"


async def leader_pid(url: str) -> int | None:
    """The operating-system pid of the bot process that holds the leader lock, if any."""
    conn = await asyncpg.connect(url)
    try:
        name = await conn.fetchval(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1"
            " AND a.datname = current_database()",  # the server is shared with other tests
            LEADER_LOCK_KEY,
        )
    finally:
        await conn.close()
    return int(name.rsplit(" ", 1)[1]) if name else None


async def wait_leader(fake: FakeDiscord, url: str, bot: BotProcess) -> float:
    """Wait until `bot` says it leads, check that it holds the lock; return the seconds taken."""
    start = time.monotonic()
    await fake.wait_until(
        lambda: LEADER_LOG in bot.log_text(), WITHIN, f"{bot.name} to lead", poll=0.05
    )
    took = time.monotonic() - start
    assert bot.proc is not None and await leader_pid(url) == bot.proc.pid
    return took


async def rows(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_two_processes_match_once_and_the_other_takes_over_when_the_leader_is_killed(
    fake_discord: FakeDiscord, bot_process: BotFactory, postgres_server: PostgresServer, tmp_path
) -> None:
    url = await postgres_databases(postgres_server).new_url()
    data = ladder_data_dir(tmp_path, wave_interval_seconds=WAVE_SECONDS)
    env = {"DATABASE_URL": url, "DATA_DIR": str(data)}
    first, second = bot_process(env=sharded(env, 0)), bot_process(env=sharded(env, 1))
    await first.start()
    await wait_leader(fake_discord, url, first)
    await second.start()  # receives the interactions from now on; follows
    assert await leader_pid(url) == first.proc.pid  # type: ignore[union-attr]

    alice, bob, carol, dave = await onboard(fake_discord, "Alice", "Bob", "Carol", "Dave")
    await join_queue(fake_discord, alice, ("bw_terran",))
    await join_queue(fake_discord, bob, ("bw_zerg",))
    await match_dm(fake_discord, alice, 1, within=WITHIN)
    await match_dm(fake_discord, bob, 1, within=WITHIN)
    # A wave has just run: the next is WAVE_SECONDS away. Carol and Dave queue, the leader dies.
    await join_queue(fake_discord, carol, ("bw_terran",))
    await join_queue(fake_discord, dave, ("bw_zerg",))
    await first._kill()  # SIGKILL: no signal handler, no unlock, no close
    killed = time.monotonic()
    queued = {r["discord_uid"] for r in await rows(url, "SELECT discord_uid FROM queue_entries")}
    assert queued == {carol.id, dave.id}, "the wave ran before the kill: the test proves nothing"

    took_over = await wait_leader(fake_discord, url, second)
    await match_dm(fake_discord, carol, 2, within=WITHIN)
    await match_dm(fake_discord, dave, 2, within=WITHIN)
    matched = time.monotonic() - killed
    print(
        f"\nleader SIGKILLed: the other process led after {took_over:.2f} s and matched the"
        f" waiting players after {matched:.2f} s (waves every {WAVE_SECONDS} s)"
    )

    matches = await rows(url, "SELECT id, player1_uid, player2_uid FROM matches ORDER BY id")
    pairs = [{m["player1_uid"], m["player2_uid"]} for m in matches]
    assert pairs == [{alice.id, bob.id}, {carol.id, dave.id}]  # each pair matched exactly once
    assert await rows(url, "SELECT discord_uid FROM queue_entries") == []
    for user, match_id in ((alice, 1), (bob, 1), (carol, 2), (dave, 2)):  # told once, too
        told = [m for m in fake_discord.dms(user) if f"Match #{match_id}" in m.text]
        assert len(told) == 1, (user.username, [m.text for m in told])


# --- the leader SIGKILLed in the middle of a wave --------------------------------------------

PLAYERS = ("Alice", "Bob", "Carol", "Dave", "Erin", "Frank")
RACES = ("bw_terran", "bw_zerg")
# The wave lock's key as pg_locks shows it: a bigint key is classid (high half), objid (low).
WAVE_LOCK_ROW = (WAVE_LOCK_KEY >> 32, WAVE_LOCK_KEY & 0xFFFFFFFF)
FENCED_OFF = "Another process is running a matchmaking wave"


def sharded(env: dict[str, str], shard: int) -> dict[str, str]:
    """`env` for the process running gateway shard `shard` of two."""
    return {**env, "SHARD_COUNT": "2", "SHARD_IDS": str(shard)}


def blocked_wave_sql() -> str:
    """The backend whose transaction holds the wave lock and waits for a table lock."""
    classid, objid = WAVE_LOCK_ROW
    return (
        "SELECT a.pid, a.query FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        f" AND l.classid = {classid} AND l.objid = {objid}"
        " AND a.datname = current_database() AND a.wait_event_type = 'Lock'"
    )


def match_message(fake: FakeDiscord, user: FakeUser, match_id: int) -> RecordedMessage:
    (message,) = [m for m in fake.dms(user) if f"Match #{match_id}" in m.text]
    return message


async def play(fake: FakeDiscord, match_id: int, winner: FakeUser, loser: FakeUser) -> None:
    """Both confirm match `match_id`, then report `winner`'s win; wait until it is finished."""
    dm_w, dm_l = match_message(fake, winner, match_id), match_message(fake, loser, match_id)
    await press(fake, winner, dm_w, "Confirm")
    await press(fake, loser, dm_l, "Confirm")
    for dm in (dm_w, dm_l):
        await fake.wait_until(lambda m=dm: "I won" in labels(m), WITHIN, "the report buttons")
    await press(fake, winner, dm_w, "I won")
    await press(fake, loser, dm_l, "I lost")
    for dm in (dm_w, dm_l):
        await wait_text(fake, dm, "Match finished", within=WITHIN)


async def test_the_leader_killed_mid_wave_loses_no_queue_entry_and_pairs_nobody_twice(
    fake_discord: FakeDiscord, bot_process: BotFactory, postgres_server: PostgresServer, tmp_path
) -> None:
    """The leader's wave has read the queue (six players) and is inserting its matches when
    it is SIGKILLed. Its transaction never commits; the follower's waves are fenced off until
    the dead one's transaction is gone, then pair all six, once; each match rates once."""
    url = await postgres_databases(postgres_server).new_url()
    env = {"DATABASE_URL": url, "DATA_DIR": str(ladder_data_dir(tmp_path))}  # waves every 0.3 s
    first, second = bot_process(env=sharded(env, 0)), bot_process(env=sharded(env, 1))
    await first.start()
    await wait_leader(fake_discord, url, first)
    await second.start()  # receives the interactions from now on; follows
    users = await onboard(fake_discord, *PLAYERS)

    # Everyone queues while the test holds the wave lock: the leader's waves skip meanwhile.
    hold_wave, hold_matches = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        await hold_wave.execute("BEGIN")
        await hold_wave.execute("SELECT pg_advisory_xact_lock($1)", WAVE_LOCK_KEY)
        for n, user in enumerate(users):
            await join_queue(fake_discord, user, (RACES[n % 2],))
        await fake_discord.wait_until(
            lambda: FENCED_OFF in first.log_text(), WITHIN, "a skipped wave", poll=0.05
        )
        # Then the matches table is locked and the wave lock let go: the leader's next wave
        # takes the wave lock, reads all six, and waits at its INSERT INTO matches.
        await hold_matches.execute("BEGIN; LOCK TABLE matches IN EXCLUSIVE MODE")
        await hold_wave.execute("COMMIT")
        ((pid, query),) = await until_server(
            lambda: rows(url, blocked_wave_sql()), bool, "wave waiting at its insert"
        )
        assert "INSERT INTO matches" in query, query
        await first._kill()  # SIGKILL in the middle of the wave's transaction
        queued = await rows(url, "SELECT discord_uid FROM queue_entries")
        assert {r["discord_uid"] for r in queued} == {u.id for u in users}

        # The follower leads, but the dead wave still holds the wave lock: it pairs nobody.
        await wait_leader(fake_discord, url, second)
        mark = len(second.log_text())
        await fake_discord.wait_until(
            lambda: FENCED_OFF in second.log_text()[mark:], WITHIN, "a fenced wave", poll=0.05
        )
        assert await rows(url, "SELECT id FROM matches") == []
        await hold_matches.execute("ROLLBACK")  # the dead wave's INSERT runs; it never commits
    finally:
        await hold_wave.close()
        await hold_matches.close()

    # The follower's waves pair all six, each once.
    for user in users:
        await fake_discord.wait_until(
            lambda u=user: any("Match #" in m.text for m in fake_discord.dms(u)),
            WITHIN, f"{user.username}'s match DM",
        )  # fmt: skip
    matches = await rows(url, "SELECT id, player1_uid, player2_uid FROM matches ORDER BY id")
    players = [uid for m in matches for uid in (m["player1_uid"], m["player2_uid"])]
    assert sorted(players) == sorted(u.id for u in users)  # no one twice, no one lost
    assert await rows(url, "SELECT discord_uid FROM queue_entries") == []
    assert await rows(url, f"SELECT 1 FROM pg_stat_activity WHERE pid = {pid}") == []
    for user in users:
        assert len([m for m in fake_discord.dms(user) if "Match #" in m.text]) == 1

    # Each match is played and reported: one rating change per match, one game per player.
    by_id = {u.id: u for u in users}
    for m in matches:
        await play(fake_discord, m["id"], by_id[m["player1_uid"]], by_id[m["player2_uid"]])
    logged = await rows(url, "SELECT match_id, count(*) AS n FROM rating_log GROUP BY match_id")
    assert {r["match_id"]: r["n"] for r in logged} == {m["id"]: 1 for m in matches}
    ratings = await rows(url, "SELECT discord_uid, games, mmr FROM ratings")
    assert sorted((r["discord_uid"], r["games"]) for r in ratings) == sorted(
        (u.id, 1) for u in users
    )
    winners = {m["player1_uid"] for m in matches}
    assert {r["discord_uid"]: r["mmr"] for r in ratings} == {
        u.id: 1520 if u.id in winners else 1480 for u in users
    }


# --- only the leader does the once-only work --------------------------------------------------

# What each piece of once-only work logs, in the process that does it.
LEADER_WORK = {
    "matchmaking wave": "Wave: 1 match(es) created",
    "confirmation deadline": ": Cancelled",  # "Match 1: Cancelled", a no-show's timeout
    "queue notifications": "Queue notifications: 1 decided",
    "queue board": "Queue board ",  # "... sent as message" or "... edited"
}
# What a follower would log if its once-only loops ran all the same (the fence refusing).
FOLLOWER_WAVE = "no longer holds the leader lock"


async def in_log(fake: FakeDiscord, bot: BotProcess, needle: str, since: int = 0) -> None:
    await fake.wait_until(
        lambda: needle in bot.log_text()[since:], WITHIN, f"{bot.name} to log {needle!r}", poll=0.05
    )


async def test_only_the_leader_runs_waves_deadlines_notifications_and_the_board(
    fake_discord: FakeDiscord, bot_process: BotFactory, postgres_server: PostgresServer, tmp_path
) -> None:
    """The follower receives every interaction, yet the waves, the confirmation deadlines, the
    queue notifications and the queue board are the leader's alone; once the leader is
    SIGKILLed, the follower does each of them."""
    url = await postgres_databases(postgres_server).new_url()
    channel = fake_discord.guild(channels=("general", "queue")).channel("queue")
    data = ladder_data_dir(
        tmp_path, confirmation_window_seconds=2, wait_seconds=1, edit_interval_seconds=0.3
    )
    env = {"DATABASE_URL": url, "DATA_DIR": str(data), "QUEUE_CHANNEL_ID": str(channel.id)}
    first, second = bot_process(env=sharded(env, 0)), bot_process(env=sharded(env, 1))
    await first.start()
    await wait_leader(fake_discord, url, first)
    await second.start()  # receives the interactions from now on; follows
    alice, bob, carol, dave, erin, frank, gina = await onboard(
        fake_discord, "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Gina"
    )
    assert "**on**" in (await command_reply(fake_discord, carol, "notify", {"enabled": "on"})).text

    # Alice and Bob are paired and never confirm: their match times out. Dave waits alone:
    # Carol hears of him. The board shows him.
    await join_queue(fake_discord, alice, ("bw_terran",))
    await join_queue(fake_discord, bob, ("bw_zerg",))
    dm = await match_dm(fake_discord, alice, 1, within=WITHIN)
    await join_queue(fake_discord, dave, ("bw_protoss",))
    assert (await fake_discord.next_dm(carol, within=WITHIN)).text.startswith("Someone is")
    await wait_text(fake_discord, dm, "Cancelled", within=WITHIN)
    await fake_discord.wait_until(
        lambda: any("1 queueing" in m.text for m in fake_discord.channel_messages(channel)),
        WITHIN, "the board to show Dave",
    )  # fmt: skip
    for work, needle in LEADER_WORK.items():
        await in_log(fake_discord, first, needle)  # the leader did it ...
        assert needle not in second.log_text(), f"the follower did the {work} too"  # ... alone
    assert FOLLOWER_WAVE not in second.log_text()  # its loops never even tried
    # ... though the follower answered the commands (the local Discord sends it everything).
    assert "[slash.queue]" in second.log_text() and "[slash.queue]" not in first.log_text()

    # The leader dies: the follower takes over every piece of it.
    await first._kill()
    mark = len(second.log_text())
    await wait_leader(fake_discord, url, second)
    await join_queue(fake_discord, erin, ("bw_terran",))  # with Dave: match 2, never confirmed
    dm = await match_dm(fake_discord, erin, 2, within=WITHIN)
    await wait_text(fake_discord, dm, "Cancelled", within=WITHIN)
    await command_reply(fake_discord, gina, "notify", {"enabled": "on"})
    await join_queue(fake_discord, frank, ("bw_zerg",))  # waits alone: Gina hears of him
    assert (await fake_discord.next_dm(gina, within=WITHIN)).text.startswith("Someone is")
    for needle in LEADER_WORK.values():
        await in_log(fake_discord, second, needle, since=mark)
