"""`python bot.py stats`: how the bot was used over the last N UTC days, from `command_calls`.

    python bot.py stats [--days 7] [--format table|csv|json] [--section NAME] [--db PATH]

Read-only and safe while the bot runs: the file is opened with `mode=ro` (nothing is ever
written), and every query runs in one read transaction, so the numbers are one consistent
snapshot. In WAL mode a reader never blocks the bot's writer.

The period is the last `--days` whole UTC calendar days, today included (`--days 1` is today so
far). The report: calls and distinct players per command, the outcome mix, nearest-rank duration
percentiles per command, the slowest calls, calls and players per day, and the onboarding funnel
of the users whose first command ever falls in the period.

It stays fast on a large table (see bench/bench_stats.py) because no query reads or sorts every
row of the period where an index can answer instead (migration 0003 adds the indexes):

* calls per (command, outcome, day) are range counts on (command, outcome, called_at);
* a percentile is the k-th entry of an ordered walk of (command, duration_ms, called_at), from
  whichever end is nearer; no sort;
* distinct players per command is one seek per (command, player) pair on
  (command, discord_uid, called_at), and players per day one seek per (player, active day) on
  (discord_uid, called_at).

An ordered walk reads the command's whole history, though, not just the period. When the period
holds a small share of the table (`SPARSE_SHARE`), or a command has few calls in it
(`SMALL_COMMAND`), reading the period's rows and sorting them in Python is cheaper, and that is
what happens. Both ways give the same numbers (the tests check it).
"""

from __future__ import annotations

import argparse
import csv
import heapq
import io
import json
import os
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from storage.database import format_time

# The migration that adds the indexes the queries below name.
MIN_SCHEMA_VERSION = 3
# Commands that put a player in the queue: an 'ok' one is the funnel's "queued" step.
QUEUE_COMMANDS = ("queue",)
PERCENTILES = (50, 95, 99)
SLOWEST_CALLS = 10
# Below this share of the table in the period, sort the period's durations in Python instead of
# walking each command's whole history in index order. Measured on 10M rows (bench_stats.py):
# the walks cost ~0.08 µs per row of the table, fetching and sorting ~2.3 µs per row of the
# period: break-even near 3%.
SPARSE_SHARE = 0.03
# A command with at most this many calls in the period is always fetched and sorted (a few ms).
SMALL_COMMAND = 2_000
MAX_DAYS = 3660  # ten years: the per-day counts are one range count per (command, outcome, day)
FORMATS = ("table", "csv", "json")
SECTIONS = ("commands", "latency", "outcomes", "slowest", "days", "funnel")
FUNNEL_STEPS = (
    "first command",
    "accepted the terms",
    "finished setup",
    "queued",
    "finished a match",
)


class StatsError(Exception):
    """The report cannot be made; the message is one line for the host."""


# --- the report --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandStats:
    """One command over the period. Durations in ms; None when it has no calls."""

    command: str
    calls: int
    players: int
    ok: int
    refused: int  # every 'refused:<guard>'
    rejected: int
    errors: int
    cancelled: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True, slots=True)
class OutcomeStats:
    outcome: str  # as stored: 'ok', 'refused:terms', 'rejected', 'error', 'cancelled'
    calls: int
    share: float  # of all calls in the period, 0..1


@dataclass(frozen=True, slots=True)
class SlowCall:
    called_at: str
    command: str
    discord_uid: int
    player_name: str | None
    outcome: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class DayStats:
    day: str  # 'YYYY-MM-DD', UTC
    calls: int
    players: int
    ok: int
    refused: int
    rejected: int
    errors: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class FunnelStep:
    step: str
    users: int  # users of the cohort who reached this step (and so every step before it)
    of_first: float | None  # share of the first step, 0..1
    of_previous: float | None  # share of the step before


@dataclass(frozen=True, slots=True)
class StatsReport:
    database: str
    generated_at: str  # UTC, like every *_at column
    first_day: str
    last_day: str
    days: int
    calls: int
    players: int  # distinct users with a command in the period
    commands: tuple[CommandStats, ...]  # most calls first
    outcomes: tuple[OutcomeStats, ...]  # most calls first
    slowest: tuple[SlowCall, ...]  # slowest first
    per_day: tuple[DayStats, ...]  # every day of the period, oldest first
    funnel: tuple[FunnelStep, ...]
    seconds: float  # time spent querying


def period_start(now: datetime, days: int) -> str:
    """The period's first moment: 00:00 UTC of the first of the last `days` UTC days."""
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    return f"{first.isoformat()} 00:00:00.000"


def percentile_rank(p: int, n: int) -> int:
    """The 1-based nearest rank of percentile `p` (integer, 1..100) among n > 0 values."""
    return (p * n + 99) // 100  # ceil(p * n / 100), in integers


# --- queries -----------------------------------------------------------------------------

# Every distinct command, one index seek each (a skip scan: the planner would read every row).
_COMMANDS = """
commands(command) AS (
    SELECT min(command) FROM command_calls
    UNION ALL
    SELECT (SELECT min(command) FROM command_calls WHERE command > commands.command)
    FROM commands WHERE command IS NOT NULL
)"""

# Every distinct user, one seek each on command_calls_by_player.
_USERS = """
users(uid) AS (
    SELECT min(discord_uid) FROM command_calls INDEXED BY command_calls_by_player
    UNION ALL
    SELECT (
        SELECT min(discord_uid) FROM command_calls INDEXED BY command_calls_by_player
        WHERE discord_uid > users.uid
    )
    FROM users WHERE uid IS NOT NULL
)"""

# Calls per (command, outcome, day): every (command, outcome) pair ever seen, found by seeks,
# then one range count per pair and day.
_COUNTS_SQL = f"""
WITH RECURSIVE {_COMMANDS},
pairs(command, outcome) AS (
    SELECT command, (
        SELECT min(outcome) FROM command_calls INDEXED BY command_calls_by_command_outcome
        WHERE command = commands.command
    )
    FROM commands WHERE command IS NOT NULL
    UNION ALL
    SELECT command, (
        SELECT min(outcome) FROM command_calls INDEXED BY command_calls_by_command_outcome
        WHERE command = pairs.command AND outcome > pairs.outcome
    )
    FROM pairs WHERE outcome IS NOT NULL
),
days(day) AS (
    SELECT :first_day
    UNION ALL
    SELECT date(day, '+1 day') FROM days WHERE day < :last_day
)
SELECT command, outcome, day, (
    SELECT count(*) FROM command_calls AS c INDEXED BY command_calls_by_command_outcome
    WHERE c.command = pairs.command AND c.outcome = pairs.outcome
      AND c.called_at >= days.day AND c.called_at < date(days.day, '+1 day')
) AS calls
FROM pairs, days
WHERE outcome IS NOT NULL
"""

# Distinct players per command, walking every (command, player) pair ever seen.
_PLAYERS_BY_PAIRS_SQL = f"""
WITH RECURSIVE {_COMMANDS},
pairs(command, uid) AS (
    SELECT command, (
        SELECT min(discord_uid) FROM command_calls INDEXED BY command_calls_by_command_player
        WHERE command = commands.command
    )
    FROM commands WHERE command IS NOT NULL
    UNION ALL
    SELECT command, (
        SELECT min(discord_uid) FROM command_calls INDEXED BY command_calls_by_command_player
        WHERE command = pairs.command AND discord_uid > pairs.uid
    )
    FROM pairs WHERE uid IS NOT NULL
)
SELECT command, count(*) FROM pairs
WHERE uid IS NOT NULL AND EXISTS (
    SELECT 1 FROM command_calls AS c INDEXED BY command_calls_by_command_player
    WHERE c.command = pairs.command AND c.discord_uid = pairs.uid
      AND c.called_at >= :since AND c.called_at < :until
)
GROUP BY command
"""

# Distinct players per command from the period's rows (cheaper when the period is a small share).
_PLAYERS_BY_ROWS_SQL = """
SELECT count(DISTINCT discord_uid)
FROM command_calls INDEXED BY command_calls_by_command
WHERE command = :command AND called_at >= :since AND called_at < :until
"""

# Players per day: for each user, the first call in the period, then the first call after each
# active day; one seek per (user, active day). ' ~' sorts after any time of that day.
_ACTIVITY_SQL = f"""
WITH RECURSIVE {_USERS},
seen(uid, at) AS (
    SELECT uid, (
        SELECT min(called_at) FROM command_calls INDEXED BY command_calls_by_player
        WHERE discord_uid = users.uid AND called_at >= :since AND called_at < :until
    )
    FROM users WHERE uid IS NOT NULL
    UNION ALL
    SELECT uid, (
        SELECT min(called_at) FROM command_calls INDEXED BY command_calls_by_player
        WHERE discord_uid = seen.uid
          AND called_at > substr(seen.at, 1, 10) || ' ~' AND called_at < :until
    )
    FROM seen WHERE at IS NOT NULL
)
SELECT substr(at, 1, 10) AS day, count(*) FROM seen WHERE at IS NOT NULL GROUP BY day
"""

# Distinct users with a command in the period: one seek per user.
_PLAYERS_SQL = f"""
WITH RECURSIVE {_USERS}
SELECT count(*) FROM users
WHERE uid IS NOT NULL AND EXISTS (
    SELECT 1 FROM command_calls INDEXED BY command_calls_by_player
    WHERE discord_uid = users.uid AND called_at >= :since AND called_at < :until
)
"""

# The funnel's cohort (users whose first command ever is in the period) and the furthest step
# each reached by now: 0 first command .. 4 finished a match. Reaching a step implies the ones
# before it (a player who queued accepted the terms, even if they withdrew it since).
_FUNNEL_SQL = f"""
WITH RECURSIVE {_USERS},
firsts(uid, first_at) AS (
    SELECT uid, (
        SELECT min(called_at) FROM command_calls INDEXED BY command_calls_by_player
        WHERE discord_uid = users.uid
    )
    FROM users WHERE uid IS NOT NULL
),
cohort(uid) AS (SELECT uid FROM firsts WHERE first_at >= :since AND first_at < :until)
SELECT
    CASE
        WHEN EXISTS (SELECT 1 FROM matches WHERE player1_uid = c.uid AND status = 'finished')
          OR EXISTS (SELECT 1 FROM matches WHERE player2_uid = c.uid AND status = 'finished')
            THEN 4
        WHEN EXISTS (SELECT 1 FROM matches WHERE player1_uid = c.uid)
          OR EXISTS (SELECT 1 FROM matches WHERE player2_uid = c.uid)
          OR EXISTS (
                SELECT 1 FROM command_calls AS q INDEXED BY command_calls_by_command_player
                WHERE q.command IN ({{queue}}) AND q.discord_uid = c.uid AND q.outcome = 'ok'
            )
            THEN 3
        WHEN p.completed_setup = 1 THEN 2
        WHEN p.accepted_tos = 1 THEN 1
        ELSE 0
    END AS stage,
    count(*)
FROM cohort AS c LEFT JOIN players AS p ON p.discord_uid = c.uid
GROUP BY stage
"""

# A percentile by walking the command's durations in order from one end, skipping `offset`.
_WALK_SQL = """
SELECT duration_ms FROM command_calls INDEXED BY command_calls_by_command_duration
WHERE command = ? AND called_at >= ? AND called_at < ?
ORDER BY duration_ms {order} LIMIT 1 OFFSET ?
"""
# The slowest `limit` calls of a command, walking from the slow end.
_TOP_SQL = """
SELECT id, duration_ms FROM command_calls INDEXED BY command_calls_by_command_duration
WHERE command = ? AND called_at >= ? AND called_at < ?
ORDER BY duration_ms DESC LIMIT ?
"""
# Every call of a command in the period (to sort in Python).
_ROWS_SQL = """
SELECT id, duration_ms FROM command_calls INDEXED BY command_calls_by_command
WHERE command = ? AND called_at >= ? AND called_at < ?
"""


def _funnel_sql() -> str:
    return _FUNNEL_SQL.replace("{queue}", ", ".join(f"'{c}'" for c in QUEUE_COMMANDS))


# --- collecting --------------------------------------------------------------------------


def open_readonly(path: Path) -> sqlite3.Connection:
    """Open the database read-only (`mode=ro`): it is never created, never written."""
    if not path.is_file():
        raise StatsError(f"no database at {path}")
    conn = sqlite3.connect(
        path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0, isolation_level=None
    )
    conn.execute("PRAGMA query_only = ON")
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def collect(
    conn: sqlite3.Connection,
    *,
    days: int,
    now: datetime | None = None,
    database: str = "",
    sparse: bool | None = None,
) -> StatsReport:
    """Query the report for the last `days` UTC days in one read transaction.

    `sparse` forces how percentiles and players per command are computed (True: from the
    period's rows; False: by index walks); None chooses by the period's share of the table.
    """
    if not 1 <= days <= MAX_DAYS:
        raise StatsError(f"--days must be from 1 to {MAX_DAYS}")
    version = schema_version(conn)
    if version < MIN_SCHEMA_VERSION:
        raise StatsError(
            f"the database is at schema version {version}; stats needs {MIN_SCHEMA_VERSION} "
            "or later. Start the bot once (it migrates on start), then run stats again."
        )
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = f"{first.isoformat()} 00:00:00.000"
    until = f"{(today + timedelta(days=1)).isoformat()} 00:00:00.000"
    window = {"since": since, "until": until}
    started = time.perf_counter()
    conn.execute("BEGIN")  # one snapshot for every query below
    try:
        counts = conn.execute(
            _COUNTS_SQL, {"first_day": first.isoformat(), "last_day": today.isoformat()}
        ).fetchall()
        counts = [row for row in counts if row[3]]
        period_calls = sum(row[3] for row in counts)
        if sparse is None:
            sparse = period_calls < SPARSE_SHARE * _table_rows(conn)
        by_command: dict[str, Counter[str]] = defaultdict(Counter)
        by_day: dict[str, Counter[str]] = defaultdict(Counter)
        by_outcome: Counter[str] = Counter()
        for command, outcome, day, calls in counts:
            kind = _kind(outcome)
            by_command[command][kind] += calls
            by_command[command]["calls"] += calls
            by_day[day][kind] += calls
            by_day[day]["calls"] += calls
            by_outcome[outcome] += calls

        players_by_command = _players_by_command(conn, list(by_command), window, sparse)
        latency: dict[str, tuple[float, ...]] = {}
        slow_candidates: list[tuple[float, int]] = []
        for command, kinds in by_command.items():
            n = kinds["calls"]
            if sparse or n <= SMALL_COMMAND:
                values, top = _latency_from_rows(conn, command, since, until, n)
            else:
                values, top = _latency_by_walks(conn, command, since, until, n)
            latency[command] = values
            slow_candidates.extend(top)
        slowest = _slow_calls(conn, heapq.nlargest(SLOWEST_CALLS, slow_candidates))
        players_by_day = dict(conn.execute(_ACTIVITY_SQL, window).fetchall())
        players = conn.execute(_PLAYERS_SQL, window).fetchone()[0]
        stages = dict(conn.execute(_funnel_sql(), window).fetchall())
    finally:
        conn.rollback()
    seconds = time.perf_counter() - started

    commands = tuple(
        sorted(
            (
                CommandStats(
                    command=command,
                    calls=kinds["calls"],
                    players=players_by_command.get(command, 0),
                    ok=kinds["ok"],
                    refused=kinds["refused"],
                    rejected=kinds["rejected"],
                    errors=kinds["error"],
                    cancelled=kinds["cancelled"],
                    p50_ms=latency[command][0],
                    p95_ms=latency[command][1],
                    p99_ms=latency[command][2],
                    max_ms=latency[command][3],
                )
                for command, kinds in by_command.items()
            ),
            key=lambda c: (-c.calls, c.command),
        )
    )
    outcomes = tuple(
        OutcomeStats(outcome, calls, calls / period_calls)
        for outcome, calls in sorted(by_outcome.items(), key=lambda item: (-item[1], item[0]))
    )
    per_day = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        kinds = by_day.get(day, Counter())
        per_day.append(
            DayStats(
                day=day,
                calls=kinds["calls"],
                players=players_by_day.get(day, 0),
                ok=kinds["ok"],
                refused=kinds["refused"],
                rejected=kinds["rejected"],
                errors=kinds["error"],
                cancelled=kinds["cancelled"],
            )
        )
    return StatsReport(
        database=database,
        generated_at=format_time(now),
        first_day=first.isoformat(),
        last_day=today.isoformat(),
        days=days,
        calls=period_calls,
        players=players,
        commands=commands,
        outcomes=outcomes,
        slowest=slowest,
        per_day=tuple(per_day),
        funnel=_funnel(stages),
        seconds=seconds,
    )


def _kind(outcome: str) -> str:
    """The column an outcome is counted in."""
    return "refused" if outcome.startswith("refused:") else outcome


def _table_rows(conn: sqlite3.Connection) -> int:
    """About how many rows command_calls holds, from its id range (two seeks, no count)."""
    # Two subqueries: min() and max() together in one SELECT would scan the whole table.
    low, high = conn.execute(
        "SELECT (SELECT min(id) FROM command_calls), (SELECT max(id) FROM command_calls)"
    ).fetchone()
    return 0 if low is None else high - low + 1


def _players_by_command(
    conn: sqlite3.Connection, commands: list[str], window: dict[str, str], sparse: bool
) -> dict[str, int]:
    if not commands:
        return {}
    if not sparse:
        return dict(conn.execute(_PLAYERS_BY_PAIRS_SQL, window).fetchall())
    return {
        command: conn.execute(_PLAYERS_BY_ROWS_SQL, {"command": command, **window}).fetchone()[0]
        for command in commands
    }


def _latency_from_rows(
    conn: sqlite3.Connection, command: str, since: str, until: str, n: int
) -> tuple[tuple[float, ...], list[tuple[float, int]]]:
    """Percentiles and max from the period's rows, sorted here; plus the slowest calls."""
    rows = conn.execute(_ROWS_SQL, (command, since, until)).fetchall()
    rows.sort(key=itemgetter(1))
    n = len(rows)  # the same snapshot as the counts, so the same number
    values = (*(rows[percentile_rank(p, n) - 1][1] for p in PERCENTILES), rows[-1][1])
    top = [(duration, row_id) for row_id, duration in rows[-SLOWEST_CALLS:]]
    return values, top


def _latency_by_walks(
    conn: sqlite3.Connection, command: str, since: str, until: str, n: int
) -> tuple[tuple[float, ...], list[tuple[float, int]]]:
    """Percentiles by ordered index walks, each from the nearer end; plus the slowest calls."""
    values = []
    for p in PERCENTILES:
        rank = percentile_rank(p, n)
        if rank <= n - rank:
            order, offset = "ASC", rank - 1
        else:
            order, offset = "DESC", n - rank
        sql = _WALK_SQL.format(order=order)
        values.append(conn.execute(sql, (command, since, until, offset)).fetchone()[0])
    top = conn.execute(_TOP_SQL, (command, since, until, SLOWEST_CALLS)).fetchall()
    values.append(top[0][1])
    return tuple(values), [(duration, row_id) for row_id, duration in top]


def _slow_calls(
    conn: sqlite3.Connection, candidates: list[tuple[float, int]]
) -> tuple[SlowCall, ...]:
    if not candidates:
        return ()
    ids = [row_id for _, row_id in candidates]
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(
        "SELECT id, called_at, command, discord_uid, player_name, outcome, duration_ms"
        f" FROM command_calls WHERE id IN ({marks})",
        ids,
    ).fetchall()
    calls = [SlowCall(*row[1:]) for row in rows]
    calls.sort(key=lambda call: (-call.duration_ms, call.called_at))
    return tuple(calls)


def _funnel(stages: dict[int, int]) -> tuple[FunnelStep, ...]:
    steps = []
    first = previous = None
    for index, name in enumerate(FUNNEL_STEPS):
        users = sum(count for stage, count in stages.items() if stage >= index)
        steps.append(
            FunnelStep(
                step=name,
                users=users,
                of_first=users / first if first else None,
                of_previous=users / previous if previous else None,
            )
        )
        if first is None:
            first = users
        previous = users
    return tuple(steps)


# --- rendering ---------------------------------------------------------------------------

Kind = str  # 'text' | 'int' | 'ms' | 'share' | 'id'


@dataclass(frozen=True, slots=True)
class Section:
    key: str  # for --section and as the JSON key
    title: str
    columns: tuple[tuple[str, str, Kind], ...]  # (key, header, kind)
    rows: tuple[tuple[Any, ...], ...]


def sections(report: StatsReport) -> list[Section]:
    """The report as tables: the same ones for every format."""
    by_p95 = sorted(report.commands, key=lambda c: (-(c.p95_ms or 0.0), c.command))
    return [
        Section(
            "commands",
            "Calls by command",
            (
                ("command", "command", "text"),
                ("calls", "calls", "int"),
                ("players", "players", "int"),
                ("ok", "ok", "int"),
                ("refused", "refused", "int"),
                ("rejected", "rejected", "int"),
                ("errors", "errors", "int"),
                ("cancelled", "cancelled", "int"),
            ),
            tuple(
                (c.command, c.calls, c.players, c.ok, c.refused, c.rejected, c.errors, c.cancelled)
                for c in report.commands
            ),
        ),
        Section(
            "latency",
            "Duration by command, ms (nearest rank), slowest p95 first",
            (
                ("command", "command", "text"),
                ("calls", "calls", "int"),
                ("p50_ms", "p50", "ms"),
                ("p95_ms", "p95", "ms"),
                ("p99_ms", "p99", "ms"),
                ("max_ms", "max", "ms"),
            ),
            tuple((c.command, c.calls, c.p50_ms, c.p95_ms, c.p99_ms, c.max_ms) for c in by_p95),
        ),
        Section(
            "outcomes",
            "Outcomes",
            (
                ("outcome", "outcome", "text"),
                ("calls", "calls", "int"),
                ("share", "share", "share"),
            ),
            tuple((o.outcome, o.calls, o.share) for o in report.outcomes),
        ),
        Section(
            "slowest",
            f"Slowest {SLOWEST_CALLS} calls",
            (
                ("called_at", "called at (UTC)", "text"),
                ("command", "command", "text"),
                ("discord_uid", "user id", "id"),
                ("player_name", "player", "text"),
                ("outcome", "outcome", "text"),
                ("duration_ms", "ms", "ms"),
            ),
            tuple(
                (s.called_at, s.command, s.discord_uid, s.player_name, s.outcome, s.duration_ms)
                for s in report.slowest
            ),
        ),
        Section(
            "days",
            "Calls per day (UTC)",
            (
                ("day", "day", "text"),
                ("calls", "calls", "int"),
                ("players", "players", "int"),
                ("ok", "ok", "int"),
                ("refused", "refused", "int"),
                ("rejected", "rejected", "int"),
                ("errors", "errors", "int"),
                ("cancelled", "cancelled", "int"),
            ),
            tuple(
                (d.day, d.calls, d.players, d.ok, d.refused, d.rejected, d.errors, d.cancelled)
                for d in report.per_day
            ),
        ),
        Section(
            "funnel",
            "Onboarding funnel: users whose first command was in the period, furthest step so far",
            (
                ("step", "step", "text"),
                ("users", "users", "int"),
                ("of_first", "of first", "share"),
                ("of_previous", "of previous", "share"),
            ),
            tuple((f.step, f.users, f.of_first, f.of_previous) for f in report.funnel),
        ),
    ]


def _cell(value: Any, kind: Kind) -> str:
    if value is None:
        return "—"
    if kind == "int":
        return f"{value:,}"
    if kind == "ms":
        return f"{value:,.1f}"
    if kind == "share":
        return f"{value:.1%}"
    return str(value)


def _line(values: Sequence[str], widths: Sequence[int], numeric: Sequence[bool]) -> str:
    """One table line: numbers right-aligned, text left-aligned, two spaces apart."""
    parts = (
        v.rjust(w) if right else v.ljust(w)
        for v, w, right in zip(values, widths, numeric, strict=True)
    )
    return "  ".join(parts).rstrip()


def render_table(report: StatsReport, only: str | None = None) -> str:
    """Aligned text tables for a terminal."""
    out = []
    if only is None:
        out.append(f"ladderbot stats · {report.database}")
        out.append(
            f"{report.first_day} → {report.last_day} ({report.days} UTC "
            f"day{'s' if report.days != 1 else ''}, today included) · {report.calls:,} calls "
            f"· {report.players:,} players · queried in {report.seconds:.2f} s"
        )
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        if out:
            out.append("")
        out.append(section.title)
        if not section.rows:
            out.append("  (none)")
            continue
        cells = [
            [_cell(v, kind) for v, (_, _, kind) in zip(row, section.columns, strict=True)]
            for row in section.rows
        ]
        headers = [header for _, header, _ in section.columns]
        widths = [max(len(headers[i]), *(len(r[i]) for r in cells)) for i in range(len(headers))]
        numeric = [kind in ("int", "ms", "share") for _, _, kind in section.columns]

        out.append(_line(headers, widths, numeric))
        out.append(_line(["-" * w for w in widths], widths, numeric))
        out.extend(_line(r, widths, numeric) for r in cells)
    return "\n".join(out) + "\n"


def _raw(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "share":
        return round(value, 4)
    if kind == "ms":
        return round(value, 3)
    return value


def render_csv(report: StatsReport, only: str | None = None) -> str:
    """CSV: with --section, one plain table; otherwise each table under a '# key' line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    first = True
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        if only is None:
            if not first:
                buffer.write("\n")
            buffer.write(f"# {section.key}\n")
        first = False
        writer.writerow([key for key, _, _ in section.columns])
        for row in section.rows:
            writer.writerow(
                [
                    "" if v is None else _raw(v, kind)
                    for v, (_, _, kind) in zip(row, section.columns, strict=True)
                ]
            )
    return buffer.getvalue()


def report_dict(report: StatsReport, only: str | None = None) -> dict[str, Any]:
    """The report as JSON-ready data: period, totals, then one list of objects per table."""
    data: dict[str, Any] = {}
    if only is None:
        data["database"] = report.database
        data["generated_at"] = report.generated_at
        data["period"] = {
            "first_day": report.first_day,
            "last_day": report.last_day,
            "days": report.days,
        }
        data["totals"] = {"calls": report.calls, "players": report.players}
        data["query_seconds"] = round(report.seconds, 3)
    for section in sections(report):
        if only is not None and section.key != only:
            continue
        data[section.key] = [
            {key: _raw(v, kind) for v, (key, _, kind) in zip(row, section.columns, strict=True)}
            for row in section.rows
        ]
    return data


def render_json(report: StatsReport, only: str | None = None) -> str:
    return json.dumps(report_dict(report, only), indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[StatsReport, str | None], str]] = {
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
}


# --- command line ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py stats",
        description="How the bot was used over the last N UTC days (read-only; safe while the "
        "bot runs).",
    )
    parser.add_argument(
        "--days", type=int, default=7, help="the last N UTC days, today included (default 7)"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.add_argument(
        "--section", choices=SECTIONS, help="print only this table (plain CSV with --format csv)"
    )
    parser.add_argument("--db", type=Path, help="the SQLite file (default: DATABASE_PATH)")
    return parser


def main(
    argv: Sequence[str],
    db_path: Path,
    *,
    out: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Run `stats` with these arguments; print the report; return the exit status."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else 2
    path = args.db or Path(db_path)
    if not 1 <= args.days <= MAX_DAYS:
        print(f"ladderbot stats: --days must be from 1 to {MAX_DAYS}", file=sys.stderr)
        return 2
    try:
        conn = open_readonly(path)
        try:
            report = collect(conn, days=args.days, now=now, database=str(path))
        finally:
            conn.close()
    except StatsError as exc:
        print(f"ladderbot stats: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"ladderbot stats: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    try:
        out.write(RENDERERS[args.format](report, args.section))
        out.flush()
    except BrokenPipeError:  # `stats | head`: the reader has what it wanted
        if out is sys.stdout:  # keep Python from failing again when it flushes at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
