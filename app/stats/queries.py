"""The report's queries: every number of `bot.py stats`, read in one read transaction.

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

import heapq
import json
import math
import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import itemgetter
from pathlib import Path

from app.stats import percentiles
from app.stats.percentiles import PERCENTILES, percentile_rank
from app.stats.report import (
    DAY_MS,
    EPOCH,
    FUNNEL_STEPS,
    MAX_DAYS,
    SLOWEST_CALLS,
    CommandStats,
    DayStats,
    FunnelStep,
    OutcomeStats,
    ReplayStats,
    SlowCall,
    StatsError,
    StatsReport,
    period_bounds,
)
from storage.database import format_time

# The migration that gives command_calls its called_ms column and the indexes named below.
MIN_SCHEMA_VERSION = 4
# Commands that put a player in the queue: an 'ok' one is the funnel's "queued" step.
QUEUE_COMMANDS = ("queue",)
# The duration sample of a command: the first SAMPLE_ROWS calls of each of SAMPLE_POINTS equal
# slices of the period, up to 8,192 durations (a few ms a command).
SAMPLE_POINTS = 64
SAMPLE_ROWS = 128
# Joins the outcomes in one string: it cannot occur in an outcome.
_SEPARATOR = "\x1f"

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
    end_day = (EPOCH + timedelta(days=end // DAY_MS)).isoformat()
    first = EPOCH + timedelta(days=start // DAY_MS)
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
            brackets = percentiles.brackets(sample)
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
        replay_counts = _replay_counts(conn, day_names[0], end_day, (start, end))
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
        replays=tuple(
            ReplayStats(verdict, n, n / replay_counts.total())
            for verdict, n in sorted(replay_counts.items(), key=lambda item: (-item[1], item[0]))
        ),
    )


def _replay_counts(
    conn: sqlite3.Connection, first_day: str, end_day: str, period: tuple[int, int]
) -> Counter[str]:
    """Replays stored from `first_day` up to `end_day` (exclusive), by verdict or reason, and
    the /replay calls refused before a replay was stored ('rejected': not a replay file, too
    big, unreadable, already uploaded, not the player's match)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'replays'").fetchone():
        return Counter()
    rows = conn.execute(
        "SELECT coalesce(reason, 'verified'), count(*) FROM replays"
        " WHERE uploaded_at >= ? AND uploaded_at < ? GROUP BY 1",
        (first_day, end_day),
    ).fetchall()
    counts = Counter({verdict: n for verdict, n in rows})
    (rejected,) = conn.execute(
        "SELECT count(*) FROM command_calls WHERE command = 'replay' AND outcome = 'rejected'"
        " AND called_ms >= ? AND called_ms < ?",
        period,
    ).fetchone()
    if rejected:
        counts["rejected"] = rejected
    return counts


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
    values = percentiles.from_brackets(durations, calls, below_low, brackets)
    if values is None:  # a bracket missed (the sample was not like the period): take them all
        rows = conn.execute(
            _DURATIONS_SQL, {**params, "low": -math.inf, "high": math.inf, "tail": math.inf}
        )
        durations = sorted(map(itemgetter(0), rows))
        values = (*(durations[percentile_rank(p, calls) - 1] for p in PERCENTILES), durations[-1])
    return values, durations[-SLOWEST_CALLS:]


def _slow_calls(
    conn: sqlite3.Connection, longest: dict[str, list[float]], period: tuple[int, int]
) -> tuple[SlowCall, ...]:
    """The period's slowest calls, slowest first (of equally slow ones the later are kept and
    the earlier shown first), read only from the commands with one of the longest durations."""
    durations = heapq.nlargest(SLOWEST_CALLS, chain.from_iterable(longest.values()))
    if not durations:
        return ()
    least = durations[-1]
    candidates: list[tuple[float, int, int]] = []  # (duration_ms, called_ms, id)
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
