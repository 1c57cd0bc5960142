"""The host's login: one-time links from `/admin web`, a signed session cookie, logging out.

    GET  /login           how to log in (where /dashboard sends a browser without a session)
    GET  /login/<token>   use a one-time link: set the session cookie, go on to /dashboard
    POST /logout          forget the session cookie

A link works once, within ten minutes (`services.web_login`). It is used by a GET because it is
a link in Discord; HEAD is not routed, so a link checker's HEAD cannot use it up. The answer is
a small page that moves on to /dashboard by itself (a meta refresh, no script) rather than a
302: a browser that arrives from Discord made a cross-site request, and SameSite=Strict keeps
the new cookie off every request of that same redirect chain, so a redirect would land on the
login page. The refresh is the site's own navigation, so the cookie goes along.

The cookie is HttpOnly and SameSite=Strict, and Secure when WEB_BASE_URL is https. A session
also needs its admin still in ADMIN_IDS: removing an admin (and restarting) ends theirs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import web

from services.analytics import HasCacheStats, HasCommandLogStats
from services.web_login import WebLoginService
from web.app import SERVICES, WebServices
from web.render import render_page

log = logging.getLogger(__name__)

SESSION_COOKIE = "ladderbot_session"
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class HostServices:
    """What the host's pages need: the logins, who is an admin, the numbers the dashboard
    shows (the database file, the running log writer and player cache)."""

    logins: WebLoginService
    admin_ids: frozenset[int]
    database_path: Path
    command_log: HasCommandLogStats
    player_cache: HasCacheStats
    started_at: datetime | None = None
    profile_cache: HasCacheStats | None = None  # None: not kept (PostgreSQL)
    # The database is an SQLite file (False on PostgreSQL): the usage report (`python bot.py
    # stats`) reads it and the live figures give its size; neither is there on PostgreSQL.
    sqlite_file: bool = True


HOST = web.AppKey("host", HostServices)
# A wildcard listening address is no address to link to: a browser on the host uses loopback.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def site_address(base_url: str | None, host: str, port: int) -> str:
    """Where links to the site point (no trailing slash): WEB_BASE_URL when set, else
    http://WEB_HOST:<the port listened on>."""
    if base_url:
        return base_url.rstrip("/")
    host = _LOOPBACK.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def login_link(address: str, token: str) -> str:
    """The one-time link /admin web gives."""
    return f"{address}/login/{token}"


def setup(app: web.Application, services: WebServices) -> None:
    """Register the login routes when the host's services are there."""
    if services.host is None:
        return
    app[HOST] = services.host
    app.router.add_get("/login", login_help, name="login")
    app.router.add_get("/login/{token}", use_link, name="login_link", allow_head=False)
    app.router.add_post("/logout", logout, name="logout")


def secure_cookies(request: web.Request) -> bool:
    """Secure cookies when the site's public address is https."""
    base_url = request.app[SERVICES].base_url
    return bool(base_url and base_url.startswith("https://"))


async def session_admin(request: web.Request) -> int | None:
    """The admin this browser is logged in as, or None (no, a bad or an expired cookie, or
    an admin no longer in ADMIN_IDS)."""
    host = request.app[HOST]
    uid = await host.logins.session_admin(request.cookies.get(SESSION_COOKIE))
    if uid is None or uid not in host.admin_ids:
        return None
    return uid


async def login_help(request: web.Request) -> web.Response:
    """How to log in: there is no password, only a one-time link from Discord."""
    logged_in = await session_admin(request) is not None
    return await _page(request, "login.html", {"state": "help", "logged_in": logged_in})


async def use_link(request: web.Request) -> web.Response:
    """Use a one-time link: the session cookie, then on to the dashboard; or say why not."""
    host = request.app[HOST]
    uid = await host.logins.redeem(request.match_info["token"])
    if uid is None or uid not in host.admin_ids:
        return await _page(request, "login.html", {"state": "refused", "logged_in": False}, 403)
    response = await _page(request, "login.html", {"state": "welcome", "logged_in": True})
    response.set_cookie(
        SESSION_COOKIE,
        await host.logins.session_cookie(uid),
        max_age=int(host.logins.session_ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
    )
    return response


async def logout(request: web.Request) -> web.Response:
    """Forget the session cookie, then show how to log in again."""
    response = web.Response(status=303, headers={"Location": "/login", **NO_STORE})
    response.del_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=secure_cookies(request)
    )
    return response


async def _page(
    request: web.Request, template: str, context: dict, status: int = 200
) -> web.Response:
    response = await render_page(template, request, context, status=status)
    response.headers.update(NO_STORE)
    return response
