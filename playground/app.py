"""The playground's page and its API: act as any player, see their DMs, live.

=====================================  ========================================================
``GET /``                              the page (``static/index.html``, its script and style)
``GET /api/state``                     players, registered commands, broken rules, links
``GET /api/players/{name}/messages``   that player's DM with the bot (embeds, components, ...)
``POST /api/players``                  ``{"name"}``: a new player
``POST /api/players/{name}/command``   ``{"command": "admin resolve", "options": {...}}``
``POST /api/players/{name}/autocomplete``  ``{"command", "focused", "value", "options"}``
``POST /api/players/{name}/click``     ``{"message", "custom_id"}``: a button
``POST /api/players/{name}/select``    ``{"message", "custom_id", "values"}``: a select menu
``POST /api/players/{name}/modal``     ``{"interaction", "values"}``: submit the modal it opened
``POST /api/simulated``                ``{"count"}``: simulated players who queue on their own
``POST /api/reset``                    a fresh playground database
``GET /api/events``                    Server-Sent Events: something changed, fetch again
=====================================  ========================================================

Each action is sent to the bot as the interaction Discord would send (the local Discord's driver,
which also checks what the Discord app checks: required options, min/max, disabled buttons);
the answer is the bot's first response — a modal to show, or nothing, since the messages arrive
through ``/api/events``. A refusal of the Discord app comes back as 400 with its reason.

Only 127.0.0.1 serves it; requests naming another host (DNS rebinding) and actions not sent as
JSON (a form posted from another site) are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from aiohttp import web

from localdiscord import FakeDiscord, FakeUser, SentInteraction
from localdiscord.protocol import AUTOCOMPLETE_RESULT, MODAL

from .runner import Playground
from .simulated import SimulatedPlayers
from .views import (
    commands_view,
    dm_counts,
    dm_view,
    modal_view,
    option_specs,
    violation_view,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"[a-z0-9_.]{2,32}")
MAX_SIMULATED = 50
EVENT_COALESCE_SECONDS = 0.1  # bursts of changes become one event
EVENT_PING_SECONDS = 15.0
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SITE = web.AppKey("site", object)


class Refused(web.HTTPBadRequest):
    """What the Discord app (or the page's API) refuses, with the reason as JSON."""

    def __init__(self, reason: str) -> None:
        super().__init__(text=json.dumps({"error": reason}), content_type="application/json")


class PlaygroundSite:
    """The page and its API on 127.0.0.1, over a running ``Playground``."""

    def __init__(self, playground: Playground, *, seed: int = 1) -> None:
        self.playground = playground
        self.simulated = SimulatedPlayers(playground, seed=seed)
        self.modals: dict[int, SentInteraction] = {}  # interactions answered with a modal
        self.app = create_app(self)
        self._runner: web.AppRunner | None = None
        self.port = 0
        playground.on_reset.append(self._forget_run)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self, host: str, port: int) -> None:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                               shutdown_timeout=1.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        await self.simulated.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _forget_run(self) -> None:
        await self.simulated.stop()
        self.modals.clear()

    # ---- helpers -------------------------------------------------------------------------

    @property
    def fake(self) -> FakeDiscord:
        fake = self.playground.fake
        if fake is None:
            raise web.HTTPServiceUnavailable(text="the playground is restarting")
        return fake

    def player(self, request: web.Request) -> FakeUser:
        try:
            return self.playground.user(request.match_info["name"])
        except LookupError:
            raise web.HTTPNotFound(text="no such player") from None

    async def answered(self, inter: SentInteraction) -> dict[str, Any]:
        """Wait for the bot's first answer; a modal is handed to the page to show."""
        fake = self.fake
        try:
            callback = await inter.response(within=fake.response_deadline + 0.5)
        except TimeoutError:
            return {"interaction": str(inter.id), "answered": False}
        result: dict[str, Any] = {"interaction": str(inter.id), "answered": True,
                                  "type": callback.type}
        if callback.type == MODAL:
            self.modals[inter.id] = inter
            result["modal"] = modal_view(callback.modal)
        return result


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise Refused("the body must be JSON") from None
    if not isinstance(body, dict):
        raise Refused("the body must be a JSON object")
    return body


def _site(request: web.Request) -> PlaygroundSite:
    return request.app[SITE]  # type: ignore[return-value]


def _message(site: PlaygroundSite, body: dict[str, Any]):
    try:
        message = site.fake.messages[int(body.get("message", 0))]
    except (KeyError, ValueError, TypeError):
        raise Refused("unknown message") from None
    return message


def _coerce(site: PlaygroundSite, path: str, options: Any) -> dict[str, Any]:
    """The page's option values (strings) as the registered option types want them."""
    if not isinstance(options, dict):
        raise Refused("options must be an object")
    specs = option_specs(site.fake, path)
    values: dict[str, Any] = {}
    for name, raw in options.items():
        spec = specs.get(name)
        if spec is None or raw is None or raw == "":
            if spec is None:
                raise Refused(f"/{path} has no option {name!r}")
            continue
        kind = spec["type"]
        try:
            if kind == "integer":
                values[name] = int(raw)
            elif kind == "number":
                values[name] = float(raw)
            elif kind == "boolean":
                values[name] = raw in (True, "true", "True", "1")
            elif kind == "user":
                values[name] = site.playground.user(str(raw))
            else:
                values[name] = str(raw)
        except (ValueError, LookupError):
            raise Refused(f"{raw!r} is not a valid {kind} for {name!r}") from None
    return values


# ---- handlers ---------------------------------------------------------------------------


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def state(request: web.Request) -> web.Response:
    site = _site(request)
    playground = site.playground
    fake = site.fake
    players = [(playground.admin, True)] if playground.admin else []
    players += [(user, False) for user in playground.players.values()]
    simulated = site.simulated.names()
    counts = dm_counts(fake)
    return web.json_response({
        "generation": playground.generation,
        "web_url": playground.web_url,
        "database": str(playground.options.database_path),
        "players": [{"name": u.username, "id": str(u.id), "admin": admin,
                     "simulated": u.username in simulated, "messages": counts[u.id]}
                    for u, admin in players],
        "users": {str(u.id): u.username for u in fake.users.values()},
        "commands": commands_view(fake),
        "violations": [violation_view(v) for v in fake.violations],
        "timers": {
            "wave_seconds": playground.ladder.matchmaking.wave_interval_seconds,
            "confirm_seconds": playground.ladder.matches.confirmation_window_seconds,
        },
    })


async def messages(request: web.Request) -> web.Response:
    site = _site(request)
    return web.json_response({"generation": site.playground.generation,
                              "messages": dm_view(site.fake, site.player(request))})


async def add_player(request: web.Request) -> web.Response:
    site = _site(request)
    name = str((await _json(request)).get("name", "")).strip().lower()
    if not NAME.fullmatch(name):
        raise Refused("a name is 2 to 32 of a-z, 0-9, _ and .")
    try:
        site.playground.add_player(name)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    return web.json_response({"name": name})


async def command(request: web.Request) -> web.Response:
    site = _site(request)
    user = site.player(request)
    body = await _json(request)
    path = " ".join(str(body.get("command", "")).split())
    options = _coerce(site, path, body.get("options") or {})
    try:
        inter = await site.fake.slash(user, path, options)
    except (AssertionError, LookupError) as exc:
        raise Refused(str(exc).splitlines()[0]) from None
    return web.json_response(await site.answered(inter))


async def autocomplete(request: web.Request) -> web.Response:
    site = _site(request)
    user = site.player(request)
    body = await _json(request)
    path = " ".join(str(body.get("command", "")).split())
    focused = str(body.get("focused", ""))
    others = {k: v for k, v in (body.get("options") or {}).items() if k != focused}
    options = _coerce(site, path, others)
    try:
        inter = await site.fake.autocomplete(user, path, focused, str(body.get("value", "")),
                                             options)
        callback = await inter.response(within=site.fake.response_deadline + 0.5)
    except (AssertionError, LookupError) as exc:
        raise Refused(str(exc).splitlines()[0]) from None
    except TimeoutError:
        return web.json_response({"choices": [], "answered": False})
    choices = callback.choices if callback.type == AUTOCOMPLETE_RESULT else []
    return web.json_response({"choices": [{"name": c["name"], "value": c["value"]}
                                          for c in choices], "answered": True})


async def click(request: web.Request) -> web.Response:
    site = _site(request)
    user = site.player(request)
    body = await _json(request)
    message = _message(site, body)
    try:
        inter = await site.fake.click(user, message, custom_id=str(body.get("custom_id", "")))
    except (AssertionError, LookupError) as exc:
        raise Refused(str(exc).splitlines()[0]) from None
    return web.json_response(await site.answered(inter))


async def select(request: web.Request) -> web.Response:
    site = _site(request)
    user = site.player(request)
    body = await _json(request)
    message = _message(site, body)
    values = body.get("values")
    if not isinstance(values, list):
        raise Refused("values must be a list")
    try:
        inter = await site.fake.select(user, message, [str(v) for v in values],
                                       custom_id=str(body.get("custom_id", "")))
    except (AssertionError, LookupError) as exc:
        raise Refused(str(exc).splitlines()[0]) from None
    return web.json_response(await site.answered(inter))


async def submit_modal(request: web.Request) -> web.Response:
    site = _site(request)
    user = site.player(request)
    body = await _json(request)
    try:
        opened_by = site.modals[int(body.get("interaction", 0))]
    except (KeyError, ValueError, TypeError):
        raise Refused("no such modal is open") from None
    values = body.get("values")
    if not isinstance(values, dict):
        raise Refused("values must be an object")
    try:
        inter = await site.fake.submit_modal(user, opened_by,
                                             {str(k): str(v) for k, v in values.items()})
    except (AssertionError, LookupError) as exc:
        raise Refused(str(exc).splitlines()[0]) from None
    site.modals.pop(opened_by.id, None)
    return web.json_response(await site.answered(inter))


async def add_simulated(request: web.Request) -> web.Response:
    site = _site(request)
    try:
        count = int((await _json(request)).get("count", 0))
    except (TypeError, ValueError):
        raise Refused("count must be a whole number") from None
    if not 1 <= count <= MAX_SIMULATED - len(site.simulated.names()):
        raise Refused(f"at most {MAX_SIMULATED} simulated players in all")
    names = site.simulated.add(count)
    return web.json_response({"added": names})


async def reset(request: web.Request) -> web.Response:
    site = _site(request)
    await _json(request)
    await site.playground.reset()
    return web.json_response({"generation": site.playground.generation})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one ``change`` event per burst of changes, and keep-alive pings."""
    site = _site(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache",
                                           "Content-Security-Policy": CSP})
    await response.prepare(request)
    seen: tuple[int, ...] = ()
    with contextlib.suppress(ConnectionResetError):  # the page was closed
        while True:
            now = await site.playground.wait_change(seen, EVENT_PING_SECONDS)
            if now == seen:
                await response.write(b": ping\n\n")
                continue
            seen = now
            data = json.dumps({"generation": now[0], "version": list(now)})
            await response.write(f"event: change\ndata: {data}\n\n".encode())
            await asyncio.sleep(EVENT_COALESCE_SECONDS)
    return response


@web.middleware
async def guard(request: web.Request, handler) -> web.StreamResponse:
    """Local only, JSON actions only, and the page's security headers."""
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else ""
    if host not in ("127.0.0.1", "localhost"):
        raise web.HTTPMisdirectedRequest(text="the playground answers on 127.0.0.1 only")
    if request.method == "POST" and request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="actions are sent as application/json")
    response = await handler(request)
    if response.prepared:  # the event stream: sent with its headers already
        return response
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def create_app(site: PlaygroundSite) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[SITE] = site
    player = "/api/players/{name}"
    app.router.add_get("/", index)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/events", events)
    app.router.add_post("/api/players", add_player)
    app.router.add_get(player + "/messages", messages)
    app.router.add_post(player + "/command", command)
    app.router.add_post(player + "/autocomplete", autocomplete)
    app.router.add_post(player + "/click", click)
    app.router.add_post(player + "/select", select)
    app.router.add_post(player + "/modal", submit_modal)
    app.router.add_post("/api/simulated", add_simulated)
    app.router.add_post("/api/reset", reset)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
