"""The leader election on a real PostgreSQL: two `Leadership`s stand for two bot processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from storage.leader import Leadership, SoleLeader
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer

RETRY = 0.2  # seconds between tries in these tests (the bot's default is 2)
WITHIN = 10.0  # an upper bound for anything asked to happen "within the retry interval"


class Process:
    """One bot process's part in the election: what its callbacks saw."""

    def __init__(self, name: str, url: str, retry: float = RETRY) -> None:
        self.name = name
        self.events: list[str] = []
        self.leadership = Leadership(
            url, self.elected, self.deposed, retry_seconds=retry, on_check=self.checked
        )
        self.checks = 0
        self.checked_thrice = asyncio.Event()

    def elected(self) -> None:
        self.events.append("elected")

    async def deposed(self) -> None:
        self.events.append("deposed")

    def checked(self) -> None:
        self.checks += 1
        if self.checks >= 3:
            self.checked_thrice.set()


@pytest.fixture
async def url(postgres_server: PostgresServer) -> str:
    return await postgres_databases(postgres_server).new_url()


@pytest.fixture
async def admin(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[Process, Process]]:
    a, b = Process("a", url), Process("b", url)
    try:
        yield a, b
    finally:
        await a.leadership.close()
        await b.leadership.close()


async def first_leader(*processes: Process) -> Process:
    """Wait until one of `processes` leads; return it."""
    waits = {asyncio.ensure_future(p.leadership.elected.wait()): p for p in processes}
    done, pending = await asyncio.wait(waits, timeout=WITHIN, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "nobody became the leader"
    return waits[next(iter(done))]


async def test_exactly_one_of_two_processes_leads(two: tuple[Process, Process]) -> None:
    a, b = two
    await a.leadership.start()
    await b.leadership.start()
    leader = await first_leader(a, b)
    other = b if leader is a else a
    # The other one has tried (and failed) several times by the time the leader checks 3 times.
    await asyncio.wait_for(leader.checked_thrice.wait(), WITHIN)
    assert leader.events == ["elected"]
    assert other.events == []
    assert not other.leadership.is_leader


async def test_the_other_takes_over_within_the_retry_interval_when_the_leaders_session_ends(
    url: str, admin: asyncpg.Connection
) -> None:
    # The leader checks its connection only every 30 s: stopping sooner proves it heard the
    # connection close.
    a, b = Process("a", url, retry=30.0), Process("b", url)
    try:
        await _takeover(a, b, admin)
    finally:
        await a.leadership.close()
        await b.leadership.close()


async def _takeover(a: Process, b: Process, admin: asyncpg.Connection) -> None:
    await a.leadership.start()
    await a.leadership.elected.wait()
    await b.leadership.start()
    pid = a.leadership.lock_connection_pid()
    assert pid is not None
    # The leader's session ends (as when its process is killed): the server frees the lock.
    cut = time.monotonic()
    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.wait_for(a.leadership.deposed.wait(), WITHIN)
    deposed_after = time.monotonic() - cut
    await asyncio.wait_for(b.leadership.elected.wait(), WITHIN)
    took_over_after = time.monotonic() - cut
    assert a.events == ["elected", "deposed"]
    assert b.events == ["elected"]
    # The old leader stops at once (its socket closes), long before a check would notice.
    assert deposed_after < 1.0, deposed_after
    # The other one's next try (within one retry interval) finds the lock free; slack for
    # the shared machine.
    assert took_over_after < RETRY * 2 + 1.0, took_over_after


async def test_a_leader_that_lost_its_connection_tries_again_and_follows(
    two: tuple[Process, Process], admin: asyncpg.Connection
) -> None:
    a, b = two
    await a.leadership.start()
    await a.leadership.elected.wait()
    await b.leadership.start()
    await admin.execute("SELECT pg_terminate_backend($1)", a.leadership.lock_connection_pid())
    await asyncio.wait_for(b.leadership.elected.wait(), WITHIN)
    # a notices (its `elected` stays set until then: on a busy machine the test once read the
    # first term's), reconnects and tries again as a follower; when b stops, a leads again (a
    # second term).
    await asyncio.wait_for(a.leadership.deposed.wait(), WITHIN)
    await b.leadership.close()
    assert b.events == ["elected", "deposed"]
    await asyncio.wait_for(a.leadership.elected.wait(), WITHIN)
    assert a.events == ["elected", "deposed", "elected"]
    assert a.leadership.terms == 2


async def test_the_lock_is_held_on_a_connection_of_its_own_named_after_the_process(
    two: tuple[Process, Process], admin: asyncpg.Connection
) -> None:
    a, _ = two
    await a.leadership.start()
    await a.leadership.elected.wait()
    holders = await admin.fetch(
        "SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1"
        " AND a.datname = current_database()",  # the server is shared with other workers
        a.leadership.key,
    )
    assert [r["pid"] for r in holders] == [a.leadership.lock_connection_pid()]
    assert holders[0]["application_name"].startswith("ladderbot leader ")
    await a.leadership.close()
    assert await admin.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND database"
        " = (SELECT oid FROM pg_database WHERE datname = current_database())",
        a.leadership.key,
    ) == 0


async def test_on_sqlite_the_only_process_leads_from_start_to_stop() -> None:
    events: list[str] = []

    async def deposed() -> None:
        events.append("deposed")

    sole = SoleLeader(lambda: events.append("elected"), deposed)
    await sole.start()
    assert events == ["elected"] and sole.is_leader
    await sole.close()
    await sole.close()
    assert events == ["elected", "deposed"]
