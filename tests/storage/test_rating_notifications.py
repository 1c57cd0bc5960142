"""Ratings across processes: two LadderProcesses on one PostgreSQL stand for two bot processes.
A match rated in one reaches the other's in-memory standings (the leaderboard, ranks) through
NOTIFY ladder_ratings (migration 0014's trigger); after a lost LISTEN, the other reads all
ratings and players again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from storage.database import format_time
from storage.ratings import RATINGS_CHANNEL, ratings_payload_keys
from tests.support.backends import postgres_databases
from tests.support.postgres import PostgresServer
from tests.support.processes import LadderProcess

A1, A2, B1 = 101, 102, 201


@pytest.fixture
async def url(postgres_server: PostgresServer) -> str:
    return await postgres_databases(postgres_server).new_url()


@pytest.fixture
async def two(url: str) -> AsyncIterator[tuple[LadderProcess, LadderProcess]]:
    a = await LadderProcess.open(url)
    b = await LadderProcess.open(url, listen_retry=3.0)  # a lost LISTEN stays lost 3 s
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def test_a_payload_names_keys_or_everything() -> None:
    assert ratings_payload_keys('[[1, "bw_zerg"], [18446744073709551615, "sc2_terran"]]') == [
        (1, "bw_zerg"),
        (18446744073709551615, "sc2_terran"),
    ]
    assert ratings_payload_keys("*") is None


async def test_a_match_rated_in_one_process_reaches_the_others_standings(
    two: tuple[LadderProcess, LadderProcess],
) -> None:
    a, b = two
    await a.add_players(A1, A2)
    await a.play(A1, A2, winner=A1)
    winner_mmr, loser_mmr = a.mmr(A1), a.mmr(A2)
    assert winner_mmr is not None and loser_mmr is not None and winner_mmr > loser_mmr
    # b made no write: only the notification can tell it.
    await b.until(lambda: b.mmr(A1) == winner_mmr and b.mmr(A2) == loser_mmr, "b's standings")
    assert b.shown()[(A1, "bw_terran")].wins == 1 and b.shown()[(A2, "bw_terran")].losses == 1
    assert b.standings.rank(A1, "bw_terran", datetime.now(UTC)) is not None  # ranked there too
    # The keys came in the rating write's own notification, with their keys.
    keys = {
        tuple(key)
        for channel, payload in b.heard
        if channel == RATINGS_CHANNEL
        for key in json.loads(payload)
    }
    assert {(A1, "bw_terran"), (A2, "bw_terran")} <= keys
    # And the names, through ladder_players: b's leaderboard shows who they are.
    await b.until(lambda: b.shown()[(A1, "bw_terran")].name == f"user{A1}", "the winner's name")


async def test_an_admin_adjustment_in_one_process_reaches_the_other(
    two: tuple[LadderProcess, LadderProcess],
) -> None:
    a, b = two
    await a.add_players(A1, A2)
    await a.play(A1, A2, winner=A1)
    await b.until(lambda: b.mmr(A2) == a.mmr(A2), "the match")
    await a.admin.adjust_mmr(1, A2, "bw_terran", "set", 1777, "a correction")
    assert a.mmr(A2) == 1777
    await b.until(lambda: b.mmr(A2) == 1777, "the adjustment")


async def test_a_write_of_many_ratings_makes_every_process_read_them_all(
    two: tuple[LadderProcess, LadderProcess],
) -> None:
    a, b = two
    uids = range(1000, 1150)  # more than one payload names: it says '*'
    async with a.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (?, ?, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')",
            [(uid, f"bulk{uid}") for uid in uids],
        )
        await conn.executemany(
            "INSERT INTO ratings (discord_uid, race, mmr, games, wins, last_played_at)"
            " VALUES (?, 'bw_zerg', 1500, 1, 1, ?)",  # played: ranked, so shown
            [(uid, format_time(datetime.now(UTC))) for uid in uids],
        )
    async with a.db.transaction() as conn:  # one statement, 150 rows: as a season start does
        await conn.execute("UPDATE ratings SET mmr = mmr + discord_uid - 1000")
    await b.until(
        lambda: all(b.mmr(uid, "bw_zerg") == 1500 + uid - 1000 for uid in uids), "all 150"
    )
    assert (RATINGS_CHANNEL, "*") in b.heard


async def test_a_rolled_back_rating_write_notifies_nobody(
    two: tuple[LadderProcess, LadderProcess],
) -> None:
    a, b = two
    await a.add_players(A1)
    with pytest.raises(RuntimeError):
        async with a.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO ratings (discord_uid, race, mmr) VALUES (?, 'bw_zerg', 1600)", (A1,)
            )
            raise RuntimeError("changed my mind")
    await a.queue.join_queue(A1, ["bw_terran"], [])  # a later write that commits
    await b.until(lambda: any(ch == RATINGS_CHANNEL for ch, _ in b.heard), "the later write")
    assert [p for ch, p in b.heard if ch == RATINGS_CHANNEL] == [f'[[{A1}, "bw_terran"]]']


async def test_after_a_lost_listen_everything_missed_is_read_again(
    two: tuple[LadderProcess, LadderProcess], postgres_server: PostgresServer, url: str
) -> None:
    a, b = two
    await a.add_players(A1, A2, B1)
    await a.play(A1, A2, winner=A1)
    await b.until(lambda: b.mmr(A1) == a.mmr(A1), "the first match")
    reloads = b.elsewhere.reloads
    admin = await asyncpg.connect(url)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", b.listener.connection_pid())
    finally:
        await admin.close()
    await b.until(lambda: not b.listener.listening.is_set(), "b to notice the lost connection")
    heard_before = len(b.heard)
    # While b does not listen (3 s): a match is rated and a player changes country.
    await a.play(A2, A1, winner=A2)
    await a.players.set_country(A2, "DE")
    assert not b.listener.listening.is_set(), "b listened again too soon: the test proves nothing"
    assert len(b.heard) == heard_before  # b heard none of it
    assert b.mmr(A2) != a.mmr(A2)
    # LISTEN again: b reads every rating and every rated player's fields again.
    await b.until(lambda: b.listener.listening.is_set(), "b to listen again")
    await b.until(lambda: b.elsewhere.reloads >= reloads + 2, "the reload after listening again")
    await b.until(lambda: b.elsewhere.idle.is_set(), "b to finish reading")
    assert b.mmr(A1) == a.mmr(A1) and b.mmr(A2) == a.mmr(A2)
    assert b.shown()[(A2, "bw_terran")].country == "DE"
    assert b.shown() == a.shown()  # the two leaderboards are the same again
