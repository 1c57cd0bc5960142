"""Names and battletags in PlayerRepository on a real SQLite file: look-alike names are one name,
a battletag belongs to one player, the keys' uniqueness is the final word when two players save
at once, and a database made with the old keys (NFKC casefold) is re-keyed at open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import storage.players as players_module
from cache.players import PlayerCache
from ladder.errors import NameTakenError, StorageBusyError, ValidationError
from ladder.names import KEY_VERSION, name_key, shape_key, skeleton
from ladder.players import BattletagTakenError, ProfileDraft, validate_alt_names, validate_name
from storage.database import Database, migrations
from storage.players import PlayerRepository

T1, T2, T3 = "2026-01-01 10:00:00.000", "2026-01-02 10:00:00.000", "2026-01-03 10:00:00.000"


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


async def state(db):
    """Everything the players aggregate stores, to prove that a refusal wrote nothing."""
    return {
        table: await rows(db, f"SELECT * FROM {table} ORDER BY 1, 2")
        for table in ("players", "player_names", "player_battletags", "player_action_logs")
    }


# --------------------------------------------------------------------------------------------
# Look-alike names.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ALICE", "case"),
        ("AIice", "a capital I for the l"),
        ("A1ice", "a digit 1 for the l"),
        ("\u0410\u0406\u0456\u0441\u0435", "whole-script Cyrillic АІісе"),
        ("\uff21lice", "full-width Ａ (if validation were skipped)"),
        ("\u0410lice", "Cyrillic А (if validation were skipped)"),
        ("Alice\u3164", "a trailing Hangul filler (if validation were skipped)"),
    ],
)
async def test_a_look_alike_of_a_taken_name_is_refused_and_writes_nothing(repo, db, name, why):
    await repo.save_profile(1, "alice", draft("Alice", "Alice#1234"))
    before = await state(db)
    with pytest.raises(NameTakenError) as caught:
        await repo.save_profile(2, "mallory", draft(name, "Mallory#1234"))
    assert caught.value.field == "player_name", why
    with pytest.raises(NameTakenError):
        await repo.check_names_free(2, "Mallory", [name])
    assert await state(db) == before, why
    await repo.check_names_free(1, name, [])  # the look-alike is player 1's own name


async def test_an_alt_that_looks_like_another_players_main_name_is_refused(repo, db):
    await repo.save_profile(1, "a", draft("BOBBY", "Bob#1234"))
    with pytest.raises(NameTakenError) as caught:
        await repo.save_profile(2, "b", draft("Carol", "Carol#1234", alts=["Kate", "B0BBY"]))
    assert (caught.value.field, caught.value.name) == ("alt_name_2", "B0BBY")
    assert await rows(db, "SELECT discord_uid FROM player_names") == [(1,)]


async def test_stored_keys_are_both_skeletons(repo, db):
    await repo.save_profile(1, "a", draft("Tom", "Tom#1234", alts=["Smith"]))
    assert await rows(db, "SELECT name_key, shape_key, kind FROM player_names ORDER BY kind") == [
        ("srnith", "Srnith", "alt"),  # UTS #39: m looks like rn
        ("torn", "Torn", "main"),
    ]


async def test_a_player_keeps_or_recases_their_own_names_and_freed_names_can_be_taken(repo):
    await repo.save_profile(1, "a", draft("Alice", "Alice#1234", alts=["Wonder"]))
    await repo.save_profile(1, "a", draft("ALICE", "Alice#1234", alts=["Wonder"]))
    await repo.check_names_free(1, "alice", ["wonder"])
    await repo.save_profile(1, "a", draft("Alicia", "Alice#1234"))
    await repo.save_profile(2, "b", draft("Wonder", "Won#1234"))
    await repo.check_names_free(2, "WONDER", [])
    with pytest.raises(NameTakenError):
        await repo.check_names_free(1, "WONDER", [])


# --------------------------------------------------------------------------------------------
# Battletags: one account, one player.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["Alice#1234", "alice#1234", "ALICE#1234", "\uff21lice#1234"])
async def test_a_battletag_another_player_uses_is_refused_in_any_case(repo, db, tag):
    await repo.save_profile(1, "alice", draft("Alice", "Alice#1234"))
    before = await state(db)
    with pytest.raises(BattletagTakenError) as caught:
        await repo.save_profile(2, "bob", draft("Bob", tag))
    assert caught.value.field == "battletag"
    assert "already used by another player" in caught.value.user_message
    assert isinstance(caught.value, ValidationError)  # shown to the player as a refusal
    with pytest.raises(BattletagTakenError):
        await repo.check_battletag_free(2, tag)
    assert await state(db) == before  # not even a bare players row for the newcomer


async def test_a_player_keeps_or_changes_their_own_battletag_and_frees_the_old_one(repo, db):
    await repo.save_profile(1, "a", draft("Alice", "Alice#1234"))
    await repo.save_profile(1, "a", draft("Alice", "ALICE#1234"))
    await repo.check_battletag_free(1, "alice#1234")
    await repo.save_profile(1, "a", draft("Alice", "Alice#9999"))
    assert await rows(db, "SELECT battletag_key, discord_uid FROM player_battletags") == [
        ("alice#9999", 1)
    ]
    await repo.save_profile(2, "b", draft("Bob", "Alice#1234"))  # freed
    await repo.check_battletag_free(3, "Other#1234")


async def test_two_players_saving_the_same_battletag_at_once_one_wins(repo, db):
    results = await asyncio.gather(
        *(repo.save_profile(uid, f"p{uid}", draft(f"Player{uid}", "Same#1234")) for uid in (1, 2)),
        *(repo.save_profile(uid, f"p{uid}", draft(f"Player{uid}", "SAME#1234")) for uid in (3, 4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, list) for r in results) == 1, results
    assert all(isinstance(r, (list, BattletagTakenError)) for r in results), results
    assert len(await rows(db, "SELECT * FROM player_battletags")) == 1
    assert len(await rows(db, "SELECT * FROM players WHERE battletag IS NOT NULL")) == 1


async def test_two_processes_saving_the_same_battletag_at_once_one_wins(tmp_path):
    """Two connections (as two bot processes would have): SQLite's lock serialises them."""
    first = await Database.open(tmp_path / "ladder.db")
    second = await Database.open(tmp_path / "ladder.db")
    try:
        repos = [PlayerRepository(d, PlayerCache()) for d in (first, second)]
        results = await asyncio.gather(
            repos[0].save_profile(1, "a", draft("Alice", "Same#1234")),
            repos[1].save_profile(2, "b", draft("Bob", "same#1234")),
            return_exceptions=True,
        )
        refused = [r for r in results if not isinstance(r, list)]
        assert len(refused) == 1 and isinstance(refused[0], (BattletagTakenError, StorageBusyError))
        assert len(await rows(first, "SELECT * FROM player_battletags")) == 1
    finally:
        await second.close()
        await first.close()


async def test_the_unique_keys_are_the_final_word_when_the_check_misses(repo, db, monkeypatch):
    """A check that saw nothing (as a write that raced it would) cannot let a clash in."""
    await repo.save_profile(1, "alice", draft("Alice", "Alice#1234"))
    before = await state(db)

    async def sees_nobody(*_args):
        return None

    monkeypatch.setattr(players_module, "_battletag_holder", sees_nobody)
    monkeypatch.setattr(players_module, "_name_holder", sees_nobody)
    with pytest.raises(BattletagTakenError):
        await repo.save_profile(2, "bob", draft("Bob", "alice#1234"))
    with pytest.raises(NameTakenError) as caught:
        await repo.save_profile(2, "bob", draft("Bob", "Bob#1234", alts=["AIice"]))
    assert caught.value.field == "alt_name_1"
    assert await state(db) == before


async def test_the_schema_refuses_a_second_holder_of_a_key(db):
    with contextlib.closing(sqlite3.connect(db.path)) as conn, conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?)",
            [(1, "a", T1, T1), (2, "b", T1, T1)],
        )
        conn.execute("INSERT INTO player_battletags VALUES ('a#123', 1)")
        conn.execute("INSERT INTO player_names VALUES ('alice', 'Alice', 1, 'main')")
        for sql in (
            "INSERT INTO player_battletags VALUES ('a#123', 2)",
            "INSERT INTO player_battletags VALUES ('b#123', 1)",  # one battletag per player
            "INSERT INTO player_names VALUES ('alice', 'ALICE', 2, 'main')",
            "INSERT INTO player_names VALUES ('aiice', 'Alice', 2, 'main')",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)


# --------------------------------------------------------------------------------------------
# A database made with the old keys.
# --------------------------------------------------------------------------------------------

OLD_PLAYERS = [
    # uid, player_name, alt 1, alt 2, battletag, completed_setup_at
    (1, "Alice", "Smith", None, "Alice#1234", T1),
    (2, "\u0410lice", None, None, "ALICE#1234", T2),  # accepted before: a Cyrillic А
    (3, "Tom", "Torn", None, "Tom#1234", T1),  # main and alt look alike
    (4, "Zo\u00eb", None, None, "Zoe#1234", T3),
    (5, "AIice", None, None, "Ai#1234", None),  # a capital I; setup never completed
    (6, None, None, None, None, None),  # accepted the terms only
]


def build_old_database(path: Path) -> None:
    """A database as the bot left it before migration 0006, keys folded by NFKC casefold."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for number, _, sql in migrations():
            if number >= 6:
                break
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        conn.execute("BEGIN")
        for uid, name, alt1, alt2, tag, done in OLD_PLAYERS:
            conn.execute(
                "INSERT INTO players (discord_uid, discord_name, player_name, battletag,"
                " alt_name_1, alt_name_2, completed_setup, completed_setup_at, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid, f"user{uid}", name, tag, alt1, alt2, int(done is not None), done, T1, T1),
            )
            for kind, given in (("main", name), ("alt", alt1), ("alt", alt2)):
                if given:
                    old_key = unicodedata.normalize("NFKC", given).casefold()
                    conn.execute("INSERT INTO player_names VALUES (?, ?, ?)", (old_key, uid, kind))
        conn.execute("COMMIT")


async def test_a_database_with_the_old_keys_is_rekeyed_at_open(tmp_path, caplog):
    path = tmp_path / "ladder.db"
    build_old_database(path)
    db = await Database.open(path)
    try:
        assert await rows(db, "SELECT keys, version FROM key_versions") == [
            ("players", "nfkc-casefold")
        ]
        repo = PlayerRepository(db, PlayerCache())
        with caplog.at_level(logging.INFO, logger="storage.players"):
            assert await repo.refresh_keys() is True
        names = await rows(
            db, "SELECT name_key, shape_key, discord_uid, kind FROM player_names ORDER BY 3, 4"
        )
        assert names == [
            ("srnith", "Srnith", 1, "alt"),
            ("alice", "Alice", 1, "main"),
            ("torn", "Torn", 3, "main"),  # its alt 'Torn' looks the same: left out
            (name_key("Zo\u00eb"), shape_key("Zo\u00eb"), 4, "main"),
        ]
        # 'Аlice' (completed later) and 'AIice' (never completed) look like Alice's: left out.
        assert await rows(db, "SELECT * FROM player_battletags ORDER BY 2") == [
            ("alice#1234", 1),
            ("tom#1234", 3),
            ("zoe#1234", 4),
            ("ai#1234", 5),
        ]
        assert await rows(db, "SELECT version FROM key_versions") == [(KEY_VERSION,)]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 4, warnings
        assert any("player 2's name" in w and "player 1" in w for w in warnings)
        assert any("player 2's battletag" in w and "player 1's" in w for w in warnings)
        assert any("player 3's name 'Torn'" in w for w in warnings)
        assert any("player 5's name 'AIice'" in w for w in warnings)
        # Nothing else changed: the players keep their names on their profiles.
        assert (await repo.get(2)).player_name == "\u0410lice"
        assert await repo.refresh_keys() is False
        # Look-alikes of the re-keyed names are now refused.
        with pytest.raises(NameTakenError):
            await repo.check_names_free(7, "ALICE", [])
        with pytest.raises(NameTakenError):
            await repo.check_names_free(7, "Tom", [])
        with pytest.raises(BattletagTakenError):
            await repo.check_battletag_free(7, "alice#1234")
    finally:
        await db.close()

    # The next start finds the keys current and rewrites nothing.
    db = await Database.open(path)
    try:
        repo = PlayerRepository(db, PlayerCache())
        assert await repo.refresh_keys() is False
    finally:
        await db.close()


async def test_the_first_use_of_a_key_rekeys_without_being_asked(tmp_path):
    path = tmp_path / "ladder.db"
    build_old_database(path)
    db = await Database.open(path)
    try:
        repo = PlayerRepository(db, PlayerCache())
        with pytest.raises(NameTakenError):  # Cyrillic А: its old key matched nobody
            await repo.check_names_free(2, "\u0410LICE", [])
        await repo.check_names_free(1, "\u0410LICE", [])
    finally:
        await db.close()


async def test_a_failed_rekey_leaves_the_old_keys_and_is_tried_again(tmp_path, monkeypatch):
    path = tmp_path / "ladder.db"
    build_old_database(path)
    db = await Database.open(path)
    try:
        before = await state(db)
        real = players_module._claims_in_order

        def broken(rows):
            real(rows)
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(players_module, "_claims_in_order", broken)
        repo = PlayerRepository(db, PlayerCache())
        with pytest.raises(RuntimeError):
            await repo.save_profile(7, "newcomer", draft("Newcomer", "New#1234"))
        assert await state(db) == before
        assert await rows(db, "SELECT version FROM key_versions") == [("nfkc-casefold",)]
        monkeypatch.setattr(players_module, "_claims_in_order", real)
        await repo.save_profile(7, "newcomer", draft("Newcomer", "New#1234"))
        assert await rows(db, "SELECT version FROM key_versions") == [(KEY_VERSION,)]
    finally:
        await db.close()


# --------------------------------------------------------------------------------------------
# Busy is for a busy database only; any other SQLite error is a bug and says so.
# --------------------------------------------------------------------------------------------


def _sqlite_error(code: int | None) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(f"code {code}")
    if code is not None:
        error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize("code", [5, 6, 8, 10, 13, 5 | (1 << 8), 6 | (1 << 8)])
def test_busy_locked_readonly_ioerr_and_full_become_storage_busy(code):
    assert isinstance(players_module._busy(_sqlite_error(code)), StorageBusyError)


@pytest.mark.parametrize("code", [1, 11, 19, 26, None])
def test_any_other_operational_error_is_raised_as_it_is(code):
    error = _sqlite_error(code)
    with pytest.raises(sqlite3.OperationalError) as caught:
        players_module._busy(error)
    assert caught.value is error


async def test_a_sql_bug_in_a_player_write_is_not_reported_as_busy(repo, db):
    await repo.record_terms(1, "neo", accepted=True)
    with contextlib.closing(sqlite3.connect(db.path)) as conn, conn:
        conn.execute("DROP TABLE player_action_logs")
    with pytest.raises(sqlite3.OperationalError, match="no such table") as caught:
        await repo.set_country(1, "DE")
    assert not isinstance(caught.value, StorageBusyError)
    assert (await repo.get(1)).country is None  # rolled back


# --------------------------------------------------------------------------------------------
# Property: over names built from mixed scripts and look-alikes, no two claimed names share a
# skeleton, and every valid name that was refused shares one with a claimed name.
# --------------------------------------------------------------------------------------------

LETTERS = {
    "a": "aA\u0430\u0410\u03b1\uff21",
    "l": "lLI1\u04cf\u04c0\u0399",
    "i": "iI\u0456\u0406\u0131",
    "c": "cC\u0441\u0421\u03f2",
    "e": "eE\u0435\u0415\u0395",
    "o": "oO0\u043e\u041e\u03bf",
    "m": "mM\u043c",
    "n": "nN",
    "r": "rR",
}
BASES = ["alice", "ace", "cole", "leo", "nora", "marco", "rnarco"]


@st.composite
def names(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASES))
    name = "".join(draw(st.sampled_from(LETTERS[ch])) for ch in base)
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(name)))
        name = name[:at] + draw(st.sampled_from("\u3164\u200d_")) + name[at:]
    return name


def _skeletons(name: str) -> set[str]:
    """The oracle: the UTS #39 skeleton as typed, and of the case-folded name."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return {"as typed:" + skeleton(name), "folded:" + skeleton(folded)}


async def _claim_all(path: Path, wanted: list[tuple[str, str]]) -> tuple[list, list]:
    db = await Database.open(path)
    try:
        repo = PlayerRepository(db, PlayerCache())
        claimed, refused = [], []
        for uid, (main, alt) in enumerate(wanted, start=1):
            try:
                main = validate_name(main)
                alts = validate_alt_names(main, [alt])
            except ValidationError:
                continue  # refused before any storage
            try:
                await repo.save_profile(uid, f"u{uid}", draft(main, f"P#{uid:04d}", alts))
            except NameTakenError:
                refused.append((main, *alts))
            else:
                claimed.extend([main, *alts])
        stored = await rows(db, "SELECT count(*) FROM player_names")
        assert stored == [(len(claimed),)]
        return claimed, refused
    finally:
        await db.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(names(), names() | st.just("")), min_size=2, max_size=8))
def test_no_two_claimed_names_share_a_skeleton(wanted):
    with tempfile.TemporaryDirectory() as folder:
        claimed, refused = asyncio.run(_claim_all(Path(folder) / "ladder.db", wanted))
    seen: dict[str, str] = {}
    for name in claimed:
        for key in _skeletons(name):
            assert key not in seen, f"{name!r} and {seen[key]!r} share {key!r}"
            seen[key] = name
    for given_names in refused:
        assert any(key in seen for n in given_names for key in _skeletons(n)), given_names
