"""`python bot.py stats`: hand-computed numbers, both ways to percentiles, formats, read-only."""

import csv
import io
import json
import math
import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from app import stats
from app.stats import percentiles, queries
from storage.database import Database

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # a 3-day period is 2026-03-08 .. 2026-03-10


def ms(text):
    """'YYYY-MM-DD[ HH:MM:SS.SSS]' (UTC) as command_calls.called_ms."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# Users: A, B old; C, D, F, G new in the period; E only before it.
A, B, C, D, E, F, G = 1, 2, 3, 4, 5, 6, 7
# (called_at, uid, command, duration_ms, outcome)
CALLS = [
    ("2026-03-01 10:00:00.000", A, "profile", 10.0, "ok"),  # before the period
    ("2026-03-01 11:00:00.000", B, "queue", 50.0, "ok"),
    ("2026-03-01 12:00:00.000", E, "help", 5.0, "ok"),
    ("2026-03-08 00:00:00.000", A, "queue", 100.0, "ok"),  # first moment of the period
    ("2026-03-08 09:00:00.000", A, "queue", 200.0, "rejected"),
    ("2026-03-08 10:00:00.000", B, "profile", 20.0, "ok"),
    ("2026-03-08 23:59:59.999", B, "queue", 300.0, "error"),
    ("2026-03-09 08:00:00.000", A, "profile", 30.0, "refused:dm_only"),
    ("2026-03-09 09:00:00.000", C, "help", 1.0, "ok"),
    ("2026-03-09 09:05:00.000", C, "setup", 400.0, "ok"),
    ("2026-03-09 10:00:00.000", G, "termsofservice", 25.0, "ok"),
    ("2026-03-10 07:00:00.000", D, "termsofservice", 15.0, "ok"),
    ("2026-03-10 07:05:00.000", D, "setup", 500.0, "ok"),
    ("2026-03-10 07:10:00.000", D, "queue", 120.0, "ok"),
    ("2026-03-10 08:00:00.000", A, "queue", 400.0, "ok"),
    ("2026-03-10 09:00:00.000", C, "queue", 600.0, "refused:setup"),
    ("2026-03-10 10:00:00.000", F, "help", 2.0, "ok"),
    ("2026-03-11 00:00:00.000", A, "queue", 9999.0, "ok"),  # after the period (tomorrow)
]
# (uid, accepted_tos, completed_setup)
PLAYERS = [(A, 1, 1), (B, 1, 1), (C, 1, 1), (D, 1, 1), (G, 1, 0)]
# (status, player1, player2)
MATCHES = [("finished", A, D), ("cancelled", C, B)]


async def new_database(path):
    db = await Database.open(path)  # the real migrations
    await db.close()
    return path


def fill(path, calls=CALLS, players=PLAYERS, matches=MATCHES):
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, player_name, accepted_tos,"
            " completed_setup, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'x', 'x')",
            [(uid, f"user{uid}", f"P{uid}", tos, setup) for uid, tos, setup in players],
        )
        conn.executemany(
            "INSERT INTO matches (status, player1_uid, player1_race, player1_mmr, player2_uid,"
            " player2_race, player2_mmr, map, created_at, confirm_deadline)"
            " VALUES (?, ?, 'terran', 1500, ?, 'zerg', 1500, 'm', 'x', 'x')",
            matches,
        )
        conn.executemany(
            "INSERT INTO command_calls (called_ms, discord_uid, player_name, command,"
            " duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [(ms(at), uid, f"P{uid}", cmd, took, out) for at, uid, cmd, took, out in calls],
        )


@pytest.fixture
async def db_path(tmp_path):
    path = await new_database(tmp_path / "ladder.db")
    fill(path)
    return path


def collect(path, days=3):
    conn = stats.open_readonly(path)
    try:
        return stats.collect(conn, days=days, now=NOW, database=str(path))
    finally:
        conn.close()


def miss_every_bracket(monkeypatch):
    """Make every duration bracket miss, so that each command falls back to sorting them all."""
    monkeypatch.setattr(percentiles, "brackets", lambda sample: (math.inf, math.inf, math.inf))


@pytest.fixture(params=["brackets", "fallback"])
def strategy(request, monkeypatch):
    """Run a test with both ways of computing percentiles: brackets, and sorting them all."""
    if request.param == "fallback":
        miss_every_bracket(monkeypatch)


def test_percentile_rank_is_nearest_rank():
    assert stats.percentile_rank(50, 1) == 1
    assert stats.percentile_rank(50, 4) == 2
    assert stats.percentile_rank(50, 5) == 3
    assert stats.percentile_rank(95, 20) == 19
    assert stats.percentile_rank(95, 6) == 6
    assert stats.percentile_rank(99, 100) == 99
    assert stats.percentile_rank(99, 101) == 100


def test_period_bounds_are_utc_midnights_in_ms():
    assert stats.period_bounds(NOW, 1) == (ms("2026-03-10"), ms("2026-03-11"))
    assert stats.period_bounds(NOW, 3) == (ms("2026-03-08"), ms("2026-03-11"))


def test_hand_computed_report(db_path, strategy):
    report = collect(db_path)
    assert (report.first_day, report.last_day, report.days) == ("2026-03-08", "2026-03-10", 3)
    assert report.calls == 14
    assert report.players == 6  # A, B, C, D, F, G
    C_ = stats.CommandStats
    assert report.commands == (
        C_("queue", 6, 4, 3, 1, 1, 1, 0, 200.0, 600.0, 600.0, 600.0),
        C_("help", 2, 2, 2, 0, 0, 0, 0, 1.0, 2.0, 2.0, 2.0),
        C_("profile", 2, 2, 1, 1, 0, 0, 0, 20.0, 30.0, 30.0, 30.0),
        C_("setup", 2, 2, 2, 0, 0, 0, 0, 400.0, 500.0, 500.0, 500.0),
        C_("termsofservice", 2, 2, 2, 0, 0, 0, 0, 15.0, 25.0, 25.0, 25.0),
    )
    assert [(o.outcome, o.calls) for o in report.outcomes] == [
        ("ok", 10),
        ("error", 1),
        ("refused:dm_only", 1),
        ("refused:setup", 1),
        ("rejected", 1),
    ]
    assert report.outcomes[0].share == pytest.approx(10 / 14)
    D_ = stats.DayStats
    assert report.per_day == (
        D_("2026-03-08", 4, 2, 2, 0, 1, 1, 0),
        D_("2026-03-09", 4, 3, 3, 1, 0, 0, 0),
        D_("2026-03-10", 6, 4, 5, 1, 0, 0, 0),
    )
    assert [(s.duration_ms, s.command, s.discord_uid) for s in report.slowest] == [
        (600.0, "queue", C),
        (500.0, "setup", D),
        (400.0, "setup", C),  # a tie: the earlier call first
        (400.0, "queue", A),
        (300.0, "queue", B),
        (200.0, "queue", A),
        (120.0, "queue", D),
        (100.0, "queue", A),
        (30.0, "profile", A),
        (25.0, "termsofservice", G),
    ]
    assert report.slowest[0] == stats.SlowCall(
        "2026-03-10 09:00:00.000", "queue", C, "P3", "refused:setup", 600.0
    )
    # Cohort C, D, F, G. C queued (a match, though its /queue was refused), D finished a match,
    # F never decided on the terms, G accepted only.
    assert [(f.step, f.users) for f in report.funnel] == [
        ("first command", 4),
        ("accepted the terms", 3),
        ("finished setup", 2),
        ("queued", 2),
        ("finished a match", 1),
    ]
    assert [f.of_first for f in report.funnel] == [None, 0.75, 0.5, 0.5, 0.25]
    assert report.funnel[2].of_previous == pytest.approx(2 / 3)
    assert report.funnel[4].of_previous == 0.5


def test_one_day_period(db_path):
    report = collect(db_path, days=1)
    assert report.calls == 6
    assert report.players == 4
    assert [c.command for c in report.commands] == [
        "queue",
        "help",
        "setup",
        "termsofservice",
    ]
    assert [f.users for f in report.funnel] == [2, 1, 1, 1, 1]  # D and F joined today


async def test_an_empty_database(tmp_path):
    path = await new_database(tmp_path / "ladder.db")
    report = collect(path)
    assert report.calls == report.players == 0
    assert report.commands == report.outcomes == report.slowest == ()
    assert [d.calls for d in report.per_day] == [0, 0, 0]
    assert [f.users for f in report.funnel] == [0] * 5
    text = stats.render_table(report)
    assert "(none)" in text


async def test_brackets_and_fallback_match_a_naive_computation(tmp_path, monkeypatch):
    """Random calls over 10 days; every number checked against plain Python."""
    monkeypatch.setattr(queries, "SAMPLE_POINTS", 4)  # 64 durations a command: real brackets
    monkeypatch.setattr(queries, "SAMPLE_ROWS", 16)
    path = await new_database(tmp_path / "ladder.db")
    rng = random.Random(3)
    outcomes = ["ok", "ok", "ok", "rejected", "error", "refused:terms", "cancelled"]
    calls = []
    for _ in range(3000):
        day = rng.randrange(1, 11)
        at = f"2026-03-{day:02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00.000"
        calls.append(
            (
                at,
                rng.randrange(1, 60),
                rng.choice(["queue", "profile", "admin resolve", "help"]),
                float(rng.randrange(1, 400)),  # many ties
                rng.choice(outcomes),
            )
        )
    fill(path, calls=calls, players=[], matches=[])
    in_period = [c for c in calls if c[0] >= "2026-03-06"]  # 5 days: 06 .. 10

    found = []
    from_brackets = percentiles.from_brackets

    def spy(*args):
        found.append(from_brackets(*args))
        return found[-1]

    monkeypatch.setattr(percentiles, "from_brackets", spy)
    brackets = collect(path, days=5)
    assert len(found) == 4 and None not in found  # no command fell back
    miss_every_bracket(monkeypatch)
    fallback = collect(path, days=5)
    assert brackets.commands == fallback.commands
    assert brackets.per_day == fallback.per_day
    assert brackets.slowest == fallback.slowest
    assert brackets.calls == len(in_period)
    assert brackets.players == len({c[1] for c in in_period})
    for command in brackets.commands:
        mine = [c for c in in_period if c[2] == command.command]
        durations = sorted(c[3] for c in mine)
        n = len(durations)
        assert command.calls == n
        assert command.players == len({c[1] for c in mine})
        assert command.p50_ms == durations[stats.percentile_rank(50, n) - 1]
        assert command.p95_ms == durations[stats.percentile_rank(95, n) - 1]
        assert command.p99_ms == durations[stats.percentile_rank(99, n) - 1]
        assert command.max_ms == durations[-1]
        assert command.errors == sum(c[4] == "error" for c in mine)
        assert command.refused == sum(c[4].startswith("refused:") for c in mine)
    for day in brackets.per_day:
        mine = [c for c in in_period if c[0].startswith(day.day)]
        assert (day.calls, day.players) == (len(mine), len({c[1] for c in mine}))
    top = sorted((c[3] for c in in_period), reverse=True)[: stats.SLOWEST_CALLS]
    assert [s.duration_ms for s in brackets.slowest] == top


def test_brackets_come_from_the_sample_or_are_open():
    sample = [float(v) for v in range(1000)]
    low, high, tail = percentiles.brackets(sample)
    assert low < 500 < high and high - low < 200
    assert 870 < tail < 950
    assert low <= tail  # _DURATIONS_SQL relies on it
    assert percentiles.brackets([5.0, 6.0]) == (-math.inf, math.inf, -math.inf)  # few: everything


async def test_a_queue_call_after_the_period_counts_as_queued(tmp_path):
    """The funnel is the furthest step by now, as in the players and matches tables."""
    path = await new_database(tmp_path / "ladder.db")
    calls = [
        ("2026-03-10 09:00:00.000", C, "setup", 400.0, "ok"),
        ("2026-03-11 09:00:00.000", C, "queue", 100.0, "ok"),  # after the period
    ]
    fill(path, calls=calls, players=[(C, 1, 1)], matches=[])
    report = collect(path, days=1)
    assert [f.users for f in report.funnel] == [1, 1, 1, 1, 0]


def plans(conn, sql, params):
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def test_the_heavy_queries_read_indexes_and_never_sort(db_path):
    """What keeps stats fast on 10M rows: range reads of covering indexes, seeks, no sorter."""
    conn = stats.open_readonly(db_path)
    try:
        period = {"command": "queue", "start": ms("2026-03-08"), "end": ms("2026-03-11")}
        bounds = {"low": 10.0, "high": 20.0, "tail": 30.0}
        reads = [
            (queries._DAY_SQL, {**period, **bounds, "separator": ","}),
            (queries._QUEUE_DAY_SQL, {**period, **bounds, "separator": ","}),
            (queries._DURATIONS_SQL, {**period, **bounds}),
            (queries._SAMPLE_SQL, {**period, "rows": 64}),
        ]
        for sql, params in reads:
            plan = plans(conn, sql, params)
            assert (
                "SEARCH command_calls USING COVERING INDEX command_calls_by_command"
                " (command=? AND called_ms>? AND called_ms<?)"
            ) in plan
            assert not any("TEMP B-TREE" in p or "SCAN command_calls" in p for p in plan)
        assert not any("SCAN command_calls" in p for p in plans(conn, queries._COMMANDS_SQL, {}))
        funnel = plans(
            conn,
            queries._FUNNEL_SQL,
            {**period, "users": "[1]", "queued": "[]", "queue_commands": '["queue"]'},
        )
        assert any("COVERING INDEX command_calls_by_player" in p for p in funnel)
        assert not any("SCAN command_calls" in p for p in funnel)
        slowest = plans(conn, queries._SLOWEST_SQL, {**period, "least": 100.0, "limit": 10})
        assert slowest[0] == (
            "SEARCH command_calls USING COVERING INDEX command_calls_by_command"
            " (command=? AND called_ms>? AND called_ms<?)"
        )
        assert slowest[1:] == ["USE TEMP B-TREE FOR ORDER BY"]  # keeps 10 rows
        slow = plans(conn, queries._SLOW_CALLS_SQL, {"ids": "[1, 2]"})
        assert not any("SCAN command_calls" in p for p in slow)
    finally:
        conn.close()


# --- main: formats, errors, read-only ---------------------------------------------------


def run(argv, path, now=NOW):
    out = io.StringIO()
    status = stats.main(argv, path, out=out, now=now)
    return status, out.getvalue()


def test_table_format(db_path):
    status, text = run(["--days", "3"], db_path)
    assert status == 0
    assert text.startswith(f"ladderbot stats · {db_path}\n2026-03-08 → 2026-03-10 (3 UTC days")
    for section in stats.sections(collect(db_path)):
        assert f"\n{section.title}\n" in text
    lines = text.splitlines()
    header = lines.index("Calls by command") + 1
    assert lines[header].split() == [
        "command",
        "calls",
        "players",
        "ok",
        "refused",
        "rejected",
        "errors",
        "cancelled",
    ]
    assert lines[header + 2].split() == ["queue", "6", "4", "3", "1", "1", "1", "0"]
    # Aligned: every line of a table is as long as its dashes (right-aligned numbers).
    assert len(lines[header + 1]) == len(lines[header + 2])
    assert "2026-03-10 09:00:00.000  queue" in text
    assert "accepted the terms      3     75.0%        75.0%" in text


def test_csv_one_section_is_a_plain_table(db_path):
    status, text = run(["--days", "3", "--format", "csv", "--section", "latency"], db_path)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {
        "command": "queue",
        "calls": "6",
        "p50_ms": "200.0",
        "p95_ms": "600.0",
        "p99_ms": "600.0",
        "max_ms": "600.0",
    }
    assert [r["command"] for r in rows] == ["queue", "setup", "profile", "termsofservice", "help"]


def test_csv_all_sections(db_path):
    status, text = run(["--days", "3", "--format", "csv"], db_path)
    assert status == 0
    blocks = text.split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [f"# {key}" for key in stats.SECTIONS]
    funnel = list(csv.reader(io.StringIO(blocks[-1])))
    assert funnel[1] == ["step", "users", "of_first", "of_previous"]
    assert funnel[2] == ["first command", "4", "", ""]
    assert funnel[3] == ["accepted the terms", "3", "0.75", "0.75"]


def test_json(db_path):
    status, text = run(["--days", "3", "--format", "json"], db_path)
    assert status == 0
    data = json.loads(text)
    assert data["period"] == {"first_day": "2026-03-08", "last_day": "2026-03-10", "days": 3}
    assert data["totals"] == {"calls": 14, "players": 6}
    assert set(stats.SECTIONS) <= set(data)
    assert data["commands"][0]["command"] == "queue"
    assert data["days"][2] == {
        "day": "2026-03-10",
        "calls": 6,
        "players": 4,
        "ok": 5,
        "refused": 1,
        "rejected": 0,
        "errors": 0,
        "cancelled": 0,
    }
    status, text = run(["--days", "3", "--format", "json", "--section", "outcomes"], db_path)
    assert json.loads(text) == {"outcomes": json.loads(text)["outcomes"]}


def test_db_option_overrides_the_default(db_path, tmp_path):
    status, text = run(["--db", str(db_path), "--section", "commands"], tmp_path / "nope.db")
    assert status == 0
    assert "queue" in text


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path, capsys):
    path = tmp_path / "missing.db"
    status, _ = run([], path)
    assert status == 1
    assert f"no database at {path}" in capsys.readouterr().err
    assert not path.exists()


def test_an_old_schema_asks_to_start_the_bot(tmp_path, capsys):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE command_calls (id INTEGER PRIMARY KEY)")
        conn.execute("PRAGMA user_version = 2")
    status, _ = run([], path)
    assert status == 1
    assert "Start the bot once" in capsys.readouterr().err


def test_usage_errors(db_path, capsys):
    assert run(["--days", "0"], db_path)[0] == 2
    assert run(["--days", str(stats.MAX_DAYS + 1)], db_path)[0] == 2
    assert run(["--days", str(stats.MAX_DAYS)], db_path)[0] == 0
    assert run(["--format", "xml"], db_path)[0] == 2
    assert run(["--help"], db_path)[0] == 0
    assert "--days" in capsys.readouterr().out


async def test_read_only_and_not_blocked_by_the_bot_writing(db_path):
    """Stats reads while the bot's connection holds a write transaction, and writes nothing."""
    db = await Database.open(db_path)
    try:
        before = db_path.read_bytes()
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO command_calls (called_ms, discord_uid, command, duration_ms,"
                " outcome) VALUES (?, 9, 'help', 1, 'ok')",
                (ms("2026-03-10 11:00:00.000"),),
            )
            status, text = run(["--section", "commands"], db_path)  # mid-transaction
            assert status == 0
            assert "help" in text
        assert db_path.read_bytes() == before  # the new row is in the WAL, not the file
        status, text = run(["--format", "json", "--section", "days"], db_path)
        assert json.loads(text)["days"][-1]["calls"] == 7  # sees the committed row
    finally:
        await db.close()
    # Stats opened with mode=ro: it could not have written even if it tried.
    conn = stats.open_readonly(db_path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            conn.execute("DELETE FROM command_calls")
    finally:
        conn.close()
