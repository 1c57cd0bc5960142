"""The website's aiohttp application: templates, static files, security headers, error pages.

`create_app` is handed the services the pages read through (never the database): the same
services the Discord commands use, so a page shows what /leaderboard and /profile show. Pages
are rendered on the server from Jinja2 templates with autoescaping on, and work without
JavaScript. Every response carries a Content-Security-Policy that forbids inline scripts.

Routes are registered in one place, `_routes` below: the public pages (web/public.py), then
the host's pages (login and dashboard), each module with a `setup(app, services)`.

Pages are in the reader's language (web/language.py): its middleware comes first, so every
handler, error page and template below it writes with i18n's `_()`. The JSON API stays English.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from i18n import N_, Text, _, lazy
from services.public import PublicLadder
from web import language
from web.load import Defer, RequestGate

if TYPE_CHECKING:
    from services.seasons import SeasonService
    from web.login import HostServices

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# No inline script or style, nothing from another origin; SVG charts are inline markup
# (presentation attributes, no style attributes), so they need nothing more.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# A static URL carries its file's hash (?v=...), so a versioned one never changes.
STATIC_VERSIONED_CACHE = "public, max-age=31536000, immutable"
STATIC_CACHE = "public, max-age=3600"
ROBOTS_TXT = "User-agent: *\nDisallow: /api/\nDisallow: /dashboard\nDisallow: /login\n"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class WebServices:
    """What the pages read through. The host's half (login, dashboard) adds its fields here."""

    public: PublicLadder
    base_url: str | None = None  # WEB_BASE_URL: the site's public address, if set
    host: HostServices | None = None  # the login and the dashboard (web/login.py); None: off
    seasons: SeasonService | None = None  # past seasons' pages (web/seasons.py); None: off
    # Lets Discord answers in progress go first (the bot's admission.quiet; web/load.py).
    defer_to: Defer | None = None


SERVICES = web.AppKey("services", WebServices)


def create_app(services: WebServices) -> web.Application:
    """Build the application: templates, middlewares, static files, robots.txt and routes."""
    # The gate bounds the requests running and waiting (web/load.py): the site shares the
    # bot's event loop, and must not build a backlog that holds Discord commands up.
    # The language comes first: the gate's 503 and the error pages are in it too.
    app = web.Application(
        middlewares=[
            language.language,
            security_headers,
            RequestGate(defer=services.defer_to).middleware,
            error_pages,
        ]
    )
    app[SERVICES] = services
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html", "xml", "svg"), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    language.install(env)
    app.router.add_static("/static/", STATIC, name="static", append_version=True)
    env.globals["static"] = static_urls(app)
    app.router.add_get("/robots.txt", robots_txt, name="robots")
    _routes(app, services)
    # The pages' history reads get a read-only connection (and thread) of their own.
    app.on_startup.append(_open_reads)
    app.on_cleanup.append(_close_reads)
    return app


def static_urls(app: web.Application) -> Callable[[str], str]:
    """`static(name)` in a template: the file's URL with its hash. aiohttp reads and hashes
    the file at every call (0.5 ms a page); the files do not change while the site runs, so
    each URL is made once."""
    urls: dict[str, str] = {}

    def static(name: str) -> str:
        url = urls.get(name)
        if url is None:
            url = urls[name] = str(app.router["static"].url_for(filename=name))
        return url

    return static


async def _open_reads(app: web.Application) -> None:
    await app[SERVICES].public.open_reads()


async def _close_reads(app: web.Application) -> None:
    await app[SERVICES].public.close_reads()


def _routes(app: web.Application, services: WebServices) -> None:
    """Every page and API route, registered here and only here."""
    from web import dashboard, public, seasons

    public.setup(app, services)
    seasons.setup(app, services)  # /seasons: past seasons' final standings
    dashboard.setup(app, services)  # the host's: /login, /login/<token>, /logout, /dashboard


async def robots_txt(request: web.Request) -> web.Response:
    return web.Response(text=ROBOTS_TXT, content_type="text/plain")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every response: the CSP and friends; static files: cache headers."""
    response = await handler(request)
    _decorate(request, response)
    return response


def _decorate(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith("/static/") and response.status == 200:
        versioned = "v" in request.query
        response.headers["Cache-Control"] = STATIC_VERSIONED_CACHE if versioned else STATIC_CACHE


class PageNotFound(web.HTTPNotFound):
    """A 404 that says what is not there: in English for the API, translated on a page.

    `message` is an English msgid (mark a literal with N_) with its named values."""

    def __init__(self, message: str, /, **params: object) -> None:
        self.message: Text = lazy(message, **params)
        super().__init__(text=self.message.english())


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn a 404 into the site's own page (JSON under /api/) and an error into a plain 500."""
    try:
        return await handler(request)
    except PageNotFound as exc:
        return not_found(request, exc.message)
    except web.HTTPNotFound as exc:
        return not_found(request, exc.text if exc.text and exc.text != "404: Not Found" else None)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("Web request %s %s failed", request.method, request.path)
        return error_response(request, 500, N_("Something went wrong on our side."))


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def not_found(request: web.Request, what: str | Text | None = None) -> web.StreamResponse:
    """The 404 page (or JSON for the API), saying what was not found when known."""
    return error_response(request, 404, what or N_("There is no page at this address."))


def error_response(request: web.Request, status: int, message: str | Text) -> web.StreamResponse:
    """An error as the site's page, or as `{"error": message}` under /api/ (in English).

    A `str` message is an English msgid (N_) without values; a `Text` carries its values."""
    if is_api(request):
        english = message.english() if isinstance(message, Text) else message
        response: web.StreamResponse = web.json_response({"error": english}, status=status)
    else:
        shown = str(message) if isinstance(message, Text) else _(message)
        response = aiohttp_jinja2.render_template(
            "error.html", request, {"status": status, "message": shown}, status=status
        )
    _decorate(request, response)
    return response
