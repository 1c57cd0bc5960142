"""LeaderboardRepository on a real SQLite file: rows written with plain SQL, numbers by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ladder.records import Aborts, ProfileRating, Record
from ladder.standings import LeaderboardFilters
from storage.database import Database
from storage.leaderboard import LeaderboardRepository, month_of
from storage.ratings import RatingRepository
from tests.storage.ladder_rows import (
    MATCH_SQL,
    MORPH,
    NEO,
    NOW,
    TRIN,
    add_matches,
    add_players,
    add_ratings,
    at,
    execute,
    match,
)


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


@pytest.fixture
def repo(db):
    return LeaderboardRepository(db, aborts_per_month=3)


async def test_profile_numbers_equal_a_hand_count(db, repo) -> None:
    await add_players(db)
    await add_matches(db)
    await add_ratings(db)
    await execute(
        db,
        "INSERT INTO aborts (discord_uid, month, used) VALUES (?, ?, ?)",
        [(NEO, "2025-03", 1), (NEO, "2025-02", 3), (TRIN, "2025-03", 5)],
    )
    profile = await repo.profile(NEO, NOW)

    assert profile.ratings == (
        ProfileRating("bw_terran", 1500, 1, Record(0, 0, 1), NOW - timedelta(days=10)),
        ProfileRating("bw_zerg", 1515, 5, Record(3, 2, 0), NOW - timedelta(days=1)),
    )
    # Finished only: W(1) L(5) D(10) W(20) L(40) W(100) days ago.
    assert profile.overall == Record(3, 2, 1)
    assert profile.windows == (
        (14, Record(1, 1, 1)),
        (30, Record(2, 1, 1)),
        (90, Record(2, 2, 1)),
    )
    assert profile.last_played_at == NOW - timedelta(days=1)
    assert profile.aborts == Aborts("2025-03", 1, 3)
    assert profile.aborts.left == 2

    recent = profile.recent
    assert [m.match_id for m in recent] == [6, 5, 4, 3, 2]  # newest first, 5 by default
    six, five, four, three, two = recent
    assert (six.result, six.race, six.opponent_name, six.opponent_race, six.map) == (
        "win",
        "bw_zerg",
        "Trinity",
        "bw_terran",
        "Polypoid",
    )
    assert (six.mmr_before, six.mmr_change) == (1495, 20)  # player 2: -(-20)
    assert (five.result, five.mmr_change, five.opponent_name) == ("loss", -23, "morpheus")
    assert (four.result, four.mmr_change, four.race) == ("draw", 0, "bw_terran")
    assert (three.result, three.mmr_change) == ("win", -20)
    assert (two.result, two.mmr_change, two.mmr_before) == ("loss", -22, 1520)
    assert six.ended_at == NOW - timedelta(days=1)


async def test_window_edges_and_limits(db, repo) -> None:
    await add_players(db)
    await add_matches(db)
    # A match ended exactly 14 days ago counts in the 14-day window.
    await execute(
        db,
        MATCH_SQL,
        [match(11, "finished", NEO, "bw_zerg", 1500, TRIN, "bw_terran", 1500, "p1_win", 20, 14)],
    )
    overall, windows, recent = await repo.matches(NEO, NOW, 2)
    assert overall == Record(4, 2, 1)
    assert dict(windows)[14] == Record(2, 1, 1)
    assert [m.match_id for m in recent] == [6, 5]
    assert len((await repo.matches(NEO, NOW, 50))[2]) == 7
    overall, _, recent = await repo.matches(NEO, NOW, 0)  # totals without any match listed
    assert (overall, recent) == (Record(4, 2, 1), ())


async def test_a_player_without_anything(db, repo) -> None:
    profile = await repo.profile(999, NOW)
    assert profile.ratings == ()
    assert profile.overall == Record()
    assert all(record == Record() for _, record in profile.windows)
    assert profile.last_played_at is None
    assert profile.recent == ()
    assert profile.aborts == Aborts("2025-03", 0, 3)


async def test_aborts_use_the_utc_month_and_never_go_negative(db, repo) -> None:
    await execute(
        db,
        "INSERT INTO aborts (discord_uid, month, used) VALUES (?, ?, ?)",
        [(TRIN, "2025-03", 5), (TRIN, "2025-04", 1)],
    )
    assert (await repo.aborts(TRIN, NOW)).left == 0
    first_of_april = datetime(2025, 4, 1, tzinfo=UTC)
    assert (await repo.aborts(TRIN, first_of_april)).used == 1
    assert month_of(first_of_april - timedelta(microseconds=1)) == "2025-03"


async def test_load_standings_and_refresh(db, repo) -> None:
    await add_players(db)
    await add_ratings(db)
    standings = await repo.load_standings(NOW, races=("bw_terran", "bw_zerg", "sc2_zerg"))
    page = standings.page(LeaderboardFilters(), 1, now=NOW)
    # Smith is banned, Morpheus inactive.
    assert [(e.name, e.race, e.mmr, e.country) for e in page.entries] == [
        ("Neo", "bw_zerg", 1515, "FR"),
        ("Trinity", "bw_terran", 1503, "DE"),
        ("Neo", "bw_terran", 1500, "FR"),
        ("Trinity", "bw_zerg", 1500, "DE"),
    ]
    # A new game for Morpheus, written by the ladder service, then fed in.
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE ratings SET mmr = 1530, games = 4, wins = 2, last_played_at = ?"
            " WHERE discord_uid = ? AND race = 'sc2_zerg'",
            (at(0), MORPH),
        )
        await conn.execute(
            "UPDATE players SET player_name = 'Morpheus', country = 'NL' WHERE discord_uid = ?",
            (MORPH,),
        )
    # As the services do it: the changed rows from the ladder's use case, the player's
    # name and country as a player change (a new name is read once by the leaderboard).
    standings.apply(await RatingRepository().of_player(db.conn, MORPH))
    await repo.refresh_players(standings, [MORPH])
    first = standings.page(LeaderboardFilters(), 1, now=NOW).entries[0]
    assert (first.name, first.mmr, first.wins, first.losses, first.country) == (
        "Morpheus",
        1530,
        2,
        2,
        "NL",
    )


async def test_new_players_get_their_names(db, repo) -> None:
    await add_players(db)
    standings = await repo.load_standings(NOW)  # no ratings yet
    standings.update(TRIN, "bw_zerg", 1520, 1, NOW)  # their first game, fed by the service
    standings.update(999, "bw_zerg", 1480, 1, NOW)  # no such player row: stays unnamed
    assert standings.unnamed() == {TRIN, 999}
    await repo.name_new_players(standings)
    assert standings.unnamed() == {999}
    first = standings.page(LeaderboardFilters(), 1, now=NOW).entries[0]
    assert (first.name, first.country) == ("Trinity", "DE")
    # A ban read back takes the player off the leaderboard.
    async with db.transaction() as conn:
        await conn.execute("UPDATE players SET banned = 1 WHERE discord_uid = ?", (TRIN,))
    await repo.refresh_players(standings, [TRIN])
    assert standings.rank_of(TRIN, "bw_zerg", NOW) is None


async def test_load_standings_reads_in_batches(db, repo, monkeypatch) -> None:
    import storage.leaderboard as module

    monkeypatch.setattr(module, "LOAD_BATCH", 2)
    await add_players(db)
    await add_ratings(db)
    standings = await repo.load_standings(NOW)
    assert len(standings) == 6
    assert standings.ranked_count(NOW) == 4


async def test_profiles_are_kept_only_where_every_write_is_followed(db, repo, backend) -> None:
    # One process owns a SQLite file; on PostgreSQL other processes write unseen.
    assert await repo.follow_changes() == (backend == "sqlite")
    await repo.profile(NEO, NOW)
    await repo.profile(NEO, NOW)
    assert repo.cache.hits == (1 if backend == "sqlite" else 0)
