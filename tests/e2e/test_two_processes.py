"""Two real bot processes on one PostgreSQL and the local Discord: one leads (matchmaking), the
other answers commands; SIGKILL the leader with players waiting and the other takes over.

The local Discord sends every event to the newest gateway session, so the second bot started
receives the interactions; the first one, started alone, becomes the leader.
"""

from __future__ import annotations

import time

import asyncpg

from localdiscord import FakeDiscord
from storage.leader import LEADER_LOCK_KEY
from tests.support.backends import postgres_databases, postgres_server
from tests.support.postgres import PostgresServer

from .flows import join_queue, ladder_data_dir, match_dm, onboard
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
    first, second = bot_process(env=env), bot_process(env=env)
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
    print(f"\nleader SIGKILLed: the other process led after {took_over:.2f} s and matched the"
          f" waiting players after {matched:.2f} s (waves every {WAVE_SECONDS} s)")

    matches = await rows(url, "SELECT id, player1_uid, player2_uid FROM matches ORDER BY id")
    pairs = [{m["player1_uid"], m["player2_uid"]} for m in matches]
    assert pairs == [{alice.id, bob.id}, {carol.id, dave.id}]  # each pair matched exactly once
    assert await rows(url, "SELECT discord_uid FROM queue_entries") == []
    for user, match_id in ((alice, 1), (bob, 1), (carol, 2), (dave, 2)):  # told once, too
        told = [m for m in fake_discord.dms(user) if f"Match #{match_id}" in m.text]
        assert len(told) == 1, (user.username, [m.text for m in told])
