"""Benchmark: `python bot.py stats` on a database holding 10M command_calls rows.

    python bench/bench_stats.py [--rows 10000000] [--span-days 30] [--runs 3] [--keep PATH]

It builds a fresh SQLite file with the real migrations (`storage.database.migrations()`, so the
real table, indexes and views), then fills it with executemany: `--players` players at every
stage of onboarding, some matches, and `--rows` command_calls rows spread evenly over the last
`--span-days` days (commands with skewed popularity, log-normal durations, a realistic outcome
mix). It then times `app.stats.main` for 1, 7 and 30 days, `--runs` times each, output to
/dev/null, and prints the best and median wall times and one 7-day report.

With `--keep PATH` the database is written to PATH and reused by later runs (the rows are only
generated when PATH does not exist yet).
"""

from __future__ import annotations

import argparse
import bisect
import io
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import stats
from storage.database import format_time, migrations

# (command, share of calls, median duration ms)
COMMANDS = [
    ("queue", 0.22, 180.0),
    ("profile", 0.16, 35.0),
    ("leaderboard", 0.14, 60.0),
    ("report", 0.10, 220.0),
    ("help", 0.08, 8.0),
    ("setup", 0.06, 450.0),
    ("termsofservice", 0.05, 25.0),
    ("setcountry", 0.04, 90.0),
    ("dequeue", 0.05, 70.0),
    ("abort", 0.03, 150.0),
    ("dispute", 0.02, 300.0),
    ("admin status", 0.02, 40.0),
    ("admin resolve", 0.01, 600.0),
    ("admin ban", 0.01, 200.0),
    ("history", 0.01, 120.0),
]
OUTCOMES = [
    ("ok", 0.90),
    ("refused:terms", 0.03),
    ("refused:setup", 0.02),
    ("refused:banned", 0.003),
    ("refused:admin", 0.005),
    ("refused:dm_only", 0.01),
    ("rejected", 0.025),
    ("error", 0.005),
    ("cancelled", 0.002),
]
CHUNK = 100_000


def build(path: Path, rows: int, players: int, span_days: int, seed: int = 7) -> None:
    """Create the database at `path` and fill it; prints progress to stderr.

    Every migration runs first; command_calls' indexes are then dropped, the rows inserted,
    and the same indexes (their SQL as the migrations left it) built once over the filled table:
    much faster than growing them row by row.
    Users join over the span: 10% are there at the start, the rest arrive evenly; each call
    picks an active user (mostly the old ones), so new users appear every day for the funnel.
    """
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    # Fast to fill: no journal while generating; WAL (like the bot's file) once filled.
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    for version, _name, sql in migrations():
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_schema"
        " WHERE type = 'index' AND tbl_name = 'command_calls' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')

    now = datetime.now(UTC)
    start = now - timedelta(days=span_days)
    span_ms = span_days * 86_400_000
    start_ms = int(start.timestamp() * 1000)
    uids = [10**17 + i * 7919 for i in range(players)]

    def joined_ms(index: int) -> int:
        """When user `index` joins: the first 10% at the start, the rest evenly after."""
        return start_ms + int(span_ms * max(0.0, (index / players - 0.1) / 0.9))

    player_rows = []
    ready = []  # (joined_ms, uid) of players who finished setup
    for i, uid in enumerate(uids):
        if rng.random() < 0.1:
            continue  # only ran /help or /termsofservice without deciding: no players row
        at_ms = joined_ms(i) + rng.randrange(60_000)
        stage = rng.random()
        tos = stage < 0.85
        setup = stage < 0.65
        stamp = format_time(datetime.fromtimestamp(at_ms / 1000, UTC))
        later = format_time(datetime.fromtimestamp(at_ms / 1000 + 300, UTC))
        player_rows.append(
            (
                uid,
                f"user{i}",
                f"Player{i}" if setup else None,
                int(tos),
                stamp,
                int(setup),
                later if setup else None,
                stamp,
                later,
            )
        )
        if setup:
            ready.append((at_ms + 300_000, uid))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO players (discord_uid, discord_name, player_name, accepted_tos,"
        " accepted_tos_at, completed_setup, completed_setup_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        player_rows,
    )
    match_rows = []
    ready.sort()
    ready_at = [joined for joined, _ in ready]
    for _ in range(players * 2):
        at_ms = start_ms + rng.randrange(span_ms)
        eligible = max(2, bisect.bisect_right(ready_at, at_ms))  # set up by then
        low = eligible - 500 if rng.random() < 0.3 and eligible > 500 else 0  # newcomers
        one, two = rng.sample(range(low, eligible), 2)
        at = format_time(datetime.fromtimestamp(at_ms / 1000, UTC))
        status = "finished" if rng.random() < 0.9 else "aborted"
        match_rows.append(
            (status, ready[one][1], ready[two][1], at, at, at if status == "finished" else None)
        )
    conn.executemany(
        "INSERT INTO matches (status, player1_uid, player1_race, player1_mmr, player2_uid,"
        " player2_race, player2_mmr, map, created_at, confirm_deadline, ended_at)"
        " VALUES (?, ?, 'terran', 1500, ?, 'zerg', 1500, 'map', ?, ?, ?)",
        match_rows,
    )
    conn.execute("COMMIT")

    names = [c for c, _, _ in COMMANDS]
    weights = [w for _, w, _ in COMMANDS]
    medians = {c: m for c, _, m in COMMANDS}
    outcome_names = [o for o, _ in OUTCOMES]
    outcome_weights = [w for _, w in OUTCOMES]
    step_ms = span_ms / rows
    random_ = rng.random
    lognorm = rng.lognormvariate
    started = time.perf_counter()
    for first in range(0, rows, CHUNK):
        count = min(CHUNK, rows - first)
        commands = rng.choices(names, weights, k=count)
        outcomes = rng.choices(outcome_names, outcome_weights, k=count)
        batch = []
        for k in range(count):
            i = first + k
            active = max(1, int(players * (0.1 + 0.9 * i / rows)))
            # Mostly the long-standing users, some of anyone who has joined by now.
            pick = active * random_() ** 3 if random_() < 0.8 else active * random_()
            uid = uids[int(pick)]
            command = commands[k]
            batch.append(
                (
                    None,
                    start_ms + int(i * step_ms),
                    uid,
                    f"Player{uid % 1000}",
                    command,
                    None if i % 5 else 123456789012345678,
                    round(lognorm(0, 0.8) * medians[command], 3),
                    outcomes[k],
                )
            )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO command_calls (interaction_id, called_ms, discord_uid, player_name,"
            " command, guild_id, duration_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        conn.execute("COMMIT")
        done = first + count
        if done % 1_000_000 == 0 or done == rows:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>11,} rows ({rate:,.0f} rows/s)", file=sys.stderr)
    t0 = time.perf_counter()
    for _name, sql in indexes:
        conn.execute(sql)
    print(f"  indexes built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def time_stats(path: Path, days: int, runs: int) -> list[float]:
    """Wall time of `stats --days N` (table format, output discarded), `runs` times."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        status = stats.main(["--days", str(days)], path, out=io.StringIO())
        times.append(time.perf_counter() - t0)
        if status != 0:
            raise SystemExit(f"stats exited with {status}")
    return times


# The same questions asked the plain way: GROUP BY, count(DISTINCT) and window functions over
# the period's rows (what app/stats/queries.py avoids), the planner choosing the indexes.
# Timed once with --naive, for comparison.
NAIVE_SQL = [
    "SELECT command, called_ms / 86400000 AS day, outcome, count(*) FROM command_calls"
    " WHERE called_ms >= :since GROUP BY command, day, outcome",
    "SELECT command, count(DISTINCT discord_uid) FROM command_calls WHERE called_ms >= :since"
    " GROUP BY command",
    "SELECT called_ms / 86400000 AS day, count(DISTINCT discord_uid) FROM command_calls"
    " WHERE called_ms >= :since GROUP BY day",
    """WITH ranked AS (
        SELECT command, duration_ms,
            row_number() OVER (PARTITION BY command ORDER BY duration_ms) AS position,
            count(*) OVER (PARTITION BY command) AS n
        FROM command_calls WHERE called_ms >= :since
    )
    SELECT command, max(CASE WHEN position = (50 * n + 99) / 100 THEN duration_ms END),
        max(CASE WHEN position = (95 * n + 99) / 100 THEN duration_ms END),
        max(CASE WHEN position = (99 * n + 99) / 100 THEN duration_ms END)
    FROM ranked GROUP BY command""",
    "SELECT * FROM command_calls WHERE called_ms >= :since ORDER BY duration_ms DESC LIMIT 10",
]


def time_naive(path: Path, days: int) -> float:
    since, _ = stats.period_bounds(datetime.now(UTC), days)
    conn = stats.open_readonly(path)
    try:
        t0 = time.perf_counter()
        for sql in NAIVE_SQL:
            conn.execute(sql, {"since": since}).fetchall()
        return time.perf_counter() - t0
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--players", type=int, default=20_000)
    parser.add_argument("--span-days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="database file to create once and reuse")
    parser.add_argument(
        "--naive", action="store_true", help="also time plain GROUP BY / window SQL for 7 days"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        path = args.keep or Path(tmp) / "ladder.db"
        if not path.exists():
            print(f"Generating {args.rows:,} command_calls rows into {path}", file=sys.stderr)
            t0 = time.perf_counter()
            build(path, args.rows, args.players, args.span_days)
            print(f"  built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            total = conn.execute("SELECT count(*) FROM command_calls").fetchone()[0]
        size_mb = path.stat().st_size / 1e6

        print(
            f"bench_stats: {total:,} command_calls rows over {args.span_days} days, "
            f"{args.players:,} players, database {size_mb:,.0f} MB"
        )
        print(
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"{platform.machine()}, {os.cpu_count()} cpus"
        )
        print()
        print(
            f"{'period':<10}{'rows in period':>16}{'share':>8}"
            f"{'best s':>9}{'median s':>10}{'runs':>6}"
        )
        for days in (1, 7, 30):
            since, _ = stats.period_bounds(datetime.now(UTC), days)
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                in_period = conn.execute(
                    "SELECT count(*) FROM command_calls WHERE called_ms >= ?", (since,)
                ).fetchone()[0]
            times = time_stats(path, days, args.runs)
            print(
                f"{f'{days} day' + 's' * (days > 1):<10}{in_period:>16,}{in_period / total:>8.1%}"
                f"{min(times):>9.2f}{statistics.median(times):>10.2f}{len(times):>6}"
            )
        if args.naive:
            print()
            print(
                f"Plain SQL (GROUP BY, count(DISTINCT), window functions), 7 days, once: "
                f"{time_naive(path, 7):.1f} s"
            )
        print()
        print("The 7-day report (python bot.py stats --days 7):")
        print()
        stats.main(["--days", "7"], path, out=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
