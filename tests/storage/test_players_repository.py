"""PlayerRepository on a real SQLite file: writes, action logs, names, and the cache."""

import sqlite3

import pytest

from cache.players import PlayerCache
from ladder.errors import NameTakenError, StorageBusyError
from ladder.players import ProfileDraft
from storage.database import Database
from storage.players import PlayerRepository


@pytest.fixture
async def db(tmp_path):
    database = await Database.open(tmp_path / "ladder.db")
    yield database
    await database.close()


@pytest.fixture
def repo(db):
    return PlayerRepository(db, PlayerCache())


def draft(name="Neo", tag="Neo#1234", alts=(), country="FR", region="EU"):
    return ProfileDraft(name, tag, tuple(alts), country, region)


async def rows(db, sql, params=()):
    return [tuple(r) for r in await db.fetchall(sql, params)]


async def test_unknown_user_is_none_and_cached(repo):
    assert await repo.get(1) is None
    assert await repo.get(1) is None
    stats = repo.cache.stats()
    assert (stats.hits, stats.misses) == (1, 1)


async def test_terms_decision_is_stored_and_logged(repo, db):
    player = await repo.record_terms(1, "neo", accepted=True)
    assert player.accepted_tos and player.accepted_tos_at is not None
    player = await repo.record_terms(1, "neo", accepted=False)
    assert not player.accepted_tos
    assert await rows(
        db, "SELECT setting, old_value, new_value, changed_by FROM player_action_logs"
    ) == [
        ("accepted_tos", "no", "yes", 1),
        ("accepted_tos", "yes", "no", 1),
    ]


async def test_repeated_reads_hit_the_cache_and_writes_invalidate(repo):
    await repo.record_terms(1, "neo", accepted=True)
    await repo.get(1)
    misses = repo.cache.stats().misses
    for _ in range(5):
        await repo.get(1)
    assert repo.cache.stats().misses == misses  # no database read for repeated guards

    await repo.save_profile(1, "neo", draft())
    assert (await repo.get(1)).player_name == "Neo"
    await repo.set_country(1, "DE")
    assert (await repo.get(1)).country == "DE"
    await repo.set_banned(1, True, changed_by=99)
    assert (await repo.get(1)).banned
    await repo.record_terms(1, "neo", accepted=False)
    assert not (await repo.get(1)).accepted_tos


async def test_save_profile_logs_every_changed_field(repo, db):
    await repo.record_terms(1, "neo", accepted=True)
    changes = await repo.save_profile(1, "neo", draft(alts=["Anderson"]))
    assert ("player_name", None, "Neo") in changes
    assert ("completed_setup", "no", "yes") in changes
    changes = await repo.save_profile(1, "neo", draft(tag="Neo#9999", alts=["Anderson"]))
    assert changes == [("battletag", "Neo#1234", "Neo#9999")]
    logged = await rows(db, "SELECT setting FROM player_action_logs WHERE setting = 'battletag'")
    assert len(logged) == 2
    player = await repo.get(1)
    assert player.completed_setup and player.alt_names == ("Anderson",)


async def test_names_are_unique_across_players_case_insensitively(repo, db):
    await repo.save_profile(1, "a", draft(name="Neo", alts=["Smith"]))
    with pytest.raises(NameTakenError) as caught:
        await repo.save_profile(2, "b", draft(name="NEO", tag="B#1234"))
    assert caught.value.field == "player_name"
    with pytest.raises(NameTakenError):
        await repo.save_profile(2, "b", draft(name="Morpheus", alts=["smith"]))
    with pytest.raises(NameTakenError):
        await repo.check_names_free(2, "Trinity", ["SMITH"])
    # The refused writes changed nothing, not even a bare row for player 2's names. The keys
    # are UTS #39 skeletons of the folded names: an m looks like rn (tests/storage/
    # test_player_names.py has the look-alikes).
    assert await rows(db, "SELECT name_key, discord_uid FROM player_names ORDER BY name_key") == [
        ("neo", 1),
        ("srnith", 1),
    ]
    assert (await repo.get(2)) is None
    # A player can keep and re-case their own name, and freed names can be taken.
    await repo.save_profile(1, "a", draft(name="neo"))
    await repo.save_profile(2, "b", draft(name="Smith", tag="B#1234"))
    await repo.check_names_free(2, "SMITH", [])
    with pytest.raises(NameTakenError):
        await repo.check_names_free(1, "SMITH", [])


async def test_sql_looking_input_is_stored_verbatim(repo, db):
    sneaky = "x'); DROP TABLE players;--"
    await repo.record_terms(5, sneaky, accepted=True)
    assert (await repo.get(5)).discord_name == sneaky
    assert await rows(db, "SELECT count(*) FROM players") == [(1,)]


async def test_a_locked_database_becomes_a_busy_error_and_writes_nothing(repo, db, tmp_path):
    await repo.record_terms(1, "neo", accepted=True)
    other = sqlite3.connect(tmp_path / "ladder.db", timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageBusyError):
            await repo.set_country(1, "DE")
    finally:
        other.rollback()
        other.close()
    assert (await repo.get(1)).country is None
    assert await repo.set_country(1, "DE") == ("country", None, "DE")


async def test_ban_and_unban_are_logged_with_the_admin(repo, db):
    assert await repo.set_banned(3, True, changed_by=42) == ("banned", "no", "yes")
    assert await repo.set_banned(3, True, changed_by=42) is None
    assert await repo.set_banned(3, False, changed_by=42) == ("banned", "yes", "no")
    assert await rows(db, "SELECT changed_by FROM player_action_logs") == [(42,), (42,)]
