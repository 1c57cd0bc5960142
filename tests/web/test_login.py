"""The host's login: one-time links from /admin web, the session cookie, logging out."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.web_login import LINK_TTL, WebLoginService
from tests.web.host_seed import open_host
from tests.web.seed import ADMIN_UID
from web.app import create_app
from web.login import SESSION_COOKIE, site_address


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
async def host(site, seeded, clock, request):
    base_url = getattr(request, "param", None)
    opened = await open_host(
        site, seeded, base_url=base_url, logins=WebLoginService(site.db, clock=clock)
    )
    yield opened
    await opened.close()


@pytest.fixture
async def browser(host):
    """A test client with its own cookie jar, like one browser."""
    async with TestClient(TestServer(create_app(host.services))) as test_client:
        yield test_client


def set_cookie_header(response) -> str:
    headers = [h for h in response.headers.getall("Set-Cookie", []) if SESSION_COOKIE in h]
    assert len(headers) == 1, headers
    return headers[0]


async def test_the_dashboard_without_a_session_sends_you_to_how_to_log_in(browser):
    response = await browser.get("/dashboard", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    page = await browser.get("/login")
    text = await page.text()
    assert page.status == 200
    assert "/admin web" in text and "no password" in text
    assert page.headers["Cache-Control"] == "no-store"


async def test_a_link_logs_in_and_moves_on_to_the_dashboard(browser, host):
    response = await browser.get(await host.login_link())
    assert response.status == 200
    text = await response.text()
    assert '<meta http-equiv="refresh" content="0; url=/dashboard">' in text
    cookie = set_cookie_header(response)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the site is plain http here
    assert re.search(r"Max-Age=43200\b", cookie)
    dashboard = await browser.get("/dashboard", allow_redirects=False)
    assert dashboard.status == 200
    assert 'id="chart-calls"' in await dashboard.text()


@pytest.mark.parametrize("host", ["https://ladder.example.org"], indirect=True)
async def test_the_cookie_is_secure_when_the_site_is_https(browser, host):
    response = await browser.get(await host.login_link())
    assert response.status == 200
    assert "Secure" in set_cookie_header(response)


async def test_a_link_used_twice_is_refused(browser, host):
    link = await host.login_link()
    assert (await browser.get(link)).status == 200
    async with TestClient(TestServer(create_app(host.services))) as other:
        again = await other.get(link)
        assert again.status == 403
        assert "does not work" in await again.text()
        assert not again.headers.getall("Set-Cookie", [])
        assert (await other.get("/dashboard", allow_redirects=False)).status == 303


async def test_two_clicks_at_once_log_in_once(host):
    link = await host.login_link()
    app = create_app(host.services)
    async with (
        TestClient(TestServer(app)) as first,
        TestClient(TestServer(create_app(host.services))) as second,
    ):
        answers = await asyncio.gather(first.get(link), second.get(link))
        assert sorted(a.status for a in answers) == [200, 403]


async def test_an_expired_link_is_refused(browser, host, clock):
    link = await host.login_link()
    clock.now += LINK_TTL + timedelta(seconds=1)
    response = await browser.get(link)
    assert response.status == 403
    assert "ten minutes" in await response.text()


async def test_a_head_request_does_not_use_the_link(browser, host):
    link = await host.login_link()
    assert (await browser.head(link)).status == 405
    assert (await browser.get(link)).status == 200


async def test_a_link_for_someone_no_longer_an_admin_is_refused(browser, host):
    link = f"/login/{await host.logins.issue(12345)}"
    assert (await browser.get(link)).status == 403


@pytest.mark.parametrize(
    "token", ["x", "A" * 43, "%3Cscript%3E", "A" * 200, "..%2F..%2Fetc%2Fpasswd"]
)
async def test_unknown_tokens_are_refused(browser, token):
    response = await browser.get(f"/login/{token}")
    assert response.status in (403, 404)
    assert "<script>" not in await response.text()


async def test_a_forged_or_foreign_cookie_is_not_a_session(browser, host):
    real = await host.logins.session_cookie(ADMIN_UID)
    uid, expires, signature = real.split(".")
    for value in (
        f"{uid}.{int(expires) + 3600}.{signature}",
        f"{uid}.{expires}.{'A' * 43}",
        await host.logins.session_cookie(12345),  # signed, but not an admin
        "garbage",
    ):
        browser.session.cookie_jar.update_cookies({SESSION_COOKIE: value})
        response = await browser.get("/dashboard", allow_redirects=False)
        assert response.status == 303, value


async def test_an_expired_session_ends(browser, host, clock):
    assert (await browser.get(await host.login_link())).status == 200
    assert (await browser.get("/dashboard", allow_redirects=False)).status == 200
    clock.now += host.logins.session_ttl
    assert (await browser.get("/dashboard", allow_redirects=False)).status == 303


async def test_logging_out_ends_the_session(browser, host):
    assert (await browser.get(await host.login_link())).status == 200
    response = await browser.post("/logout", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/login"
    assert (await browser.get("/dashboard", allow_redirects=False)).status == 303


async def test_without_the_host_services_there_is_no_login(client):
    assert (await client.get("/login")).status == 404
    assert (await client.get("/dashboard")).status == 404


@pytest.mark.parametrize(
    ("base_url", "host", "port", "address"),
    [
        ("https://ladder.example.org/", "127.0.0.1", 8080, "https://ladder.example.org"),
        (None, "127.0.0.1", 8080, "http://127.0.0.1:8080"),
        (None, "0.0.0.0", 41234, "http://127.0.0.1:41234"),  # a wildcard: loopback
        (None, "::", 8080, "http://[::1]:8080"),
        (None, "ladder.lan", 80, "http://ladder.lan:80"),
    ],
)
def test_where_admin_web_links_point(base_url, host, port, address):
    assert site_address(base_url, host, port) == address
