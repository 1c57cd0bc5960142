"""The host's dashboard in a real browser: refused without a login, its charts after the
one-time link, followed from another site the way a click in Discord arrives."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from web.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHARTS = ("calls", "latency", "outcomes", "funnel")


@pytest_asyncio.fixture(loop_scope="module")
async def elsewhere(served) -> AsyncIterator:
    """Another site ("localhost", not 127.0.0.1) with a page that links to a login link: the
    browser then arrives cross-site, as from a link in Discord."""
    links: dict[str, str] = {}

    async def page(request: web.Request) -> web.Response:
        href = links["href"]
        head = '<link rel="icon" href="data:,">'
        body = f'<a id="go" href="{href}">log in</a>'
        return web.Response(text=f"{head}{body}", content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]

    def link_to(href: str) -> str:
        links["href"] = href
        return f"http://localhost:{port}/"

    try:
        yield link_to
    finally:
        await runner.cleanup()


async def test_the_dashboard_refuses_without_a_login(served, tab):
    page = tab.page
    await page.goto(served.url + "/dashboard")
    assert page.url == served.url + "/login"
    assert "/admin web" in await page.text_content("#login-help")
    assert await page.locator("svg.dash-chart").count() == 0
    await tab.shot("login-help")


async def test_the_one_time_link_opens_the_dashboard_with_its_charts(served, tab, elsewhere):
    page = tab.page
    link = served.url + await served.host.login_link()
    await page.goto(elsewhere(link))
    async with page.expect_navigation(url=served.url + "/dashboard"):
        await page.click("#go")
    await page.wait_for_load_state("load")
    for chart in CHARTS:
        svg = page.locator(f"svg#chart-{chart}")
        assert await svg.is_visible(), chart
        assert await svg.locator("rect.bar").count() > 0, chart
    # One bar per command and day with calls; their values add up to every logged call.
    values = await page.locator("svg#chart-calls rect.bar").evaluate_all(
        "bars => bars.map(b => Number(b.dataset.value))"
    )
    assert sum(values) == served.host.calls.total()
    latency = await page.locator("svg#chart-latency rect.bar").count()
    assert latency == 3 * len(served.host.calls)  # p50, p95 and p99 of each command
    assert "Command log: written" in await page.text_content("#live-table")
    await tab.shot("dashboard")

    await page.click("text=30 days")
    await page.wait_for_url(served.url + "/dashboard?days=30")
    assert "(30 UTC days" in await page.text_content("#dash-summary")

    # The link again, in another browser: refused.
    other = await page.context.browser.new_context()
    try:
        again = await other.new_page()
        response = await again.goto(link)
        assert response.status == 403
        assert await again.locator("#login-refused").is_visible()
        await again.goto(served.url + "/dashboard")
        assert again.url == served.url + "/login"
    finally:
        await other.close()


async def test_logging_out(served, tab):
    page = tab.page
    await page.goto(served.url + await served.host.login_link())
    await page.wait_for_url(served.url + "/dashboard")
    await page.click("text=Log out")
    await page.wait_for_url(served.url + "/login")
    await page.goto(served.url + "/dashboard")
    assert page.url == served.url + "/login"


async def test_on_postgresql_the_dashboard_says_so_wide_and_narrow(served, tab):
    """As on PostgreSQL (the report reads the SQLite file): a sentence instead of the charts,
    the live figures, readable on a desktop and on a phone."""
    host = dataclasses.replace(served.host.services.host, sqlite_file=False, profile_cache=None)
    runner = web.AppRunner(
        create_app(dataclasses.replace(served.host.services, host=host)), access_log=None
    )
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        page = tab.page
        await page.goto(url + await served.host.login_link())
        await page.wait_for_url(url + "/dashboard")  # the link's own refresh goes on there
        assert "PostgreSQL" in await page.text_content("#dash-no-report")
        assert await page.locator("svg.dash-chart").count() == 0
        live = await page.text_content("#live-table")
        assert "Command log: written" in live and "off (PostgreSQL)" in live
        await tab.shot("no-report-wide")
        await page.set_viewport_size({"width": 390, "height": 844})
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow} px wider than a phone"
        hidden = await page.evaluate(
            "(t => t.scrollWidth - t.clientWidth)(document.getElementById('live-table'))"
        )
        assert hidden <= 0, f"the live figures need {hidden} px of sideways scrolling"
        await tab.shot("no-report-phone")
    finally:
        await runner.cleanup()
