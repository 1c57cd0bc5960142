"""/dashboard: how the bot is used and how fast it answers, for its hosts (behind the login).

    GET /dashboard[?days=N]   the last N UTC days, today included (1-90, default 7)

The numbers are `bot.py stats`'s: the report comes from `app.stats.collect` on a read-only
connection of its own, opened per request and run on a thread (one report at a time), so the
page never waits behind the command log writer and never holds up the bot's reads. Calls per
day per command (which the report only gives in total) come from `services.analytics` on the
same connection. The live counters are the running writer's and player cache's, and the
database's size on disk.

A browser without a session is sent to /login, which says how to get in.

The page is in the reader's language like the rest of the site (web/language.py): titles,
headings and numbers. What the report holds stays as it is: command names, outcomes
("refused:terms") and the funnel's steps are the log's codes, the same as `bot.py stats`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from aiohttp import web

from app import stats
from app.status import format_bytes, format_duration
from i18n import _, format_number
from services.analytics import CacheCounters, LiveCounters, calls_per_day, live_counters
from web import dashboard_charts as charts
from web import login
from web.app import WebServices
from web.language import decimal, percent
from web.login import HOST, NO_STORE, session_admin
from web.render import render_page

log = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAYS = 90
DAY_CHOICES = (1, 7, 30, 90)
# One report at a time: a 90-day report on a large log takes seconds of a core, and a burst of
# reloads must queue behind it rather than run side by side next to the bot.
REPORTS = web.AppKey("dashboard_reports", asyncio.Semaphore)


@dataclass(frozen=True, slots=True)
class Numbers:
    """One dashboard's worth of numbers, read in one go on a thread."""

    report: stats.StatsReport
    per_day: dict[str, tuple[int, ...]]  # command -> calls on each day of the report


def setup(app: web.Application, services: WebServices) -> None:
    """Register the host's pages, the login's and /dashboard, when their services are there."""
    if services.host is None:
        return
    login.setup(app, services)
    app[REPORTS] = asyncio.Semaphore(1)
    app.router.add_get("/dashboard", dashboard, name="dashboard")


def parse_days(text: str | None) -> int:
    """?days=: a whole number of days, clamped to 1..MAX_DAYS; anything else is the default."""
    if text is None or not text.strip().isdigit():
        return DEFAULT_DAYS
    return max(1, min(MAX_DAYS, int(text.strip()[:6])))


def read_numbers(path: Path, days: int, now: datetime) -> Numbers:
    """The stats report and calls per day per command, on one read-only connection (blocking:
    call it on a thread)."""
    conn = stats.open_readonly(path)
    try:
        report = stats.collect(conn, days=days, now=now, database=path.name)
        per_day = calls_per_day(
            conn, [c.command for c in report.commands], date.fromisoformat(report.first_day), days
        )
    finally:
        conn.close()
    return Numbers(report, per_day)


async def dashboard(request: web.Request) -> web.Response:
    """The charts and counters, or a redirect to the login page."""
    if await session_admin(request) is None:
        return web.Response(status=303, headers={"Location": "/login", **NO_STORE})
    host = request.app[HOST]
    days = parse_days(request.query.get("days"))
    now = datetime.now(UTC)
    numbers = None
    if host.sqlite_file:
        async with request.app[REPORTS]:
            numbers = await asyncio.to_thread(read_numbers, host.database_path, days, now)
    live = live_counters(
        host.command_log, host.player_cache, host.database_path, host.profile_cache
    )
    context = {
        "days": days,
        "day_choices": DAY_CHOICES,
        "report": numbers.report if numbers is not None else None,
        "charts": build_charts(numbers) if numbers is not None else [],
        "live": live_rows(live, file_sizes=host.sqlite_file),
        "uptime": format_duration((now - host.started_at).total_seconds())
        if host.started_at
        else None,
    }
    response = await render_page("dashboard.html", request, context)
    response.headers.update(NO_STORE)
    return response


def build_charts(numbers: Numbers) -> list[charts.Chart]:
    """Calls per day per command, p50/p95/p99 per command, outcomes, the onboarding funnel."""
    report = numbers.report
    days = [d.day for d in report.per_day]
    commands = [c.command for c in report.commands]
    by_p95 = sorted(report.commands, key=lambda c: (-(c.p95_ms or 0.0), c.command))
    return [
        charts.stacked_days(
            days,
            {command: numbers.per_day[command] for command in commands},
            "calls",
            _("Calls per day, by command (UTC days)"),
        ),
        charts.horizontal(
            [c.command for c in by_p95],
            {
                "p50": [c.p50_ms for c in by_p95],
                "p95": [c.p95_ms for c in by_p95],
                "p99": [c.p99_ms for c in by_p95],
            },
            "latency",
            _("Duration by command, ms (p50, p95, p99; slowest p95 first)"),
            unit=" ms",
            fills=charts.PERCENTILE_COLOURS,
        ),
        charts.horizontal(
            [o.outcome for o in report.outcomes],
            {"calls": [o.calls for o in report.outcomes]},
            "outcomes",
            _("Outcomes"),
            value_text=lambda _series, calls: _share(calls, report.calls),
        ),
        charts.horizontal(
            [f.step for f in report.funnel],
            {"users": [f.users for f in report.funnel]},
            "funnel",
            _("Onboarding funnel: users whose first command was in the period"),
            fills={"users": charts.PALETTE[2]},
            value_text=lambda _series, users: _funnel_text(report, users),
        ),
    ]


def _share(part: float, whole: float, digits: int = 1) -> str:
    """'1,234 (12.3%)' in the reader's way of writing numbers."""
    # Translators: a count and its share of the whole, e.g. "1,234 (12.3%)".
    return _("{count} ({share})", count=format_number(round(part)),
             share=percent(part / (whole or 1), digits))  # fmt: skip


def _funnel_text(report: stats.StatsReport, users: float) -> str:
    first = report.funnel[0].users if report.funnel else 0
    return _share(users, first, 0) if first else format_number(round(users))


def live_rows(live: LiveCounters, *, file_sizes: bool = True) -> list[tuple[str, str]]:
    """The live counters as (name, value) rows; the database file's sizes if `file_sizes`."""
    log_stats, cache = live.command_log, live.player_cache
    last_batch = (
        "—"
        if log_stats.last_batch_ms is None
        else _("{ms} ms", ms=decimal(log_stats.last_batch_ms))
    )
    n = format_number

    def hits(cache: CacheCounters) -> str:
        return _(
            "{share} ({hits} of {lookups})",
            share=percent(cache.hit_rate),
            hits=n(cache.hits),
            lookups=n(cache.hits + cache.misses),
        )

    profiles = live.profile_cache
    rows = [
        (_("Command log: enqueued"), n(log_stats.enqueued)),
        (_("Command log: written"), n(log_stats.written)),
        (_("Command log: queued now"), n(log_stats.queue_depth)),
        (_("Command log: dropped"), n(log_stats.dropped)),
        (_("Command log: rejected"), n(log_stats.rejected)),
        (_("Command log: lost"), n(log_stats.lost)),
        (_("Command log: failed batches"), n(log_stats.failed_batches)),
        (_("Command log: last batch"), last_batch),
        # The error is the log's own text (English, for the host), not ours to translate.
        (_("Command log: last error"), log_stats.last_error or _("none")),
        (_("Player cache: hits"), hits(cache)),
        (_("Player cache: players cached"), n(cache.size)),
        (_("Player cache: invalidations"), n(cache.invalidations)),
        (_("Profile cache: hits"), hits(profiles) if profiles else _("off (PostgreSQL)")),
        (_("Profile cache: profiles kept"), n(profiles.size) if profiles else "—"),
    ]
    if file_sizes:
        rows += [
            (_("Database file"), format_bytes(live.database_bytes)),
            (_("Write-ahead log"), format_bytes(live.wal_bytes)),
        ]
    return rows
