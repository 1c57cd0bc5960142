"""``FakeDiscord``: the local Discord as one server, the parts put together.

It is an aiohttp server on 127.0.0.1 (a free port) that plays both halves of Discord: the REST
API under ``/api/v10`` (``rest.py``, ``answers.py``) and the gateway websocket at ``/gateway``
(``gateway.py``). What the bot relies on, and so all that is served (the route table is below):

=============================================  ================================================
start-up                                        ``GET /users/@me`` (login checks the token),
                                                ``GET /gateway``, then the websocket:
                                                HELLO → IDENTIFY → READY → GUILD_CREATE per guild
command sync (on READY, nextcord's on_connect)  ``GET/POST/PUT /applications/{app}/commands``,
                                                ``PATCH/DELETE .../commands/{id}``, the same under
                                                ``/guilds/{guild}/``
a player uses a command                         gateway ``INTERACTION_CREATE`` (``driver.py``)
the bot answers                                 ``POST /interactions/{id}/{token}/callback``,
                                                ``POST /webhooks/{app}/{token}`` (followups),
                                                ``GET/PATCH/DELETE .../messages/@original|{id}``
the bot writes to a player                      ``POST /users/@me/channels`` (open the DM), then
                                                ``POST /channels/{id}/messages``; edits with PATCH
=============================================  ================================================

Anything else is recorded in ``unknown_routes`` and answered 404 the way Discord does. A broken
rule (``rules.py``) is answered as Discord answers it (400, 404, ...) **and** recorded in
``violations``; ``take_violations()`` clears them for a run that expects one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from .answers import Answers
from .driver import Driver
from .gateway import Gateway
from .objects import DEFAULT_WAIT, FakeChannel, FakeGuild, FakeRole, FakeUser
from .protocol import ADMINISTRATOR, API_VERSION, EVERYONE_PERMISSIONS, GUILD_TEXT

log = logging.getLogger(__name__)


class FakeDiscord(Driver, Answers, Gateway):
    """``async with FakeDiscord() as fake:`` serves Discord on ``fake.api_base``."""

    def __init__(self, *, token: str = "test-token", bot_name: str = "LadderBot",
                 allowed_privileged_intents: int = 0,
                 heartbeat_interval_ms: int = 41_250,
                 global_rate_limit: int | None = None) -> None:
        super().__init__(token=token, bot_name=bot_name)
        self._init_gateway(allowed_privileged_intents=allowed_privileged_intents,
                           heartbeat_interval_ms=heartbeat_interval_ms)
        self._init_rest(global_rate_limit=global_rate_limit)
        self._runner: web.AppRunner | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 2**20)
        self._add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("local Discord listening on %s", self.api_base)
        return self

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"local Discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ---- building the world ----------------------------------------------------------------

    def guild(self, name: str = "Ladder Server", *, members: Iterable[FakeUser] = (),
              channels: Iterable[str] = ("general",), owner: FakeUser | None = None,
              admins: Iterable[FakeUser] = ()) -> FakeGuild:
        """A guild the bot is in. Add it before the bot connects (or it joins while running).

        ``admins`` get a role with the Administrator permission.
        """
        guild_id = self.ids.next()
        owner = owner or self.user("owner")
        members = list(dict.fromkeys([owner, self.bot_user, *members, *admins]))
        everyone = FakeRole(guild_id, "@everyone", EVERYONE_PERMISSIONS)
        admin_role = FakeRole(self.ids.next(), "Admin", ADMINISTRATOR, position=1)
        guild = FakeGuild(guild_id, name, owner, members=members, roles=[everyone, admin_role])
        for admin in admins:
            guild.member_roles[admin.id] = [admin_role.id]
        for channel_name in channels:
            channel = FakeChannel(self.ids.next(), GUILD_TEXT, channel_name, guild_id)
            guild.channels.append(channel)
            self.channels[channel.id] = channel
        self.guilds[guild.id] = guild
        self.commands.setdefault(guild.id, {})
        if self.current_session and self.current_session.ready:
            self._spawn(self.dispatch("GUILD_CREATE", guild.create_payload()))
        return guild

    # ---- waiting for the bot --------------------------------------------------------------

    async def wait_synced(self, *, names: Iterable[str] = (),
                          guild: FakeGuild | int | None = None, after: int = 0,
                          quiet: float | None = None, within: float = DEFAULT_WAIT) -> None:
        """Wait until the bot is connected and done syncing its application commands.

        "Done" means: it read the global command list since READY, no command request came
        for ``quiet`` seconds, and every name in ``names`` is registered. The default quiet
        time is short when ``names`` says what to expect.
        """
        await self.wait_ready(after=after, within=within)
        wanted = set(names)
        quiet = quiet if quiet is not None else (0.05 if wanted else 0.25)

        def settled() -> bool:
            if not self._commands_listed:
                return False
            if not wanted <= self.command_names(guild):
                return False
            return time.monotonic() - self._last_command_activity >= quiet

        await self.wait_until(settled, within, f"the bot to sync its commands {sorted(wanted)}",
                              poll=quiet / 2)

    # ---- what is served --------------------------------------------------------------------

    def _add_routes(self, router: web.UrlDispatcher) -> None:
        p = f"/api/v{API_VERSION}"
        cmds = "/applications/{app_id}/commands"
        gcmds = "/applications/{app_id}/guilds/{guild_id}/commands"
        hook = "/webhooks/{app_id}/{token}"
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            # start-up
            ("GET", "/users/@me", self._get_me),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/applications/@me", self._get_application),
            # application commands (global, then per guild)
            ("GET", cmds, self._list_commands),
            ("POST", cmds, self._create_command),
            ("PUT", cmds, self._overwrite_commands),
            ("GET", cmds + "/{command_id}", self._get_command),
            ("PATCH", cmds + "/{command_id}", self._edit_command),
            ("DELETE", cmds + "/{command_id}", self._delete_command),
            ("GET", gcmds, self._list_commands),
            ("POST", gcmds, self._create_command),
            ("PUT", gcmds, self._overwrite_commands),
            ("GET", gcmds + "/{command_id}", self._get_command),
            ("PATCH", gcmds + "/{command_id}", self._edit_command),
            ("DELETE", gcmds + "/{command_id}", self._delete_command),
            # answering interactions
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback),
            ("POST", hook, self._followup),
            ("GET", hook + "/messages/@original", self._get_webhook_message),
            ("PATCH", hook + "/messages/@original", self._edit_webhook_message),
            ("DELETE", hook + "/messages/@original", self._delete_webhook_message),
            ("GET", hook + "/messages/{message_id}", self._get_webhook_message),
            ("PATCH", hook + "/messages/{message_id}", self._edit_webhook_message),
            ("DELETE", hook + "/messages/{message_id}", self._delete_webhook_message),
            # DMs and channel messages
            ("POST", "/users/@me/channels", self._open_dm),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("POST", "/channels/{channel_id}/messages", self._send_message),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
        ]
        for method, path, handler in routes:
            router.add_route(method, p + path, handler)
        router.add_get("/gateway", self._gateway)
        router.add_get("/attachments/{attachment_id}/{filename}", self._get_attachment)

    async def _get_attachment(self, request: web.Request) -> web.StreamResponse:
        """An attached file's bytes, as Discord's CDN serves them (no token needed)."""
        found = None
        if request.match_info["attachment_id"].isdigit():
            found = self.attachments.get(int(request.match_info["attachment_id"]))
        if found is None or found.filename != request.match_info["filename"]:
            return web.Response(status=404, text="404: Not Found")
        return web.Response(body=found.data, content_type=found.content_type)

