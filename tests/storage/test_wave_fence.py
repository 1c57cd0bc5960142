"""The matchmaking wave's fence on a real PostgreSQL: two LadderProcesses stand for two bot
processes. A wave's transaction goes on only if no other wave holds the wave lock and this
process's lock connection still holds the leader lock, whatever the process believes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.leader import WAVE_LOCK_KEY
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer
from tests.support.processes import WITHIN, LadderProcess

P1, P2, P3, P4 = 11, 12, 13, 14


@pytest.fixture
async def url(postgres_server: PostgresServer) -> str:
    return await postgres_databases(postgres_server).new_url()


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[LadderProcess, LadderProcess]]:
    a = await LadderProcess.open(url)
    b = await LadderProcess.open(url)
    try:
        await a.add_players(P1, P2, P3, P4)
        await (await a.lead()).elected.wait()  # a leads, b follows
        await b.lead()
        yield a, b
    finally:
        await a.close()
        await b.close()


async def matches(url: str) -> list[set[int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT player1_uid, player2_uid FROM matches ORDER BY id")
    finally:
        await conn.close()
    return [{r[0], r[1]} for r in rows]


async def queue_two(p: LadderProcess, x: int, y: int) -> None:
    await p.queue.join_queue(x, ["bw_terran"], [])
    await p.queue.join_queue(y, ["bw_terran"], [])


async def test_two_processes_run_a_wave_at_the_same_moment_one_pairs(
    two: tuple[LadderProcess, LadderProcess], url: str
) -> None:
    a, b = two
    await queue_two(a, P1, P2)
    wave_a, wave_b = await asyncio.gather(a.queue.pair_queue(), b.queue.pair_queue())
    assert len(wave_a.matches) == 1 and wave_b.matches == [] and wave_b.left_queue == []
    assert await matches(url) == [{P1, P2}]


async def test_a_leader_that_lost_its_lock_makes_no_wave_before_it_notices(
    two: tuple[LadderProcess, LadderProcess], url: str
) -> None:
    a, b = two
    assert a.leadership is not None and b.leadership is not None
    await queue_two(a, P1, P2)
    # a's lock connection dies; b takes over. Whether or not a has noticed yet, its fence reads
    # the lock's holder on the server.
    old_pid = a.leadership.lock_connection_pid()
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", old_pid)
    finally:
        await admin.close()
    await asyncio.wait_for(b.leadership.elected.wait(), WITHIN)
    # As if a had not noticed (a cut its socket has not seen yet): it still counts itself the
    # leader, on its old connection.
    a.leadership.is_leader = True
    a.leadership._lock_pid = old_pid
    wave_a, wave_b = await asyncio.gather(a.queue.pair_queue(), b.queue.pair_queue())
    assert wave_a.matches == [] and len(wave_b.matches) == 1
    assert await matches(url) == [{P1, P2}]


async def test_waves_never_overlap(two: tuple[LadderProcess, LadderProcess], url: str) -> None:
    a, _ = two
    await queue_two(a, P1, P2)
    # Another process's wave is under way: its transaction holds the wave lock.
    other = await asyncpg.connect(url)
    try:
        wave = other.transaction()
        await wave.start()
        await other.execute("SELECT pg_advisory_xact_lock($1)", WAVE_LOCK_KEY)
        skipped = await a.queue.pair_queue()  # the leader itself does nothing meanwhile
        assert skipped.matches == [] and await matches(url) == []
        await wave.commit()  # the other wave ends (pairing nobody, here)
    finally:
        await other.close()
    made = await a.queue.pair_queue()  # the next wave sees its result, and pairs
    assert len(made.matches) == 1 and await matches(url) == [{P1, P2}]
    await queue_two(a, P3, P4)
    assert len((await a.queue.pair_queue()).matches) == 1  # the wave lock went with its wave
    assert await matches(url) == [{P1, P2}, {P3, P4}]
