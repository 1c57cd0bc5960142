"""The ladder repositories on a real SQLite file: round trips and the SQL-side rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cache.players import PlayerCache
from ladder.matchmaking import Pairing
from ladder.rating import LoggedAdjustment, LoggedMatch, ReplayStep, Result
from ladder.records import QueuePreferences
from ladder.reports import Confirm, MatchStatus, Outcome, apply_event
from storage.admin import AdminActionRepository, player_target
from storage.database import Database
from storage.matches import AbortRepository, DisputeRepository, MatchRepository
from storage.players import PlayerRepository
from storage.queue import QueueRepository
from storage.ratings import RatingRepository

NOW = datetime(2025, 3, 10, 12, 0, 0, 123000, tzinfo=UTC)
WINDOW = timedelta(minutes=60)


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    players = PlayerRepository(database, PlayerCache())
    for uid in (1, 2, 3):
        await players.record_terms(uid, f"user{uid}", accepted=True)
    yield database
    await database.close()


async def test_queue_round_trip(db):
    repo = QueueRepository()
    prefs = QueuePreferences(("bw_zerg", "sc2_terran"), ("Eclipse",))
    async with db.transaction() as conn:
        await repo.save_preferences(conn, 1, prefs, NOW)
        await repo.add(conn, 1, prefs, NOW)
        await repo.add(conn, 2, QueuePreferences(("bw_zerg",), ()), NOW + timedelta(seconds=1))
        await repo.count_wave(conn, [1])
    assert await repo.preferences(db.conn, 1) == prefs
    assert await repo.preferences(db.conn, 2) is None
    entry = await repo.get(db.conn, 1)
    assert (entry.races, entry.vetoes, entry.joined_at, entry.waves_waited) == (
        prefs.races, prefs.vetoes, NOW, 1,
    )  # fmt: skip
    assert [e.uid for e in await repo.all(db.conn)] == [1, 2]
    async with db.transaction() as conn:
        assert (await repo.remove(conn, 1)).uid == 1
        assert await repo.remove(conn, 1) is None
        assert [e.uid for e in await repo.clear(conn)] == [2]


async def make_match(db, p1=1, p2=2) -> int:
    async with db.transaction() as conn:
        (match_id,) = await MatchRepository().create(
            conn, [Pairing(p1, "bw_zerg", 1500, p2, "bw_zerg", 1510, "Eclipse")], NOW,
            NOW + timedelta(seconds=60),
        )  # fmt: skip
    return match_id


async def test_match_save_stamps_each_step_once(db):
    repo = MatchRepository()
    match_id = await make_match(db)
    view = await repo.get(db.conn, match_id)
    assert view.status is MatchStatus.AWAITING_CONFIRMATION and view.created_at == NOW
    assert (view.player1_mmr, view.player2_mmr, view.map) == (1500, 1510, "Eclipse")

    later = NOW + timedelta(seconds=5)
    state, _ = apply_event(view.state(WINDOW), Confirm(2), later)
    async with db.transaction() as conn:
        await repo.save(conn, view, state, later, finalised=False)
    view = await repo.get(db.conn, match_id)
    assert view.player2_confirmed_at == later and view.player1_confirmed_at is None

    latest = later + timedelta(seconds=5)
    state, _ = apply_event(view.state(WINDOW), Confirm(1), latest)
    async with db.transaction() as conn:
        await repo.save(conn, view, state, latest, finalised=False)
    view = await repo.get(db.conn, match_id)
    assert view.player2_confirmed_at == later  # kept, not restamped
    assert view.started_at == latest and view.report_deadline == latest + WINDOW
    assert view.state(WINDOW) == state
    assert await repo.next_deadline(db.conn) == latest + WINDOW
    assert await repo.due(db.conn, latest + WINDOW - timedelta(milliseconds=1)) == []
    assert await repo.due(db.conn, latest + WINDOW) == [match_id]
    assert await repo.active_uids(db.conn) == {1, 2}


async def test_rating_log_and_recount(db):
    ratings, matches = RatingRepository(), MatchRepository()
    match_id = await make_match(db)
    async with db.transaction() as conn:
        await ratings.ensure(conn, 1, ["bw_zerg"], 1500)
        await ratings.ensure(conn, 2, ["bw_zerg"], 1500)
        await ratings.ensure(conn, 1, ["bw_zerg"], 9999)  # existing rows are kept
        await conn.execute(
            "UPDATE matches SET status = 'finished', result = 'p2_win', ended_at = ? WHERE id = ?",
            ("2025-03-10 12:30:00.000", match_id),
        )
        await ratings.log_match(conn, match_id)
        await matches.set_steps(conn, [ReplayStep(match_id, 1500, 1510, -19)])
        action = await AdminActionRepository().record(
            conn, 9, "adjust_mmr", player_target(3), {"race": "sc2_zerg"}, "test", NOW
        )
        await ratings.log_adjustment(conn, (3, "sc2_zerg"), "add", -20, action)
        await ratings.recount(conn, [(1, "bw_zerg"), (2, "bw_zerg")])
    entries, steps = await ratings.log_from(db.conn)
    assert entries == [
        LoggedMatch(match_id, (1, "bw_zerg"), (2, "bw_zerg"), Result.P2_WIN),
        LoggedAdjustment((3, "sc2_zerg"), "add", -20),
    ]
    assert steps == [ReplayStep(match_id, 1500, 1510, -19)]
    assert await ratings.seq_of(db.conn, match_id) == 1
    r1, r2 = await ratings.rows(db.conn, [(2, "bw_zerg"), (1, "bw_zerg")])
    assert (r1.mmr, r1.games, r1.losses, r1.last_played_at) == (
        1500, 1, 1, datetime(2025, 3, 10, 12, 30, tzinfo=UTC),
    )  # fmt: skip
    assert (r2.games, r2.wins) == (1, 1)


async def test_disputes_aborts_and_admin_log(db):
    match_id = await make_match(db)
    disputes, aborts, admin = DisputeRepository(), AbortRepository(), AdminActionRepository()
    async with db.transaction() as conn:
        await disputes.open(conn, match_id, Outcome.WIN, Outcome.WIN, NOW)
        dispute = await disputes.of_match(conn, match_id)
        await disputes.add_evidence(conn, dispute.id, 1, "note", None, NOW)
        await aborts.spend(conn, 1, "2025-03")
        await aborts.spend(conn, 1, "2025-03")
        await admin.record(conn, 9, "ban", player_target(1), {"b": 1, "a": [2]}, None, NOW)
    (open_one,) = await disputes.open_ones(db.conn)
    assert open_one.player1_report is Outcome.WIN and open_one.evidence[0].note == "note"
    assert await aborts.used(db.conn, 1, "2025-03") == 2
    assert await aborts.used(db.conn, 1, "2025-04") == 0
    async with db.transaction() as conn:
        assert await disputes.rule(conn, match_id, "draw", 9, "why", NOW) is True
        assert await aborts.reset(conn, 1, "2025-03") == 2
    assert await disputes.open_ones(db.conn) == []
    (action,) = await admin.for_target(db.conn, player_target(1))
    assert (action.action, action.details, action.reason) == ("ban", {"a": [2], "b": 1}, None)


async def test_the_open_match_reads_use_the_open_matches_index(db):
    """The deadline task's and the wave's reads look at the open matches (the partial index
    matches_open), not at every match ever played: 14 ms a read on a 51k-match ladder."""
    repo = MatchRepository()
    statements: list[str] = []
    await db.conn.set_trace_callback(statements.append)
    await db.reader.set_trace_callback(statements.append)
    await repo.due(db.reader, NOW)
    await repo.next_deadline(db.reader)
    await repo.open(db.reader)
    async with db.transaction() as conn:
        await repo.active_uids(conn)
    reads = [sql for sql in statements if "FROM matches" in sql]
    assert len(reads) == 4
    for sql in reads:
        plan = [row[3] for row in await db.fetchall(f"EXPLAIN QUERY PLAN {sql}")]
        assert "SEARCH matches USING INDEX matches_open (status=?)" in plan, (sql, plan)
