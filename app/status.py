"""`/admin status`: how the running bot is doing, in one snapshot.

`collect_status(...)` gathers the numbers (the command log's last hour of `command_calls` and
its counters, the player and profile caches' counters, the database's file sizes);
`build_status(...)` is the pure part that turns them into a `StatusReport`; and
`render_lines(report)` gives (name, value) pairs ready for embed fields.

Rows still queued in the command log writer are not in the table yet, so "commands in the last
hour" lags by at most one batch (see `queue depth`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cache.players import CacheStats
from storage.command_log import CommandLogStats, RecentCalls
from storage.database import format_time

EMBED_NAME_LIMIT = 256
EMBED_VALUE_LIMIT = 1024
STATUS_PERCENTILE = 95
WINDOW = timedelta(hours=1)


class _CommandLog(Protocol):
    def stats(self) -> CommandLogStats: ...

    async def recent_calls(self, since: datetime, percentile: int) -> RecentCalls: ...


class _HasCacheStats(Protocol):
    def stats(self) -> CacheStats: ...


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Everything /admin status shows. Times UTC, durations ms, sizes bytes."""

    now: str
    started_at: str
    uptime_seconds: float
    gateway_latency_ms: float | None  # None before the first heartbeat
    commands_last_hour: int
    p95_ms_last_hour: float | None  # None without commands in the last hour
    command_log: CommandLogStats
    player_cache: CacheStats
    database_bytes: int
    wal_bytes: int
    profile_cache: CacheStats | None = None  # None: not kept (PostgreSQL)

    @property
    def cache_hit_rate(self) -> float:
        return self.player_cache.hit_rate


def build_status(
    *,
    now: datetime,
    started_at: datetime,
    gateway_latency: float | None,
    commands_last_hour: int,
    p95_ms_last_hour: float | None,
    command_log: CommandLogStats,
    player_cache: CacheStats,
    database_bytes: int,
    wal_bytes: int,
    profile_cache: CacheStats | None = None,
) -> StatusReport:
    """Assemble the report. `gateway_latency` is in seconds, as nextcord gives it."""
    latency_ms = None
    if gateway_latency is not None and math.isfinite(gateway_latency) and gateway_latency >= 0:
        latency_ms = gateway_latency * 1000.0
    return StatusReport(
        now=format_time(now),
        started_at=format_time(started_at),
        uptime_seconds=max(0.0, (now - started_at).total_seconds()),
        gateway_latency_ms=latency_ms,
        commands_last_hour=commands_last_hour,
        p95_ms_last_hour=p95_ms_last_hour if commands_last_hour else None,
        command_log=command_log,
        player_cache=player_cache,
        database_bytes=database_bytes,
        wal_bytes=wal_bytes,
        profile_cache=profile_cache,
    )


async def collect_status(
    command_log: _CommandLog,
    player_cache: _HasCacheStats,
    database_path: Path,
    started_at: datetime,
    gateway_latency: float | None,
    *,
    profile_cache: _HasCacheStats | None = None,
    now: datetime | None = None,
) -> StatusReport:
    """Gather the numbers: the writer's and the cache's counters, the last hour, file sizes.

    `database_path` is the SQLite file (its -wal beside it); `started_at` is when the bot
    started (aware datetime); `gateway_latency` is `bot.latency` (seconds; nan or inf before
    the first heartbeat).
    """
    now = now or datetime.now(UTC)
    calls = await command_log.recent_calls(now - WINDOW, STATUS_PERCENTILE)
    return build_status(
        now=now,
        started_at=started_at,
        gateway_latency=gateway_latency,
        commands_last_hour=calls.count,
        p95_ms_last_hour=calls.percentile_ms,
        command_log=command_log.stats(),
        player_cache=player_cache.stats(),
        database_bytes=_size(database_path),
        wal_bytes=_size(Path(f"{database_path}-wal")),
        profile_cache=profile_cache.stats() if profile_cache is not None else None,
    )


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def format_duration(seconds: float) -> str:
    """'42 s', '5 min 3 s', '3 h 4 min', '2 d 3 h 4 min'."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def format_bytes(size: int) -> str:
    """Decimal units: '512 B', '12.3 kB', '4.5 MB', '1.2 GB'."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            return f"{size / scale:.1f} {unit}"
    raise AssertionError("unreachable")


def render_lines(report: StatusReport) -> list[tuple[str, str]]:
    """(name, value) pairs for embed fields, within Discord's field limits."""
    log = report.command_log
    cache = report.player_cache
    latency = (
        "not measured yet"
        if report.gateway_latency_ms is None
        else f"{report.gateway_latency_ms:,.0f} ms"
    )
    if report.commands_last_hour:
        last_hour = f"{report.commands_last_hour:,} · p95 {report.p95_ms_last_hour:,.0f} ms"
    else:
        last_hour = "none"
    lines = [
        (
            "Uptime",
            f"{format_duration(report.uptime_seconds)} (since {report.started_at[:16]} UTC)",
        ),
        ("Gateway latency", latency),
        ("Commands, last hour", last_hour),
        (
            "Command log",
            f"{log.enqueued:,} enqueued · {log.written:,} written · {log.queue_depth:,} queued"
            f" · {log.dropped:,} dropped · {log.rejected:,} rejected"
            f" · {log.failed_batches:,} failed batches",
        ),
        ("Player cache", _cache_line(cache)),
        (
            "Profile cache",
            _cache_line(report.profile_cache)
            if report.profile_cache is not None
            else "off (PostgreSQL: every /profile reads)",
        ),
        (
            "Database",
            f"{format_bytes(report.database_bytes)} + WAL {format_bytes(report.wal_bytes)}",
        ),
    ]
    if log.last_error:
        lines.append(("Command log: last error", log.last_error))
    return [
        (_clip(name, EMBED_NAME_LIMIT), _clip(value, EMBED_VALUE_LIMIT)) for name, value in lines
    ]


def _cache_line(cache: CacheStats) -> str:
    return (
        f"{cache.hit_rate:.1%} hits ({cache.hits:,} of {cache.hits + cache.misses:,}) · "
        f"{cache.size:,} cached"
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
