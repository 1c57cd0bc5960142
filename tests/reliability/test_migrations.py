"""Start-up on a database from every earlier schema version, and a crash during a migration.

For each version v below the latest, a database is built by applying only the first v
migrations (``storage.database.migrations()``), rows are inserted into every table that version
has (unicode names, NULLs, a pending match, a queued player, a dispute with evidence, ...), and
then the bot's ``Database.open`` migrates it. Checks: ``user_version`` is the latest; every row
of every earlier table is unchanged; the schema is exactly a new database's; integrity and
foreign keys hold; and the bot's repositories and service read the old rows (the pending match
is still pending, the queued player still queued) and write new ones.

A database from a newer version is refused: tests/storage/test_database.py and
tests/e2e/test_lifecycle.py cover that, and the queue and deadlines resuming after a clean
restart are in tests/e2e/test_restart.py (after a SIGKILL: test_restart_after_kill.py here).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from app.settings import REPO_ROOT
from cache.players import PlayerCache
from ladder.config import load_ladder_config
from ladder.errors import NameTakenError
from ladder.names import KEY_VERSION, name_key
from services.ladder_core import LadderCore
from services.matches import MatchService
from storage.database import Database, epoch_ms, migrations, parse_time
from storage.players import PlayerRepository
from storage.queue import QueueRepository

LATEST = len(migrations())
T = "2026-01-02 03:04:05.678"
ALICE, BOB, CAROL, DAVE = 111, 222, 333, 444

# The columns of 0001's players table, named: later migrations add columns at the end.
PLAYER_ROW = (
    "INSERT INTO players (discord_uid, discord_name, player_name, battletag, alt_name_1,"
    " alt_name_2, country, region, accepted_tos, accepted_tos_at, completed_setup,"
    " completed_setup_at, banned, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows for the tables each migration creates (by the version that creates them).
SEED: dict[int, list[tuple[str, tuple]]] = {
    1: [
        (PLAYER_ROW,
         (ALICE, "alice", "Ålice_ñ", "Alice#1234", "Zoë", None, "FR", "EU", 1, T, 1, T, 0, T, T)),
        (PLAYER_ROW,
         (BOB, "bob", "Bob", "Bob#5678", None, None, "DE", "EU", 1, T, 1, T, 0, T, T)),
        (PLAYER_ROW,
         (CAROL, "carol", "Carol", "Carol#999", None, None, "SE", "EU", 1, T, 1, T, 0, T, T)),
        (PLAYER_ROW,
         (DAVE, "dave'; DROP TABLE players;--", None, None, None, None, None, None, 0, None,
          0, None, 1, T, T)),
        ("INSERT INTO player_action_logs (discord_uid, setting, old_value, new_value, changed_by,"
         " changed_at) VALUES (?, ?, ?, ?, ?, ?)", (ALICE, "country", None, "FR", ALICE, T)),
        ("INSERT INTO player_action_logs (discord_uid, setting, old_value, new_value, changed_by,"
         " changed_at) VALUES (?, ?, ?, ?, ?, ?)", (DAVE, "banned", "no", "yes", 1, T)),
    ],
    2: [
        ("INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws, last_played_at)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (ALICE, "bw_terran", 1520, 1, 1, 0, 0, T)),
        ("INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws, last_played_at)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (BOB, "bw_zerg", 1480, 1, 0, 1, 0, T)),
        ("INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws, last_played_at)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (CAROL, "bw_protoss", 1500, 0, 0, 0, 0, None)),
        ("INSERT INTO queue_preferences VALUES (?, ?, ?, ?)",
         (CAROL, '["bw_protoss"]', '["Eclipse"]', T)),
        ("INSERT INTO queue_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
         (CAROL, '["bw_protoss"]', '["Eclipse"]', T, 3, 555, 666)),
        ("INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr, player2_uid,"
         " player2_race, player2_mmr, map, created_at, confirm_deadline, started_at,"
         " report_deadline, player1_report, player2_report, result, decided_by, mmr_change,"
         " ended_at) VALUES (1, 'finished', ?, 'bw_terran', 1500, ?, 'bw_zerg', 1500,"
         " 'Eclipse', ?, ?, ?, ?, 'win', 'loss', 'p1_win', 'agreement', 20, ?)",
         (ALICE, BOB, T, T, T, T, T)),
        ("INSERT INTO matches (id, status, player1_uid, player1_race, player1_mmr, player2_uid,"
         " player2_race, player2_mmr, map, created_at, confirm_deadline, player1_confirmed_at)"
         " VALUES (2, 'awaiting_confirmation', ?, 'bw_terran', 1520, ?, 'bw_zerg', 1480,"
         " 'Polypoid', ?, '2999-01-01 00:00:00.000', ?)", (ALICE, BOB, T, T)),
        ("INSERT INTO match_messages (match_id, discord_uid, channel_id, message_id)"
         " VALUES (?, ?, ?, ?)", (2, ALICE, 7001, 8001)),
        ("INSERT INTO match_messages (match_id, discord_uid, channel_id, message_id)"
         " VALUES (?, ?, ?, ?)", (2, BOB, 7002, 8002)),
        ("INSERT INTO admin_actions (admin_uid, action, target, details, reason, created_at)"
         " VALUES (?, ?, ?, ?, ?, ?)", (1, "ban", f"player:{DAVE}", '{"changed": true}',
                                        "spam ' OR 1=1 --", T)),
        ("INSERT INTO rating_log (seq, match_id) VALUES (1, 1)", ()),
        ("INSERT INTO aborts VALUES (?, ?, ?)", (BOB, "2026-01", 1)),
        ("INSERT INTO disputes (match_id, status, player1_report, player2_report, opened_at)"
         " VALUES (1, 'resolved', 'win', 'win', ?)", (T,)),
        ("INSERT INTO dispute_evidence (dispute_id, discord_uid, note, url, added_at)"
         " VALUES (1, ?, ?, ?, ?)", (ALICE, "gg \u200b\n<b>", "https://replays.example/1", T)),
    ],
    6: [
        ("INSERT INTO player_battletags VALUES (?, ?)", ("alice#1234", ALICE)),
        ("INSERT INTO player_battletags VALUES (?, ?)", ("bob#5678", BOB)),
        ("INSERT INTO player_battletags VALUES (?, ?)", ("carol#999", CAROL)),
    ],
    7: [
        ("INSERT INTO setup_drafts (discord_uid, player_name, battletag, alt_names, country,"
         " region, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
         (BOB, "Bøb_2", "Bob#5678", '["Bobby"]', "DE", None, T)),
        ("INSERT INTO admin_confirmations (admin_uid, action, arguments, expected, created_at,"
         " used) VALUES (?, ?, ?, ?, ?, ?)",
         (1, "mmr", f'{{"uid": {ALICE}, "race": "bw_terran", "mode": "add", "amount": 5,'
          ' "reason": "it\'s fine"}', '{"mmr": 1520}', T, 1)),
    ],
    8: [
        ("INSERT INTO web_logins (token_hash, admin_uid, created_at, used_at) VALUES (?, ?, ?, ?)",
         ("5e" * 32, 1, T, T)),
        ("INSERT INTO web_secrets (name, value, created_at) VALUES (?, ?, ?)",
         ("session", bytes(range(32)), T)),
    ],
    10: [
        ("INSERT INTO season_standings (season, discord_uid, race, mmr, rating, deviation,"
         " volatility, games, wins, losses, draws, last_played_at, place, rank, provisional)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (1, ALICE, "bw_terran", 1520, 1520.0, 0.0, 0.0, 1, 1, 0, 0, T, 1, "S", 0)),
    ],
    11: [
        ("INSERT INTO replays (match_id, uploader, sha256, size, facts, verdict, reason, result,"
         " effect, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (1, ALICE, "ab" * 32, 12345, '{"map": "Ever Dream LE", "players": []}', "refused",
          "names", None, "evidence", T)),
    ],
    12: [
        ("INSERT INTO notify_settings (discord_uid, enabled, races, regions, quiet_start,"
         " quiet_end, time_zone, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (ALICE, 1, '["bw_zerg"]', '["EU"]', "23:00", "07:00", "Europe/Berlin", T)),
        ("INSERT INTO notifications_sent (discord_uid, about_uid, race, region, created_at,"
         " outcome, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
         (ALICE, BOB, "bw_zerg", "EU", T, "sent", T)),
        ("INSERT INTO queue_board (channel_id, message_id, shown) VALUES (?, ?, ?)",
         (42, 4242, "2 queueing")),
    ],
}  # fmt: skip
# player_names as 0001 keyed them (NFKC casefold); 0006 adds shape_key (the same, until the
# bot re-keys every name at start).
PLAYER_NAMES = [("ålice_ñ", ALICE, "main"), ("zoë", ALICE, "alt"), ("bob", BOB, "main"),
                ("carol", CAROL, "main")]  # fmt: skip
# Tables whose keys the bot recomputes at start with today's key functions (UTS #39 skeletons).
REKEYED = ("player_names", "player_battletags", "key_versions")


# command_calls rows, inserted in the shape of the version at hand: 0004 turned the stored
# called_at text into called_ms (called_at is then computed, and cannot be inserted).
COMMAND_CALLS = [
    (1234567890123456789, T, ALICE, "Ålice_ñ", "setup", None, 12.5, "ok"),
    (None, T, DAVE, None, "admin resolve", 42, 0.25, "refused:banned"),
]
# Columns every version has (called_at: stored text before 0004, computed after): the rows read
# through them must not change across a migration, which also checks the text -> ms conversion.
COMMAND_CALLS_COLUMNS = (
    "id, interaction_id, called_at, discord_uid, player_name, command, guild_id, duration_ms,"
    " outcome"
)


def insert_command_calls(conn: sqlite3.Connection, version: int) -> None:
    time_column = "called_ms" if version >= 4 else "called_at"
    rows: list[tuple[object, ...]] = list(COMMAND_CALLS)
    if version >= 4:
        rows = [(r[0], epoch_ms(parse_time(r[1])), *r[2:]) for r in COMMAND_CALLS]
    conn.executemany(
        f"INSERT INTO command_calls (interaction_id, {time_column}, discord_uid, player_name,"
        " command, guild_id, duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def build(path: Path, version: int) -> None:
    """A database as ladderbot left it at `version`: the first `version` migrations, then rows."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        for number, _, sql in migrations()[:version]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
        conn.execute("BEGIN")
        for number in range(1, version + 1):
            for sql, params in SEED.get(number, []):
                conn.execute(sql, params)
        if version >= 6:
            conn.executemany(
                "INSERT INTO player_names (name_key, shape_key, discord_uid, kind)"
                " VALUES (?, ?, ?, ?)",
                [(key, key, uid, kind) for key, uid, kind in PLAYER_NAMES],
            )
        elif version >= 1:
            conn.executemany("INSERT INTO player_names VALUES (?, ?, ?)", PLAYER_NAMES)
        if version >= 1:
            insert_command_calls(conn, version)
        conn.execute("COMMIT")


def snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        columns = {"command_calls": COMMAND_CALLS_COLUMNS}
        return {t: sorted(conn.execute(f"SELECT {columns.get(t, '*')} FROM {t}").fetchall(),
                          key=repr)
                for t in tables}  # fmt: skip


def schema(path: Path) -> set[tuple[str, str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {
            (kind, name, " ".join(sql.split()))
            for kind, name, sql in conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            )
        }


def checks(path: Path) -> tuple[str, list, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return (
            conn.execute("PRAGMA integrity_check").fetchone()[0],
            conn.execute("PRAGMA foreign_key_check").fetchall(),
            conn.execute("PRAGMA user_version").fetchone()[0],
        )


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str, str]]:
    path = tmp_path_factory.mktemp("fresh") / "ladder.db"

    async def make() -> None:
        await (await Database.open(path)).close()

    asyncio.run(make())
    return schema(path)


@pytest.mark.parametrize("version", range(LATEST), ids=lambda v: f"from-v{v}")
async def test_start_up_migrates_a_database_from_every_earlier_version(
    tmp_path: Path, version: int, fresh_schema: set
) -> None:
    path = tmp_path / "ladder.db"
    if version == 0:
        path.touch()  # an empty file: SQLite reads it as a database at version 0
    else:
        build(path, version)
    before = snapshot(path)

    db = await Database.open(path)
    try:
        assert await db.schema_version() == LATEST
        players = PlayerRepository(db, PlayerCache())
        config = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
        matches = MatchService(LadderCore(db, players, config))
        if version >= 1:
            alice = await players.get(ALICE)
            assert alice is not None and alice.player_name == "Ålice_ñ"
            assert alice.alt_names == ("Zoë",)
            assert (await players.get(DAVE)).banned
            await players.check_names_free(ALICE, "ÅLICE_Ñ", [])  # her own name, any case
            with pytest.raises(NameTakenError):
                await players.check_names_free(BOB, "ÅLICE_Ñ", [])
        if version >= 2:
            (pending,) = await matches.open_matches()
            assert (pending.id, str(pending.status)) == (2, "awaiting_confirmation")
            assert pending.confirmed_by(ALICE) and not pending.confirmed_by(BOB)
            assert [q.uid for q in await QueueRepository().all(db.conn)] == [CAROL]
            assert await matches.match_messages(2) == [(ALICE, 7001, 8001), (BOB, 7002, 8002)]
            update = await matches.confirm(2, BOB)  # the pending match carries on
            assert str(update.match.status) == "in_progress"
        # New writes work on the migrated file.
        await players.record_terms(999, "newcomer", True)
        rows = await db.fetchall("SELECT command, calls FROM daily_command_usage ORDER BY command")
        assert sum(r["calls"] for r in rows) == (2 if version >= 1 else 0)
        kinds = await db.fetchall("SELECT DISTINCT kind FROM command_calls")
        assert [k[0] for k in kinds] == (["slash"] if version >= 1 else [])  # all were commands
    finally:
        await db.close()

    after = snapshot(path)
    for table, kept in before.items():
        if table == "matches" and version >= 2:  # match 2 was confirmed above
            kept = [r for r in kept if r[0] != 2]
            width = len(kept[0]) if kept else 0  # 0010 added matches.season at the end
            assert [r[:width] for r in after[table] if r[0] != 2] == kept
        elif table == "players":  # the newcomer is new; 0013 added players.language at the end
            width = len(kept[0]) if kept else 0
            assert [r[:width] for r in after[table] if r[0] != 999] == kept
        elif table == "player_action_logs":
            assert [r for r in after[table] if r[1] != 999] == kept
        elif table in REKEYED:
            continue  # checked below: recomputed from the players' names
        else:  # columns a later migration added come last: the old ones are unchanged
            width = len(kept[0]) if kept else 0
            assert [r[:width] for r in after[table]] == kept, table
    if version >= 1:
        # Every name and battletag is claimed again under today's keys, nothing lost.
        names = {(r[2], r[3]) for r in after["player_names"]}
        assert names == {(ALICE, "main"), (ALICE, "alt"), (BOB, "main"), (CAROL, "main")}
        assert {r[0] for r in after["player_names"]} == {
            name_key(n) for n in ("Ålice_ñ", "Zoë", "Bob", "Carol")
        }
        assert sorted(r[1] for r in after["player_battletags"]) == [ALICE, BOB, CAROL]
        assert after["key_versions"] == [("players", KEY_VERSION)]
    assert schema(path) == fresh_schema, "a migrated database must equal a new one"
    assert checks(path) == ("ok", [], LATEST)


def test_every_table_gets_seed_rows(tmp_path: Path) -> None:
    """A new migration that adds a table needs rows in SEED, or its upgrade goes untested."""
    build(tmp_path / "ladder.db", LATEST)
    empty = [t for t, rows in snapshot(tmp_path / "ladder.db").items() if not rows]
    assert not empty, f"add rows for {empty} to SEED"


def _with_extra_migration(path: Path, sql: str, *, block: bool = False) -> list[str]:
    """A child process that opens `path` with one more migration (0099) than the bot has."""
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(REPO_ROOT)!r})
        import storage.database as database
        real = database.migrations()
        database.migrations = lambda: real + [(len(real) + 1, "0099_extra.sql", {sql!r})]
        print("opening", flush=True)
        asyncio.run(database.Database.open({str(path)!r}))
    """)
    return [sys.executable, "-c", script]


def test_a_failed_migration_leaves_the_previous_version_and_the_data(tmp_path: Path) -> None:
    path = tmp_path / "ladder.db"
    build(path, LATEST)
    before = snapshot(path)
    broken = "CREATE TABLE extra (id INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    done = subprocess.run(_with_extra_migration(path, broken), capture_output=True, text=True,
                          check=False, timeout=60)  # fmt: skip
    assert done.returncode != 0 and "no_such_table" in done.stderr
    assert checks(path) == ("ok", [], LATEST)
    assert snapshot(path) == before  # no table "extra": the migration is all or nothing

    async def reopen() -> int:
        db = await Database.open(path)
        try:
            return await db.schema_version()
        finally:
            await db.close()

    assert asyncio.run(reopen()) == LATEST


def test_sigkill_during_a_migration_leaves_the_previous_version_and_the_data(
    tmp_path: Path,
) -> None:
    """The process dies while a long migration runs: the next start finds the old version."""
    path = tmp_path / "ladder.db"
    build(path, LATEST)
    before = snapshot(path)
    slow = (
        "CREATE TABLE extra (n INTEGER, pad TEXT);\n"
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c)"
        " INSERT INTO extra SELECT n, hex(randomblob(64)) FROM c LIMIT 50000000;"
    )
    proc = subprocess.Popen(_with_extra_migration(path, slow), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"opening\n"
        wal = path.with_name(path.name + "-wal")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if wal.exists() and wal.stat().st_size > 4_000_000:
                break  # the migration's transaction is well under way
            time.sleep(0.02)
        assert proc.poll() is None, "the migration ended before the kill"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert checks(path) == ("ok", [], LATEST)
    assert snapshot(path) == before
