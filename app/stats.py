"""`python bot.py stats`: how the bot was used over the last N UTC days, from `command_calls`.

    python bot.py stats [--days 7] [--format table|csv|json] [--section NAME] [--db PATH]

Read-only and safe while the bot runs: the file is opened with `mode=ro` (nothing is ever
written), and every query runs in one read transaction, so the numbers are one consistent
snapshot. In WAL mode a reader never blocks the bot's writer.

The period is the last `--days` whole UTC calendar days, today included (`--days 1` is today so
far). The report: calls and distinct players per command, the outcome mix, nearest-rank duration
percentiles per command, the slowest calls, calls and players per day, and the onboarding funnel
of the users whose first command ever falls in the period.

It stays fast on a large table (see bench/bench_stats.py) by reading the period once from the
covering index command_calls_by_command (command, called_ms, outcome, duration_ms, discord_uid)
with aggregates that need no sort, and a second time for durations only. On that index a GROUP
BY sorts every row of the period first, and count(DISTINCT) puts every row in a temporary
index; either costs more than its share of what follows.

* One aggregate per (command, UTC day), a range of that index, returns the day's users as one
  group_concat string, its outcomes other than 'ok' as another, and how many durations fall
  below the median's bracket (next point). Python splits the strings into sets and counters:
  the calls, the outcome mix, and the distinct players per command, per day and in total
  (unions of the sets).
* Percentiles without sorting the period: a sample of each command's durations (64 seeks)
  brackets the median and the tail from p95 up. One more read of the range fetches only the
  durations in the brackets (about a tenth), as values (SQLite's text for a REAL keeps 15
  significant digits, so json_group_array would round them), and Python sorts them. The tail
  holds the maximum and the longest durations; the table is read only for those rows (the
  slowest calls). If a bracket misses (an unrepresentative sample), that command's durations
  are all fetched and sorted instead: the same numbers, only slower (the tests check both).
* The funnel: one seek per user of the period on command_calls_by_player (discord_uid,
  called_ms) for an earlier call.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import heapq
import io
import json
import math
import os
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, TextIO

from storage.database import format_time

# The migration that gives command_calls its called_ms column and the indexes named below.
MIN_SCHEMA_VERSION = 4
DAY_MS = 86_400_000
# Commands that put a player in the queue: an 'ok' one is the funnel's "queued" step.
QUEUE_COMMANDS = ("queue",)
# The first is bracketed on its own (the median); the others come from the tail, which starts
# at the second.
PERCENTILES = (50, 95, 99)
SLOWEST_CALLS = 10
# The duration sample of a command: the first SAMPLE_ROWS calls of each of SAMPLE_POINTS equal
# slices of the period, up to 8,192 durations (a few ms a command).
SAMPLE_POINTS = 64
SAMPLE_ROWS = 128
# A bracket reaches this many standard errors of the sample quantile beyond the estimate: wide
# enough that a sample spread over the period misses only by a fluke, narrow enough that the
# brackets hold about a tenth of the calls.
BRACKET_SIGMAS = 5.0
MAX_DAYS = 3660  # ten years: one aggregate per command and day
FORMATS = ("table", "csv", "json")
SECTIONS = ("commands", "latency", "outcomes", "slowest", "days", "funnel")
FUNNEL_STEPS = (
    "first command",
    "accepted the terms",
    "finished setup",
    "queued",
    "finished a match",
)
_EPOCH = date(1970, 1, 1)
# Joins the outcomes in one string: it cannot occur in an outcome.
_SEPARATOR = "\x1f"


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


def period_bounds(now: datetime, days: int) -> tuple[int, int]:
    """The period in ms since the epoch: 00:00 UTC of its first day, and of the day after today."""
    today = (now.astimezone(UTC).date() - _EPOCH).days
    return (today - days + 1) * DAY_MS, (today + 1) * DAY_MS


def percentile_rank(p: int, n: int) -> int:
    """The 1-based nearest rank of percentile `p` (integer, 1..100) among n > 0 values."""
    return (p * n + 99) // 100  # ceil(p * n / 100), in integers


# --- queries -----------------------------------------------------------------------------

# Every command ever logged, one index seek each (a skip scan: the planner would read every row).
_COMMANDS_SQL = """
WITH RECURSIVE commands(command) AS (
    SELECT min(command) FROM command_calls INDEXED BY command_calls_by_command
    UNION ALL
    SELECT (
        SELECT min(command) FROM command_calls INDEXED BY command_calls_by_command
        WHERE command > commands.command
    )
    FROM commands WHERE command IS NOT NULL
)
SELECT command FROM commands WHERE command IS NOT NULL
"""

# Part of a command's duration sample: the first :rows calls from :start on, as text (which
# keeps 15 significant digits: plenty for a sample, whose values only become bracket bounds).
_SAMPLE_SQL = """
SELECT group_concat(duration_ms) FROM (
    SELECT duration_ms FROM command_calls INDEXED BY command_calls_by_command
    WHERE command = :command AND called_ms >= :start AND called_ms < :end
    LIMIT :rows
)
"""

# One command on one day, without a sort: each call's user (as text), the outcomes other than
# 'ok', and how many durations fall below the median's bracket; for a queue command also the
# users of its 'ok' calls (a statement of its own: that test slows the others' by ~10%).
_DAY_RANGE = """
FROM command_calls INDEXED BY command_calls_by_command
WHERE command = :command AND called_ms >= :start AND called_ms < :end
"""
_DAY_SQL = (
    """
SELECT
    group_concat(discord_uid),
    group_concat(outcome, :separator) FILTER (WHERE outcome <> 'ok'),
    count(*) FILTER (WHERE duration_ms < :low),
    NULL"""
    + _DAY_RANGE
)
_QUEUE_DAY_SQL = (
    """
SELECT
    group_concat(discord_uid),
    group_concat(outcome, :separator) FILTER (WHERE outcome <> 'ok'),
    count(*) FILTER (WHERE duration_ms < :low),
    group_concat(discord_uid) FILTER (WHERE outcome = 'ok')"""
    + _DAY_RANGE
)

# The durations of a command's calls in the period that are in the median's bracket or the
# tail, which never starts below it (all of them when :low is -inf and :high inf). The
# bracket's lower bound is tested first: half the calls fail it.
_DURATIONS_SQL = """
SELECT duration_ms FROM command_calls INDEXED BY command_calls_by_command
WHERE command = :command AND called_ms >= :start AND called_ms < :end
  AND duration_ms >= :low AND (duration_ms < :high OR duration_ms >= :tail)
"""

# A command's :limit slowest calls in the period that took at least :least ms (a few: the
# sort keeps only :limit); of equally slow calls, the later.
_SLOWEST_SQL = """
SELECT duration_ms, called_ms, id FROM command_calls INDEXED BY command_calls_by_command
WHERE command = :command AND called_ms >= :start AND called_ms < :end
  AND duration_ms >= :least
ORDER BY duration_ms DESC, called_ms DESC, id DESC
LIMIT :limit
"""

# The slowest calls' rows, one primary-key seek each.
_SLOW_CALLS_SQL = """
SELECT id, called_at, command, discord_uid, player_name, outcome, duration_ms
FROM command_calls WHERE id IN (SELECT value FROM json_each(:ids))
"""

# The funnel's cohort: the period's users (:users) with no call before it, one seek each; and
# the furthest step each reached by now: 0 first command .. 4 finished a match. Reaching a step
# implies the ones before it (a player who queued accepted the terms, even if they withdrew it
# since). :queued holds the users with an 'ok' queue command in the period; one after it counts
# too (only possible when `now` is in the past).
_FUNNEL_SQL = """
SELECT
    CASE
        WHEN EXISTS (SELECT 1 FROM matches WHERE player1_uid = u.value AND status = 'finished')
          OR EXISTS (SELECT 1 FROM matches WHERE player2_uid = u.value AND status = 'finished')
            THEN 4
        WHEN EXISTS (SELECT 1 FROM matches WHERE player1_uid = u.value)
          OR EXISTS (SELECT 1 FROM matches WHERE player2_uid = u.value)
          OR u.value IN (SELECT value FROM json_each(:queued))
          OR EXISTS (
                SELECT 1 FROM command_calls AS q INDEXED BY command_calls_by_command
                WHERE q.command IN (SELECT value FROM json_each(:queue_commands))
                  AND q.called_ms >= :end AND q.discord_uid = u.value AND q.outcome = 'ok'
            )
            THEN 3
        WHEN p.completed_setup = 1 THEN 2
        WHEN p.accepted_tos = 1 THEN 1
        ELSE 0
    END AS stage,
    count(*)
FROM json_each(:users) AS u LEFT JOIN players AS p ON p.discord_uid = u.value
WHERE NOT EXISTS (
    SELECT 1 FROM command_calls INDEXED BY command_calls_by_player
    WHERE discord_uid = u.value AND called_ms < :start
)
GROUP BY stage
"""


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


@dataclass(frozen=True, slots=True)
class _Usage:
    """One command over the period, from its day aggregates."""

    counts_by_day: dict[str, Counter[str]]  # 'calls' and each column (_kind) per active day
    outcomes: Counter[str]
    users_by_day: dict[str, set[str]]  # user ids as text: they are only compared
    queued: set[str]  # users of its 'ok' calls, if it is a queue command
    below_low: int  # calls shorter than the median's bracket


def collect(
    conn: sqlite3.Connection,
    *,
    days: int,
    now: datetime | None = None,
    database: str = "",
) -> StatsReport:
    """Query the report for the last `days` UTC days in one read transaction."""
    if not 1 <= days <= MAX_DAYS:
        raise StatsError(f"--days must be from 1 to {MAX_DAYS}")
    version = schema_version(conn)
    if version < MIN_SCHEMA_VERSION:
        raise StatsError(
            f"the database is at schema version {version}; stats needs {MIN_SCHEMA_VERSION} "
            "or later. Start the bot once (it migrates on start), then run stats again."
        )
    now = now or datetime.now(UTC)
    start, end = period_bounds(now, days)
    first = _EPOCH + timedelta(days=start // DAY_MS)
    day_names = [(first + timedelta(days=offset)).isoformat() for offset in range(days)]
    now_ms = (now - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    usage: dict[str, _Usage] = {}
    latency: dict[str, tuple[float, ...]] = {}
    longest: dict[str, list[float]] = {}
    started = time.perf_counter()
    conn.execute("BEGIN")  # one snapshot for every query below
    try:
        for (command,) in conn.execute(_COMMANDS_SQL).fetchall():
            # Up to now: the rest of today has no calls yet to sample.
            sample = _sample(conn, command, start, end, min(end, now_ms + 1))
            if not sample:
                continue  # no call in the period: the sample's slices cover all of it
            brackets = _brackets(sample)
            used = usage[command] = _usage(conn, command, start, day_names, brackets[0])
            calls = sum(counts["calls"] for counts in used.counts_by_day.values())
            latency[command], longest[command] = _latency(
                conn, command, (start, end), calls, used.below_low, brackets
            )
        slowest = _slow_calls(conn, longest, (start, end))
        players_by_command = {
            command: set().union(*used.users_by_day.values()) for command, used in usage.items()
        }
        period_users = set().union(*players_by_command.values())
        queued = set().union(*(used.queued for used in usage.values()))
        stages = dict(
            conn.execute(
                _FUNNEL_SQL,
                {
                    "users": json.dumps([int(uid) for uid in period_users]),
                    "queued": json.dumps([int(uid) for uid in queued]),
                    "queue_commands": json.dumps(QUEUE_COMMANDS),
                    "start": start,
                    "end": end,
                },
            ).fetchall()
        )
    finally:
        conn.rollback()
    seconds = time.perf_counter() - started

    by_day: dict[str, Counter[str]] = defaultdict(Counter)
    players_by_day: dict[str, set[str]] = defaultdict(set)
    by_outcome: Counter[str] = Counter()
    by_command: dict[str, Counter[str]] = {}
    for command, used in usage.items():
        by_command[command] = sum(used.counts_by_day.values(), Counter())
        for day, counts in used.counts_by_day.items():
            by_day[day].update(counts)
            players_by_day[day] |= used.users_by_day[day]
        by_outcome.update(used.outcomes)
    period_calls = by_outcome.total()
    commands = tuple(
        sorted(
            (
                CommandStats(
                    command=command,
                    calls=counts["calls"],
                    players=len(players_by_command[command]),
                    ok=counts["ok"],
                    refused=counts["refused"],
                    rejected=counts["rejected"],
                    errors=counts["error"],
                    cancelled=counts["cancelled"],
                    p50_ms=latency[command][0],
                    p95_ms=latency[command][1],
                    p99_ms=latency[command][2],
                    max_ms=latency[command][3],
                )
                for command, counts in by_command.items()
            ),
            key=lambda c: (-c.calls, c.command),
        )
    )
    outcomes = tuple(
        OutcomeStats(outcome, calls, calls / period_calls)
        for outcome, calls in sorted(by_outcome.items(), key=lambda item: (-item[1], item[0]))
    )
    per_day = tuple(
        DayStats(
            day=day,
            calls=by_day[day]["calls"],
            players=len(players_by_day[day]),
            ok=by_day[day]["ok"],
            refused=by_day[day]["refused"],
            rejected=by_day[day]["rejected"],
            errors=by_day[day]["error"],
            cancelled=by_day[day]["cancelled"],
        )
        for day in day_names
    )
    return StatsReport(
        database=database,
        generated_at=format_time(now),
        first_day=day_names[0],
        last_day=day_names[-1],
        days=days,
        calls=period_calls,
        players=len(period_users),
        commands=commands,
        outcomes=outcomes,
        slowest=slowest,
        per_day=per_day,
        funnel=_funnel(stages),
        seconds=seconds,
    )


def _usage(
    conn: sqlite3.Connection, command: str, start: int, day_names: list[str], low: float
) -> _Usage:
    """Read the command's day aggregates: users, outcomes and calls below `low`, per day."""
    counts_by_day: dict[str, Counter[str]] = {}
    outcomes: Counter[str] = Counter()
    users_by_day: dict[str, set[str]] = {}
    queued: set[str] = set()
    below_low = 0
    sql = _QUEUE_DAY_SQL if command in QUEUE_COMMANDS else _DAY_SQL
    params = {"command": command, "low": low, "separator": _SEPARATOR}
    for offset, day in enumerate(day_names):
        day_start = start + offset * DAY_MS
        users, others, below, ok_users = conn.execute(
            sql, {**params, "start": day_start, "end": day_start + DAY_MS}
        ).fetchone()
        if users is None:
            continue  # no call that day
        calls = users.split(",")
        mix = Counter() if others is None else Counter(others.split(_SEPARATOR))
        if len(calls) > mix.total():
            mix["ok"] = len(calls) - mix.total()
        counts = counts_by_day[day] = Counter(calls=len(calls))
        for outcome, n in mix.items():
            counts[_kind(outcome)] += n
        outcomes.update(mix)
        users_by_day[day] = set(calls)
        if ok_users:
            queued.update(ok_users.split(","))
        below_low += below
    return _Usage(counts_by_day, outcomes, users_by_day, queued, below_low)


def _kind(outcome: str) -> str:
    """The column an outcome is counted in."""
    return "refused" if outcome.startswith("refused:") else outcome


def _sample(
    conn: sqlite3.Connection, command: str, start: int, end: int, until: int
) -> list[float]:
    """Sample the command's durations in [start, end), sorted: the first SAMPLE_ROWS calls of
    each of SAMPLE_POINTS equal slices of [start, until), the last slice running on to `end`."""
    cuts = [start + (until - start) * point // SAMPLE_POINTS for point in range(SAMPLE_POINTS)]
    durations: list[float] = []
    for low, high in zip(cuts, [*cuts[1:], end], strict=True):
        params = {"command": command, "start": low, "end": high, "rows": SAMPLE_ROWS}
        text = conn.execute(_SAMPLE_SQL, params).fetchone()[0]
        if text:
            durations.extend(map(float, text.split(",")))
    durations.sort()
    return durations


def _brackets(sample: list[float]) -> tuple[float, float, float]:
    """(low, high) around the first percentile, and where the tail starts, from a sorted sample.

    A bound past either end of the sample is -inf or inf: with few calls, everything. The tail
    never starts below `low` (_DURATIONS_SQL relies on it).
    """
    return (
        _bound(sample, PERCENTILES[0], -1),
        _bound(sample, PERCENTILES[0], 1),
        _bound(sample, PERCENTILES[1], -1),
    )


def _bound(sample: list[float], p: int, side: int) -> float:
    """The sample value BRACKET_SIGMAS standard errors below (side -1) or above (1) percentile p."""
    n, q = len(sample), p / 100
    spread = BRACKET_SIGMAS * math.sqrt(n * q * (1 - q)) + 1
    index = math.floor(q * n - spread) if side < 0 else math.ceil(q * n + spread)
    if index < 0:
        return -math.inf
    if index >= n:
        return math.inf
    return sample[index]


def _latency(
    conn: sqlite3.Connection,
    command: str,
    period: tuple[int, int],
    calls: int,
    below_low: int,
    brackets: tuple[float, float, float],
) -> tuple[tuple[float, ...], list[float]]:
    """Percentiles and max of the command's durations; its SLOWEST_CALLS longest durations."""
    low, high, tail = brackets
    params = {"command": command, "start": period[0], "end": period[1]}
    rows = conn.execute(_DURATIONS_SQL, {**params, "low": low, "high": high, "tail": tail})
    durations = sorted(map(itemgetter(0), rows))
    values = _from_brackets(durations, calls, below_low, brackets)
    if values is None:  # a bracket missed (the sample was not like the period): take them all
        rows = conn.execute(
            _DURATIONS_SQL, {**params, "low": -math.inf, "high": math.inf, "tail": math.inf}
        )
        durations = sorted(map(itemgetter(0), rows))
        values = (*(durations[percentile_rank(p, calls) - 1] for p in PERCENTILES), durations[-1])
    return values, durations[-SLOWEST_CALLS:]


def _from_brackets(
    durations: list[float], calls: int, below_low: int, brackets: tuple[float, float, float]
) -> tuple[float, ...] | None:
    """Percentiles and max from the sorted durations in the brackets; None if one missed.

    `durations` holds every call in [low, high) and every call from `tail` up, and `below_low`
    calls are shorter than `low`: a rank is known if it falls in the first, or in the tail
    (counted from the longest call). The tail must also hold the slowest calls.
    """
    low, high, tail = brackets
    in_tail = len(durations) - bisect.bisect_left(durations, tail)
    if in_tail < min(calls, SLOWEST_CALLS):
        return None
    window = bisect.bisect_left(durations, low)
    in_window = bisect.bisect_left(durations, high) - window
    values = []
    for p in PERCENTILES:
        rank = percentile_rank(p, calls)
        if calls - rank < in_tail:
            values.append(durations[len(durations) - 1 - (calls - rank)])
        elif below_low < rank <= below_low + in_window:
            values.append(durations[window + rank - below_low - 1])
        else:
            return None
    return (*values, durations[-1])


def _slow_calls(
    conn: sqlite3.Connection, longest: dict[str, list[float]], period: tuple[int, int]
) -> tuple[SlowCall, ...]:
    """The period's slowest calls, slowest first (of equally slow ones the later are kept and
    the earlier shown first), read only from the commands with one of the longest durations."""
    durations = heapq.nlargest(SLOWEST_CALLS, chain.from_iterable(longest.values()))
    if not durations:
        return ()
    least = durations[-1]
    candidates = []
    for command, theirs in longest.items():
        if theirs[-1] >= least:
            params = {"command": command, "start": period[0], "end": period[1], "least": least}
            candidates += conn.execute(_SLOWEST_SQL, {**params, "limit": SLOWEST_CALLS})
    chosen = heapq.nlargest(SLOWEST_CALLS, candidates)
    chosen.sort(key=lambda row: (-row[0], row[1], row[2]))
    ids = [row_id for _, _, row_id in chosen]
    rows = {
        row[0]: SlowCall(*row[1:])
        for row in conn.execute(_SLOW_CALLS_SQL, {"ids": json.dumps(ids)})
    }
    return tuple(rows[row_id] for row_id in ids)


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
