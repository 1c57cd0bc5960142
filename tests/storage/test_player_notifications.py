"""Player cache across processes: two PostgresDatabase instances on one database stand for two
bot processes; a player write through one clears the other's cache entry (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import asyncpg
import pytest

from cache.players import PlayerCache
from ladder.errors import NotFoundError
from ladder.players import Player
from services.elsewhere import ChangesElsewhere
from services.players import PlayerChanges, PlayerService
from storage.players import PLAYERS_CHANNEL, PlayerRepository
from storage.postgres import Listener, PostgresDatabase
from storage.queue import QueueRepository
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer

WITHIN = 10.0
UID = 4242


@dataclass
class Process:
    db: PostgresDatabase
    players: PlayerRepository
    listener: Listener
    heard: asyncio.Queue[str]
    resets: asyncio.Queue[None]
    published: asyncio.Queue[Player]
    elsewhere: ChangesElsewhere


async def process(url: str) -> Process:
    db = await PostgresDatabase.open(url)
    players = PlayerRepository(db, PlayerCache())
    changes = PlayerChanges()
    published: asyncio.Queue[Player] = asyncio.Queue()
    changes.subscribe(published.put_nowait)
    service = PlayerService(db, players, QueueRepository(), changes)

    async def refresh_players(uids: Iterable[int]) -> None:  # no standings here
        return None

    elsewhere = ChangesElsewhere(db, service, lambda rows: None, refresh_players)
    heard: asyncio.Queue[str] = asyncio.Queue()

    def on_message(payload: str) -> None:
        elsewhere.player_changed(payload)
        heard.put_nowait(payload)

    resets: asyncio.Queue[None] = asyncio.Queue()

    def on_reset() -> None:
        elsewhere.missed()
        resets.put_nowait(None)

    listener = db.listener({PLAYERS_CHANNEL: on_message}, on_reset, retry_seconds=0.2)
    elsewhere.start()
    await listener.start()
    assert listener.listening.is_set()
    await resets.get()  # the first LISTEN clears what was cached before it
    return Process(db, players, listener, heard, resets, published, elsewhere)


@pytest.fixture
async def two(postgres_server: PostgresServer) -> AsyncIterator[tuple[Process, Process]]:
    url = await postgres_databases(postgres_server).new_url()
    a, b = await process(url), await process(url)
    try:
        yield a, b
    finally:
        for p in (a, b):
            await p.listener.close()
            await p.elsewhere.close()
            await p.db.close()


def not_stale(cached: object, country: str) -> bool:
    """A cache entry after another process's write: none, or the new record."""
    return cached is None or (isinstance(cached, Player) and cached.country == country)


async def heard(p: Process, uid: int) -> None:
    """Wait for the notification of `uid` (skipping earlier ones)."""
    async with asyncio.timeout(WITHIN):
        while await p.heard.get() != str(uid):
            pass


async def test_a_write_in_one_process_clears_the_others_cache_entry(
    two: tuple[Process, Process],
) -> None:
    a, b = two
    await a.players.record_terms(UID, "alice", True)
    await heard(b, UID)
    before = await b.players.get(UID)  # b reads and caches the record
    assert before is not None and before.country is None
    assert b.players.cache.get(UID) == before
    await a.players.set_country(UID, "DE")
    await heard(b, UID)
    # The stale entry is gone: dropped, or already replaced by the record b reads again to
    # publish it (that read runs in the background and may have filled the cache by now).
    assert not_stale(b.players.cache.get(UID), "DE")
    after = await b.players.get(UID)
    assert after is not None and after.country == "DE"
    # And b's standings hear of it: the record read again, published to PlayerChanges.
    async with asyncio.timeout(WITHIN):
        while (await b.published.get()).country != "DE":
            pass


async def test_a_write_that_rolls_back_notifies_nobody(two: tuple[Process, Process]) -> None:
    a, b = two
    with pytest.raises(NotFoundError):  # no such player: the transaction rolls back
        await a.players.set_country(UID + 1, "DE")
    await a.players.record_terms(UID, "alice", True)  # a later write that commits
    assert await asyncio.wait_for(b.heard.get(), WITHIN) == str(UID)
    assert b.heard.empty()


async def test_a_lost_listening_connection_clears_the_cache_and_listens_again(
    two: tuple[Process, Process], postgres_server: PostgresServer
) -> None:
    a, b = two
    await a.players.record_terms(UID, "alice", True)
    await heard(b, UID)
    await b.players.get(UID)
    assert b.players.cache.stats().size == 1
    pid = b.listener.connection_pid()
    admin = await asyncpg.connect(postgres_server.url())
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    # Cleared at once when the connection drops, and again when LISTEN is back in force.
    async with asyncio.timeout(WITHIN):
        await b.resets.get()  # the drop
        await b.resets.get()  # LISTEN in force again
    assert b.listener.listening.is_set()
    assert b.players.cache.stats().size == 0
    assert b.listener.connection_pid() != pid
    await b.players.get(UID)
    await a.players.set_country(UID, "SE")
    await heard(b, UID)
    assert not_stale(b.players.cache.get(UID), "SE")
