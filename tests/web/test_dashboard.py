"""/dashboard: the numbers of `bot.py stats`, as SVG charts and tables, behind the login."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import UTC, datetime
from html import unescape

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import stats
from cache.players import PlayerCache
from services.players import PlayerChanges, PlayerService
from storage.leaderboard import LeaderboardRepository
from storage.players import PlayerRepository
from storage.queue import QueueRepository
from tests.web.host_seed import open_host, wait_written
from web.app import create_app
from web.dashboard import MAX_DAYS, parse_days


@pytest.fixture
async def host(site, seeded):
    opened = await open_host(site, seeded)
    yield opened
    await opened.close()


@pytest.fixture
async def admin(host):
    """A client logged in through a one-time link."""
    async with TestClient(TestServer(create_app(host.services))) as test_client:
        assert (await test_client.get(await host.login_link())).status == 200
        yield test_client


def bars(page: str, chart: str) -> list[dict[str, str]]:
    """The bars of one chart: series, category, value."""
    svg = page[page.index(f'id="chart-{chart}"') :]
    svg = svg[: svg.index("</svg>")]
    return [
        {"series": unescape(s), "category": unescape(c), "value": v}
        for s, c, v in re.findall(
            r'data-series="([^"]*)" data-category="([^"]*)" data-value="([^"]*)"', svg
        )
    ]


def report_of(host, days: int = 7) -> stats.StatsReport:
    conn = stats.open_readonly(host.site.db.path)
    try:
        return stats.collect(conn, days=days, now=datetime.now(UTC))
    finally:
        conn.close()


async def test_the_charts_show_the_numbers_of_bot_py_stats(admin, host):
    response = await admin.get("/dashboard")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = await response.text()
    report = report_of(host)
    assert report.calls == sum(host.calls.values())  # every logged call is in the period
    # Calls per day per command: each command's bars add up to its calls in the report.
    per_command: dict[str, int] = {}
    for bar in bars(page, "calls"):
        per_command[bar["series"]] = per_command.get(bar["series"], 0) + int(bar["value"])
    assert per_command == {c.command: c.calls for c in report.commands}
    assert {b["category"] for b in bars(page, "calls")} <= {d.day for d in report.per_day}
    # p50/p95/p99 per command, the report's exact values.
    latency = {(b["category"], b["series"]): float(b["value"]) for b in bars(page, "latency")}
    for c in report.commands:
        assert latency[(c.command, "p50")] == c.p50_ms
        assert latency[(c.command, "p95")] == c.p95_ms
        assert latency[(c.command, "p99")] == c.p99_ms
    outcomes = {b["category"]: int(b["value"]) for b in bars(page, "outcomes")}
    assert outcomes == {o.outcome: o.calls for o in report.outcomes}
    funnel = [(b["category"], int(b["value"])) for b in bars(page, "funnel")]
    assert funnel == [(f.step, f.users) for f in report.funnel]
    assert f"{report.calls:,} calls" in page


async def test_the_live_counters_and_the_database_size(admin, host):
    page = await (await admin.get("/dashboard")).text()
    written = host.writer.stats().written
    assert written == sum(host.calls.values())
    assert re.search(rf"Command log: written</th><td>{written:,}</td>", page)
    assert re.search(r"Database file</th><td>[0-9.]+ kB</td>", page)
    assert "Uptime</th><td>5 h 0 min</td>" in page


def live_cells(page: str) -> dict[str, str]:
    """The "Right now" table as the page's own HTML: row heading -> cell, neither unescaped."""
    table = page[page.index('id="live-table"') :]
    table = table[: table.index("</table>")]
    return dict(re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", table))


async def test_the_player_cache_counters_follow_the_bot_s_reads_and_writes(host, seeded):
    """The cache the bot's player service reads through, driven by its calls: the page shows
    its hits, lookups, size and invalidations as they are at that moment, as text."""
    cache = PlayerCache()
    players = PlayerService(
        host.site.db, PlayerRepository(host.site.db, cache), QueueRepository(), PlayerChanges()
    )
    services = dataclasses.replace(
        host.services, host=dataclasses.replace(host.services.host, player_cache=cache)
    )
    alice, bob, nobody = seeded.uids["Alice"], seeded.uids["Bob"], 999_999_999
    async with TestClient(TestServer(create_app(services))) as client:
        assert (await client.get(await host.login_link())).status == 200

        async def live() -> dict[str, str]:
            return live_cells(await (await client.get("/dashboard")).text())

        cells = await live()
        assert cells["Player cache: hits"] == "0% (0 of 0)"
        assert cells["Player cache: players cached"] == "0"
        assert cells["Player cache: invalidations"] == "0"

        assert (await players.get(alice)) is not None  # a miss, then kept
        for _ in range(1000):
            await players.get(alice)  # hits
        await players.get(bob)  # a miss
        assert await players.get(nobody) is None  # a miss, kept as "no such player"
        assert await players.get(nobody) is None  # a hit
        bob_before = await players.require(bob)  # a hit
        country = "JP" if bob_before.country != "JP" else "DE"
        # A write clears Bob's entry; reading him back after it is a miss.
        assert await players.set_country(bob, country) is not None
        assert (await players.require(bob)).country == country  # the write's own read: a hit
        cells = await live()
    # 1,003 hits and 4 misses (Alice, Bob, nobody, Bob after the write); 3 cached, 1 cleared.
    assert cells["Player cache: hits"] == "99.6% (1,003 of 1,007)"
    assert cells["Player cache: players cached"] == "3"
    assert cells["Player cache: invalidations"] == "1"
    assert (cells["Profile cache: hits"], cells["Profile cache: profiles kept"]) == (
        "0% (0 of 0)",
        "0",
    )


async def test_the_profile_cache_counters_follow_the_bot_s_profiles(host, seeded):
    repository = LeaderboardRepository(host.site.db)
    await repository.follow_changes()
    services = dataclasses.replace(
        host.services, host=dataclasses.replace(host.services.host, profile_cache=repository.cache)
    )
    now = datetime.now(UTC)
    for _ in range(4):
        await repository.profile(seeded.uids["Alice"], now)
    async with TestClient(TestServer(create_app(services))) as client:
        assert (await client.get(await host.login_link())).status == 200
        cells = live_cells(await (await client.get("/dashboard")).text())
    assert cells["Profile cache: hits"] == "75% (3 of 4)"
    assert cells["Profile cache: profiles kept"] == "1"


@pytest.mark.parametrize(
    ("given", "days"),
    [("1", 1), ("30", 30), ("0", 1), ("-5", 7), ("99999999999999", MAX_DAYS), ("x", 7), ("", 7)],
)
async def test_the_period_is_clamped(admin, given, days):
    assert parse_days(given) == days
    response = await admin.get("/dashboard", params={"days": given})
    assert response.status == 200
    assert f"({days} UTC day" in await response.text()


async def test_the_dashboard_does_not_wait_behind_a_write(admin, host):
    # A write transaction (as the log writer's batch holds) stays open while the page loads.
    async with host.site.db.transaction():
        async with asyncio.timeout(10):
            response = await admin.get("/dashboard")
    assert response.status == 200


async def test_reloads_at_once_queue_for_one_report_and_all_answer(admin):
    answers = await asyncio.gather(*(admin.get("/dashboard?days=30") for _ in range(4)))
    assert [a.status for a in answers] == [200] * 4


async def test_a_command_name_is_escaped(admin, host):
    host.writer.record(None, 1, None, "<script>alert(1)</script>", None, 5.0, "ok")
    total = sum(host.calls.values()) + 1
    await wait_written(host.writer, total)
    page = await (await admin.get("/dashboard")).text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_on_postgresql_it_says_why_there_is_no_report_and_keeps_the_live_figures(host):
    """On PostgreSQL the usage report (it reads the SQLite file) is not there: no 500, no chart,
    a sentence saying why, and the live counters as ever."""
    services = dataclasses.replace(
        host.services, host=dataclasses.replace(host.services.host, sqlite_file=False)
    )
    async with TestClient(TestServer(create_app(services))) as client:
        assert (await client.get(await host.login_link())).status == 200
        response = await client.get("/dashboard", params={"days": "30"})
        assert response.status == 200
        page = await response.text()
    assert 'id="dash-no-report"' in page and "PostgreSQL" in page
    assert 'id="chart-' not in page and 'id="dash-summary"' not in page
    assert 'id="live-table"' in page and "Command log: written" in page
    assert "Database file" not in page  # no file to measure


async def test_each_chart_is_headed_by_its_own_title(admin):
    """Not by its last bar's tooltip (a loop variable once shadowed the chart's title)."""
    page = await (await admin.get("/dashboard")).text()
    headings = [unescape(h) for h in re.findall(r"<h2>(.*?)</h2>", page)]
    assert headings[:4] == [
        "Calls per day, by command (UTC days)",
        "Duration by command, ms (p50, p95, p99; slowest p95 first)",
        "Outcomes",
        "Onboarding funnel: users whose first command was in the period",
    ]
