"""The REST API the bot uses, under ``/api/v10``: start-up, application commands, DMs and
channel messages (answering interactions is ``answers.py``).

nextcord builds every URL from ``nextcord.http.Route.BASE``; the bot sets it from
``DISCORD_API_BASE`` (``api_base``) and so reaches this server instead of Discord. Every request
passes the middleware: it is recorded in ``requests``, must carry the bot token (interaction
callbacks and webhooks carry their own), and an unknown route is recorded in ``unknown_routes``
and answered 404 as Discord does.

Opt-in, off by default: ``global_rate_limit=50`` plays Discord's global rate limit (50 requests
a second per bot). A request with the bot token that would be one more than that within the last
second (a sliding window) is answered 429 the way Discord answers it (``"global": true``,
``retry_after``, ``X-RateLimit-Global``, ``Retry-After``) and is not served; nextcord waits and
sends it again. Interaction callbacks and webhooks are exempt, as on Discord. It is a rule the bot
cannot break, only be slowed by, so it records no violation: the 429s are in ``requests`` with
status 429. ``throttled[path] = n`` answers the next ``n`` requests to that path 429 for its
bucket (a short ``retry_after``), whatever the rate: a burst longer than a client's retries.

nextcord compares the commands it reads back with its own, field by field, and registers them
again on any difference; so commands are stored exactly as sent, plus their ids.
"""

from __future__ import annotations

import copy
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import rules
from .objects import RecordedMessage, RecordedRequest
from .protocol import API_VERSION, EPHEMERAL
from .replies import (
    BODY,
    FILES,
    attachment_records,
    form_error,
    global_rate_limited,
    is_webhook_route,
    no_content,
    ratelimit_headers,
    read_body,
    refuse,
    reply,
    route_rate_limited,
)
from .world import World

log = logging.getLogger(__name__)

THROTTLE_RETRY_AFTER = 0.05  # seconds, in the 429s of `throttled`


class Rest(World):
    """The REST half of the local Discord, but for interaction answers."""

    def _init_rest(self, *, global_rate_limit: int | None) -> None:
        # Requests a second the bot token may make (None: unlimited); see the module docstring.
        self.global_rate_limit = global_rate_limit
        self._global_window: deque[float] = deque()  # when the requests of the last second came
        # Channel messages whose edits the server refuses (403), to lose an edit on purpose.
        self.refused_edits: set[int] = set()
        # Requests to answer 429 (their bucket's) before serving, per path, e.g.
        # "/channels/123/messages": a burst longer than a client's own retries.
        self.throttled: Counter[str] = Counter()
        self.unknown_routes: list[str] = []

    # ---- plumbing --------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]
                          ) -> web.StreamResponse:
        """Record each request, check auth, answer unknown routes, add rate-limit headers."""
        match = request.match_info
        route = getattr(match.route.resource, "canonical", request.path) if match.route.resource \
            else request.path
        if route == "/gateway" or route.startswith("/attachments/"):  # no token: like the CDN
            return await handler(request)
        body, files = await read_body(request)
        request[BODY], request[FILES] = body, files
        prefix = f"/api/v{API_VERSION}"
        short_route, path = route.removeprefix(prefix), request.path.removeprefix(prefix)
        if match.http_exception is not None:
            self.unknown_routes.append(f"{request.method} {request.path}")
            log.warning("local Discord: unknown route %s %s", request.method, request.path)
            response: web.StreamResponse = refuse(404, 0, "404: Not Found")
        elif not is_webhook_route(route) and request.headers.get(
                "Authorization") != f"Bot {self.token}":
            self.violation("unauthorized",
                           f"{request.method} {request.path} with a wrong or no bot token")
            response = refuse(401, 0, "401: Unauthorized")
        elif (retry_after := self._over_global_limit(route)) is not None:
            response = global_rate_limited(retry_after)
        elif self.throttled[path] > 0:
            self.throttled[path] -= 1
            response = route_rate_limited(request.method, short_route, THROTTLE_RETRY_AFTER)
        else:
            response = await handler(request)
        if response.status != 429:  # a 429 has its own headers (a global one: no route bucket)
            response.headers.update(ratelimit_headers(request.method, short_route))
        is_command_route = "/commands" in short_route
        self.requests.append(RecordedRequest(
            request.method, path, short_route, dict(request.query), body, response.status,
            time.monotonic()))
        if is_command_route:
            self._last_command_activity = time.monotonic()
        self._notify()
        return response

    def reset_rate_limit(self) -> None:
        """Forget the requests of the last second, as if it had passed (no test sleeps for it)."""
        self._global_window.clear()

    def _over_global_limit(self, route: str) -> float | None:
        """Seconds until this request would fit the opt-in global rate limit; None if it fits
        now (it is then counted) or there is no limit."""
        if self.global_rate_limit is None or is_webhook_route(route):
            return None
        now = time.monotonic()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.global_rate_limit:
            return window[0] + 1.0 - now
        window.append(now)
        return None

    # ---- start-up ----------------------------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return reply({**self.bot_user.payload(), "verified": True, "mfa_enabled": False,
                      "flags": 0, "email": None, "locale": "en-US"})

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return reply({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return reply({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = next(iter(u for u in self.users.values() if not u.bot), self.bot_user)
        return reply({"id": str(self.application_id), "name": self.bot_user.username,
                      "icon": None, "description": "", "rpc_origins": [], "bot_public": False,
                      "bot_require_code_grant": False, "owner": owner.payload(), "team": None,
                      "verify_key": "0" * 64, "flags": 0, "summary": "",
                      "bot": self.bot_user.payload()})

    # ---- application commands ----------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> web.Response | int | None:
        if int(request.match_info["app_id"]) != self.application_id:
            return refuse(403, 50001, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.guilds:
            return refuse(403, 50001, "Missing Access")
        return guild_id

    def _store_command(self, scope: int | None, data: dict[str, Any],
                       command_id: int | None = None) -> dict[str, Any]:
        """Store a command exactly as sent, plus the fields Discord adds."""
        existing = self.commands.setdefault(scope, {})
        if command_id is None:  # POST with a known name overwrites that command (an upsert)
            command_id = next((cid for cid, c in existing.items() if c["name"] == data.get(
                "name") and c.get("type", 1) == data.get("type", 1)), None)
        command_id = command_id or self.ids.next()
        stored = {**copy.deepcopy(data), "id": str(command_id),
                  "application_id": str(self.application_id), "version": str(self.ids.next())}
        if scope is not None:
            stored["guild_id"] = str(scope)
        existing[command_id] = stored
        return stored

    def _bad_commands(self, payloads: list[dict[str, Any]]) -> web.Response | None:
        problems = [p for payload in payloads for p in rules.check_command(payload)]
        if problems:
            self.violation("invalid-command", "; ".join(problems))
            return form_error(problems)
        return None

    async def _in_scope(self, request: web.Request,
                        work: Callable[[int | None], web.Response]) -> web.Response:
        """Run ``work`` for the command scope in the URL (None = global), if it is ours."""
        scope = self._command_scope(request)
        return scope if isinstance(scope, web.Response) else work(scope)

    async def _list_commands(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            if scope is None:
                self._commands_listed = True
            return reply(list(self.commands.get(scope, {}).values()))

        return await self._in_scope(request, work)

    async def _get_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            cmd = self.commands.get(scope, {}).get(int(request.match_info["command_id"]))
            return reply(cmd) if cmd else refuse(404, 10063, "Unknown application command")

        return await self._in_scope(request, work)

    async def _create_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            return self._bad_commands([request[BODY]]) or reply(
                self._store_command(scope, request[BODY]), status=201)

        return await self._in_scope(request, work)

    async def _overwrite_commands(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            bad = self._bad_commands(request[BODY])
            if bad:
                return bad
            old = {c["name"]: cid for cid, c in self.commands.get(scope, {}).items()}
            self.commands[scope] = {}
            stored = [self._store_command(scope, c, old.get(c["name"])) for c in request[BODY]]
            return reply(stored)

        return await self._in_scope(request, work)

    async def _edit_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            command_id = int(request.match_info["command_id"])
            cmd = self.commands.get(scope, {}).get(command_id)
            if cmd is None:
                return refuse(404, 10063, "Unknown application command")
            merged = {k: v for k, v in cmd.items()
                      if k not in ("id", "application_id", "version", "guild_id")}
            merged.update(request[BODY])
            return self._bad_commands([merged]) or reply(
                self._store_command(scope, merged, command_id))

        return await self._in_scope(request, work)

    async def _delete_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            removed = self.commands.get(scope, {}).pop(int(request.match_info["command_id"]),
                                                       None)
            return no_content() if removed else refuse(404, 10063, "Unknown application command")

        return await self._in_scope(request, work)

    # ---- DMs and channel messages ----------------------------------------------------------

    def _apply_edit(self, message: RecordedMessage, request: web.Request,
                    interaction_id: int | None) -> web.Response:
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": attachment_records(request[FILES])}
        problems = rules.check_message(data, new=False)
        if message.loading:  # filling in a deferred reply: the result must not be empty
            merged = {"content": message.content, "embeds": message.embeds,
                      "components": message.components, **data}
            problems += [p for p in rules.check_message(merged, new=True) if "empty" in p]
        if problems:
            self.violation("invalid-message", "; ".join(problems), interaction_id)
            return form_error(problems)
        message.apply(data)
        return reply(message.payload(self.application_id))
    async def _open_dm(self, request: web.Request) -> web.Response:
        user = self.users.get(int((request[BODY] or {}).get("recipient_id", 0)))
        if user is None:
            return refuse(400, 50035, "Invalid Form Body")
        return reply(self.dm_channel(user).payload())

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["user_id"]))
        return reply(user.payload()) if user else refuse(404, 10013, "Unknown User")

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        user = self.users.get(int(request.match_info["user_id"]))
        if guild is None:
            return refuse(404, 10004, "Unknown Guild")
        if user is None or user not in guild.members:
            return refuse(404, 10007, "Unknown Member")
        return reply(guild.member_payload(user))

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel_id"]))
        return reply(channel.payload()) if channel else refuse(404, 10003, "Unknown Channel")

    async def _send_message(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            return refuse(404, 10003, "Unknown Channel")
        if channel.recipient is not None and not channel.recipient.dms_open:
            return refuse(403, 50007, "Cannot send messages to this user")
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": attachment_records(request[FILES])}
        problems = rules.check_message(data, new=True)
        if problems:
            self.violation("invalid-message", "; ".join(problems))
            return form_error(problems)
        data = {**data, "flags": int(data.get("flags") or 0) & ~EPHEMERAL}
        return reply(self._new_message(channel, data).payload(self.application_id))

    def _channel_message(self, request: web.Request) -> RecordedMessage | web.Response:
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self.channels:
            return refuse(404, 10003, "Unknown Channel")
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None or message.channel.id != channel_id or message.deleted \
                or message.ephemeral:  # ephemeral messages exist only for their webhook
            return refuse(404, 10008, "Unknown Message")
        return message

    async def _get_message(self, request: web.Request) -> web.Response:
        found = self._channel_message(request)
        if isinstance(found, web.Response):
            return found
        return reply(found.payload(self.application_id))

    async def _edit_message(self, request: web.Request) -> web.Response:
        found = self._channel_message(request)
        if isinstance(found, web.Response):
            return found
        if found.id in self.refused_edits:  # lost, as far as the bot can tell (no retry)
            return web.json_response({"message": "Missing Access", "code": 50001}, status=403)
        return self._apply_edit(found, request, None)

    async def _delete_message(self, request: web.Request) -> web.Response:
        found = self._channel_message(request)
        if isinstance(found, web.Response):
            return found
        found.deleted = True
        return no_content()

