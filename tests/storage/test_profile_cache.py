"""A player's /profile numbers are kept between their changes (SQLite), never past one.

Every write below is plain SQL in a transaction on the writer: the triggers follow the tables,
whatever code path writes them (the services' own paths: tests/services/test_profile_cache.py).
Each test compares the kept profile with a fresh read by a repository that keeps nothing.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ladder.records import Profile
from storage.database import Database
from storage.leaderboard import LeaderboardRepository, next_month
from tests.storage.ladder_rows import (
    MATCH_SQL,
    MORPH,
    NEO,
    NOW,
    SMITH,
    TRIN,
    add_matches,
    add_players,
    add_ratings,
    execute,
    match,
)

EVERYONE = (NEO, TRIN, MORPH, SMITH)


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    await add_players(database)
    await add_matches(database)
    await add_ratings(database)
    await execute(database, "INSERT INTO aborts VALUES (?, '2025-03', 1)", [(NEO,)])
    yield database
    await database.close()


@pytest.fixture
async def kept(db) -> LeaderboardRepository:
    repo = LeaderboardRepository(db, aborts_per_month=3)
    await repo.follow_changes()
    return repo


@pytest.fixture
def fresh(db) -> LeaderboardRepository:
    return LeaderboardRepository(db, aborts_per_month=3)  # never follows: keeps nothing


async def profiles(repo: LeaderboardRepository, now: datetime = NOW) -> dict[int, Profile]:
    return {uid: await repo.profile(uid, now) for uid in EVERYONE}


async def warm(kept: LeaderboardRepository, now: datetime = NOW) -> None:
    await profiles(kept, now)
    assert len(kept.cache._entries) == len(EVERYONE)


def kept_uids(kept: LeaderboardRepository) -> set[int]:
    return set(kept.cache._entries)


async def test_a_second_profile_reads_nothing(db, kept, fresh) -> None:
    first = await kept.profile(NEO, NOW)
    statements: list[str] = []
    await db.reader.set_trace_callback(statements.append)
    try:
        again = await kept.profile(NEO, NOW + timedelta(hours=1))
    finally:
        await db.reader.set_trace_callback(None)
    assert again is first
    assert statements == []
    assert (kept.cache.hits, kept.cache.misses) == (1, 1)
    assert again == await fresh.profile(NEO, NOW + timedelta(hours=1))


async def test_without_following_nothing_is_kept(db, fresh) -> None:
    await fresh.profile(NEO, NOW)
    await fresh.profile(NEO, NOW)
    assert (fresh.cache.enabled, len(fresh.cache._entries)) == (False, 0)


@pytest.mark.parametrize(
    ("sql", "params", "dropped"),
    [
        pytest.param(
            MATCH_SQL,
            match(20, "finished", NEO, "bw_zerg", 1500, TRIN, "bw_terran", 1500, "p1_win", 5, 0),
            {NEO, TRIN},
            id="a finished match is added",
        ),
        pytest.param(
            MATCH_SQL,
            match(20, "in_progress", NEO, "bw_zerg", 1500, TRIN, "bw_terran", 1500, None, None, 0),
            set(),
            id="an open match is made",
        ),
        pytest.param(
            "UPDATE matches SET status = 'invalidated' WHERE id = ?",
            (3,),
            {NEO, MORPH},
            id="a finished match is invalidated",
        ),
        pytest.param(
            "UPDATE matches SET result = 'p2_win', mmr_change = -20 WHERE id = ?",
            (10,),
            {TRIN, MORPH},
            id="a ruling changes a result",
        ),
        pytest.param(
            "UPDATE matches SET status = 'finished', result = 'draw', mmr_change = 0 WHERE id = ?",
            (9,),
            {NEO, MORPH},
            id="an invalidated match is ruled a draw",
        ),
        pytest.param(
            "UPDATE matches SET map = 'Vermeer' WHERE id = ?",
            (7,),
            set(),
            id="an aborted match changes",
        ),
        pytest.param(
            "UPDATE ratings SET mmr = mmr + 10 WHERE discord_uid = ? AND race = 'bw_zerg'",
            (SMITH,),
            {SMITH},
            id="a rating is adjusted",
        ),
        pytest.param(
            "INSERT INTO aborts (discord_uid, month, used) VALUES (?, '2025-03', 1)",
            (TRIN,),
            {TRIN},
            id="an abort is spent",
        ),
        pytest.param(
            "UPDATE aborts SET used = used + 1 WHERE discord_uid = ?",
            (NEO,),
            {NEO},
            id="another abort is spent",
        ),
        pytest.param(
            "UPDATE players SET player_name = 'Thomas' WHERE discord_uid = ?",
            (NEO,),
            set(EVERYONE),
            id="a player is renamed",
        ),
        pytest.param(
            "UPDATE players SET country = 'SE', player_name = player_name WHERE discord_uid = ?",
            (NEO,),
            set(),
            id="a player's country changes",
        ),
    ],
)
async def test_a_write_drops_the_profiles_it_changes_and_no_other(
    db, kept, fresh, sql, params, dropped
) -> None:
    await warm(kept)
    await execute(db, sql, [params])
    assert kept_uids(kept) == set(EVERYONE) - dropped
    assert await profiles(kept) == await profiles(fresh)


async def test_a_rolled_back_write_drops_nothing(db, kept) -> None:
    await warm(kept)
    generation = kept.cache.generation
    with pytest.raises(ZeroDivisionError):
        async with db.transaction() as conn:
            await conn.execute("UPDATE ratings SET mmr = 1 WHERE discord_uid = ?", (NEO,))
            raise ZeroDivisionError
    assert (kept_uids(kept), kept.cache.generation) == (set(EVERYONE), generation)
    # ... and the next commit names only what it changed.
    await execute(db, "UPDATE ratings SET mmr = 2 WHERE discord_uid = ?", [(TRIN,)])
    assert kept_uids(kept) == set(EVERYONE) - {TRIN}


async def test_a_read_that_began_before_a_write_is_not_kept(db, kept, fresh) -> None:
    # The read takes its three queries; the write commits between two of them.
    reading = asyncio.Event()
    written = asyncio.Event()
    real_ratings = kept.ratings

    async def ratings_then_wait(uid):
        rows = await real_ratings(uid)
        reading.set()
        await written.wait()
        return rows

    kept.ratings = ratings_then_wait  # type: ignore[method-assign]
    read = asyncio.create_task(kept.profile(NEO, NOW))
    await reading.wait()
    await execute(db, "UPDATE ratings SET mmr = 1234 WHERE discord_uid = ?", [(NEO,)])
    written.set()
    stale = await read
    assert {r.mmr for r in stale.ratings} != {1234}  # it read before the write...
    assert NEO not in kept_uids(kept)  # ... so it was not kept
    kept.ratings = real_ratings  # type: ignore[method-assign]
    assert await kept.profile(NEO, NOW) == await fresh.profile(NEO, NOW)


async def test_the_clock_moves_matches_out_of_their_windows(db, kept, fresh) -> None:
    # Neo's matches ended 1, 5, 10, 20, 40 and 100 days before NOW: each window changes when
    # its oldest match leaves it, to the millisecond.
    await warm(kept)
    for days in (4, 10, 16, 29, 50, 70, 89, 95):
        later = NOW + timedelta(days=days)
        for moment in (later - timedelta(milliseconds=1), later, later + timedelta(hours=7)):
            assert await kept.profile(NEO, moment) == await fresh.profile(NEO, moment), moment
    # Neo's 14-day window holds the match of 10 days ago: it leaves 4 days after NOW.
    edge = NOW + timedelta(days=4)
    kept.cache.changed([None])
    before = await kept.profile(NEO, edge)
    assert dict(before.windows)[14] == dict((await fresh.profile(NEO, edge)).windows)[14]
    after = await kept.profile(NEO, edge + timedelta(milliseconds=1))
    assert after != before
    assert after == await fresh.profile(NEO, edge + timedelta(milliseconds=1))


async def test_the_aborts_of_a_new_month(db, kept, fresh) -> None:
    await execute(
        db,
        "INSERT INTO aborts (discord_uid, month, used) VALUES (?, ?, ?)",
        [(SMITH, "2025-03", 2), (SMITH, "2025-04", 1)],
    )
    assert (await kept.profile(SMITH, NOW)).aborts.used == 2
    april = next_month(NOW)
    assert april == datetime(2025, 4, 1, tzinfo=UTC)
    assert (await kept.profile(SMITH, april - timedelta(microseconds=1))).aborts.used == 2
    assert (await kept.profile(SMITH, april)).aborts.used == 1
    new_year = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_month(new_year - timedelta(minutes=1)) == new_year
    assert await profiles(kept, april) == await profiles(fresh, april)


async def test_a_write_cancelled_during_its_commit_still_drops(
    db, kept, fresh, monkeypatch
) -> None:
    # aiosqlite runs COMMIT on its thread: cancelling the await does not stop it. Hold the
    # thread in a statement so that the COMMIT is queued behind it, then cancel the writer.
    await warm(kept)
    holding, committing, release = asyncio.Event(), asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()
    queue_commit = db.conn.commit

    async def commit() -> None:
        committing.set()  # the COMMIT is queued before this task next yields
        await queue_commit()

    monkeypatch.setattr(db.conn, "commit", commit)

    def hold() -> int:
        loop.call_soon_threadsafe(holding.set)
        release.wait(10)
        return 1

    await db.conn.create_function("test_hold", 0, hold)

    async def write() -> None:
        async with db.transaction() as conn:
            await conn.execute("UPDATE ratings SET mmr = 9999 WHERE discord_uid = ?", (NEO,))
            held = asyncio.ensure_future(conn.execute("SELECT test_hold()"))
            await holding.wait()  # the thread is held; the COMMIT queues behind it
        await held

    writer = asyncio.create_task(write())
    await committing.wait()  # the writer now waits on its COMMIT, queued behind test_hold()
    assert holding.is_set()
    writer.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await writer
    assert not db.conn.in_transaction
    assert {r.mmr for r in (await fresh.profile(NEO, NOW)).ratings} == {9999}  # committed
    assert NEO not in kept_uids(kept)
    assert await kept.profile(NEO, NOW) == await fresh.profile(NEO, NOW)


async def test_a_clock_stepped_back_reads_again(kept, fresh) -> None:
    later = NOW + timedelta(days=30)
    await kept.profile(NEO, later)
    assert await kept.profile(NEO, NOW) == await fresh.profile(NEO, NOW)
    assert kept.cache.hits == 0


async def test_a_failing_listener_leaves_the_write_committed(db, caplog) -> None:
    def broken(_uids: frozenset[int | None]) -> None:
        raise RuntimeError("listener bug")

    await db.follow_player_changes((), broken)  # told before the next one
    after = LeaderboardRepository(db, aborts_per_month=3)
    await after.follow_changes()
    await warm(after)
    await execute(db, "UPDATE ratings SET mmr = 1 WHERE discord_uid = ?", [(TRIN,)])
    assert TRIN not in kept_uids(after)
    assert "A listener of committed player changes failed" in caplog.text
