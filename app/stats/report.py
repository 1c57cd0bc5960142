"""The stats report's shape: the period, the totals and one record per table row, the limits
the host may ask for, and `StatsError` for a report that cannot be made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

DAY_MS = 86_400_000
SLOWEST_CALLS = 10
MAX_DAYS = 3660  # ten years: one aggregate per command and day
FUNNEL_STEPS = (
    "first command",
    "accepted the terms",
    "finished setup",
    "queued",
    "finished a match",
)
EPOCH = date(1970, 1, 1)


class StatsError(Exception):
    """The report cannot be made; the message is one line for the host."""


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
class ReplayStats:
    """Uploads in the period by verdict: 'verified', the refusal reason of a stored replay
    (docs/replays.md), or 'rejected' (a /replay call refused before anything was stored:
    unreadable, duplicate, too big, not a replay file)."""

    verdict: str
    uploads: int
    share: float  # of the replays stored in the period, 0..1


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
    replays: tuple[ReplayStats, ...] = ()  # most first; empty before migration 0011


def period_bounds(now: datetime, days: int) -> tuple[int, int]:
    """The period in ms since the epoch: 00:00 UTC of its first day, and of the day after today."""
    today = (now.astimezone(UTC).date() - EPOCH).days
    return (today - days + 1) * DAY_MS, (today + 1) * DAY_MS
