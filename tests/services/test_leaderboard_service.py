"""The leaderboard's reads: names for players met in a rating change, a /profile from SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ladder.records import Aborts, Record
from services.leaderboard import LeaderboardService
from storage.database import Database, format_time
from storage.leaderboard import LeaderboardRepository

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
TRIN = 102


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


async def test_new_players_are_named_and_profiles_read(db) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO players (discord_uid, discord_name, player_name, country, banned,"
            " created_at, updated_at) VALUES (?, 'trin_discord', 'Trinity', 'DE', 0, ?, ?)",
            (TRIN, format_time(NOW), format_time(NOW)),
        )
    repository = LeaderboardRepository(db, aborts_per_month=3)
    standings = await repository.load_standings(NOW)
    service = LeaderboardService(repository, standings)
    standings.update(TRIN, "bw_zerg", 1520, 1, NOW)  # a first game, fed by the ladder service
    assert standings.unnamed() == {TRIN}
    await service.name_new_players()
    assert standings.unnamed() == set()
    profile = await service.profile(TRIN, NOW)
    assert (profile.uid, profile.overall, profile.aborts) == (
        TRIN,
        Record(0, 0, 0),
        Aborts("2025-03", 0, 3),
    )
