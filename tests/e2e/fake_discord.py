"""A small fake Discord that the real nextcord client talks to, for end-to-end tests.

It is an aiohttp server on 127.0.0.1 (a free port) that plays both halves of Discord:

* the **REST API** under ``/api/v10``. nextcord builds every URL from ``nextcord.http.Route.BASE``;
  the bot sets it from ``DISCORD_API_BASE`` (``fake.api_base``), and so reaches us instead;
* the **gateway**, a websocket at ``/gateway`` (nextcord learns the address from ``GET /gateway``
  and adds ``?encoding=json&v=10&compress=zlib-stream``).

What the bot relies on, and so all that is served here:

=============================================  ================================================
start-up                                        ``GET /users/@me`` (login checks the token),
                                                ``GET /gateway``, then the websocket:
                                                HELLO → IDENTIFY → READY → GUILD_CREATE per guild
command sync (on READY, nextcord's on_connect)  ``GET/POST/PUT /applications/{app}/commands``,
                                                ``PATCH/DELETE .../commands/{id}``, the same under
                                                ``/guilds/{guild}/``
a player uses a command                         gateway ``INTERACTION_CREATE`` (injected by tests)
the bot answers                                 ``POST /interactions/{id}/{token}/callback``,
                                                ``POST /webhooks/{app}/{token}`` (followups),
                                                ``GET/PATCH/DELETE .../messages/@original|{id}``
the bot writes to a player                      ``POST /users/@me/channels`` (open the DM), then
                                                ``POST /channels/{id}/messages``; edits with PATCH
=============================================  ================================================

Anything else is recorded in ``fake.unknown_routes`` and answered 404 the way Discord does.

The fake also enforces the rules of Discord that catch real bugs. A broken rule is answered as
Discord answers it (400, 404, ...) **and** recorded in ``fake.violations``; the ``fake_discord``
fixture fails the test if any are left at teardown (``fake.take_violations()`` clears them for a
test that expects one). The rules: an interaction is answered within 3 s (``response_deadline``)
and only once; followups come after that answer; and every message, modal and autocomplete result
fits Discord's limits (``discord_limits.py``).

Opt-in, off by default: ``FakeDiscord(global_rate_limit=50)`` plays Discord's global rate limit
(50 requests a second per bot). A request with the bot token that would be one more than that
within the last second (a sliding window) is answered 429 the way Discord answers it
(``"global": true``, ``retry_after``, ``X-RateLimit-Global``, ``Retry-After``) and is not served;
nextcord waits and sends it again. Interaction callbacks and webhooks are exempt, as on Discord.
It is a rule the bot cannot break, only be slowed by, so it records no violation: the 429s are
in ``fake.requests`` with status 429.

A test drives it through the helpers ``slash``, ``autocomplete``, ``click``, ``select`` and
``submit_modal``; each sends an ``INTERACTION_CREATE`` and returns a ``SentInteraction`` whose
``await response()``, ``await reply()`` and ``await followup()`` wait for the bot. Users, guilds
and the records of what the bot sent are in ``discord_objects.py``.

    async with FakeDiscord() as fake:             # or the fake_discord fixture
        alice = fake.user("alice")
        ...start the bot with DISCORD_API_BASE=fake.api_base (see harness.py)...
        inter = await fake.slash(alice, "termsofservice")
        terms = await inter.reply()               # the message alice sees
        click = await fake.click(alice, terms, label="Accept")
        assert (await click.response()).type == UPDATE_MESSAGE

Discord quirks worth knowing (each one bit while writing this):

* nextcord's webhook code only parses a JSON body when ``Content-Type`` is exactly
  ``application/json`` (aiohttp's ``json_response`` adds ``; charset=utf-8``), so replies are
  built by hand here.
* Without ``X-RateLimit-*`` headers nextcord assumes a limit of 1 request a second per route,
  so every REST reply carries generous rate-limit headers.
* The interaction callback answers 204 with no body; the message it makes is read back with
  ``GET .../messages/@original``.
* After a deferred reply (callback type 5) the *first* followup edits the "thinking" message
  instead of making a new one, keeping the deferral's ephemeral flag.
* nextcord compares the commands it reads back with its own, field by field, and registers them
  again on any difference; so commands are stored exactly as sent, plus their ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import discord_limits as limits
from .discord_objects import (
    ADMINISTRATOR,
    ALLOWED_CALLBACKS,
    API_VERSION,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    DEFAULT_WAIT,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    DM,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    GUILD_TEXT,
    LOADING,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_INTEGER,
    OPT_NUMBER,
    OPT_STRING,
    OPT_SUB_COMMAND,
    OPT_SUB_COMMAND_GROUP,
    OPT_USER,
    RESPONSE_DEADLINE,
    UPDATE_MESSAGE,
    Callback,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
    RecordedMessage,
    RecordedRequest,
    SentInteraction,
    Snowflakes,
    Violation,
    with_embed_type,
)

log = logging.getLogger(__name__)

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Intents a bot may only use when its owner switched them on in the developer portal;
# asking for one that is off closes the gateway with 4014.
PRIVILEGED_INTENTS = {"GUILD_MEMBERS": 1 << 1, "GUILD_PRESENCES": 1 << 8,
                      "MESSAGE_CONTENT": 1 << 15}

# Where the middleware leaves the parsed request body for the handlers.
BODY = web.RequestKey("body", object)
FILES = web.RequestKey("files", list)


# --------------------------------------------------------------------------------------------
# The gateway: one session per IDENTIFY, kept so a RESUME can replay what was missed.
# --------------------------------------------------------------------------------------------


class GatewayConnection:
    """One websocket. With ``compress=zlib-stream`` every frame is a piece of one zlib stream,
    each ending in a sync flush (``00 00 ff ff``), which is what nextcord waits for."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.compressor = zlib.compressobj() if compress else None
        self.session: GatewaySession | None = None
        self.sent: list[dict[str, Any]] = []

    async def send(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload)
        self.sent.append(payload)
        if self.compressor is None:
            await self.ws.send_str(text)
        else:
            data = self.compressor.compress(text.encode()) + self.compressor.flush(
                zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)


@dataclass(eq=False)
class GatewaySession:
    id: str
    intents: int
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME
    connection: GatewayConnection | None = None
    ready: bool = False


# --------------------------------------------------------------------------------------------
# The fake itself.
# --------------------------------------------------------------------------------------------


class FakeDiscord:
    """``async with FakeDiscord() as fake:`` serves Discord on ``fake.api_base``."""

    def __init__(self, *, token: str = "test-token", bot_name: str = "LadderBot",
                 allowed_privileged_intents: int = 0,
                 heartbeat_interval_ms: int = 41_250,
                 global_rate_limit: int | None = None) -> None:
        self.ids = Snowflakes()
        self.token = token
        self.application_id = self.ids.next()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.allowed_privileged_intents = allowed_privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.response_deadline = RESPONSE_DEADLINE
        # Requests a second the bot token may make (None: unlimited); see the module docstring.
        self.global_rate_limit = global_rate_limit
        self._global_window: deque[float] = deque()  # when the requests of the last second came

        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._dm_channels: dict[int, FakeChannel] = {}  # user id -> DM channel
        # Registered commands: scope (None = global, else guild id) -> command id -> payload.
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {None: {}}
        self.messages: dict[int, RecordedMessage] = {}
        self.interactions: dict[int, SentInteraction] = {}

        self.requests: list[RecordedRequest] = []
        # Channel messages whose edits the fake refuses (403), to lose an edit on purpose.
        self.refused_edits: set[int] = set()
        self.unknown_routes: list[str] = []
        self.violations: list[Violation] = []
        self.gateway_received: list[dict[str, Any]] = []  # every payload the bot sent us
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.ready_count = 0  # READY events sent (one per IDENTIFY)
        self.resumed_count = 0
        self.heartbeats = 0

        self._changed = asyncio.Event()
        self._peer_failure: str | None = None
        self._commands_listed = False  # a command list was read since the last READY
        self._last_command_activity = 0.0
        self._dm_cursor: dict[int, int] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

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
        log.info("fake Discord listening on %s", self.api_base)
        return self

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=1001, message=b"fake Discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """What to put in ``nextcord.http.Route.BASE`` (the bot's ``DISCORD_API_BASE``)."""
        return f"http://127.0.0.1:{self.port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- building the world ----------------------------------------------------------------

    def user(self, username: str, *, dms_open: bool = True) -> FakeUser:
        """A new player. Give the same user to several interactions to act as one person."""
        user = FakeUser(self.ids.next(), username, dms_open=dms_open)
        self.users[user.id] = user
        return user

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

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (made on first use, as on Discord)."""
        channel = self._dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self.ids.next(), DM, recipient=user)
            self._dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    # ---- reading what happened --------------------------------------------------------------

    def command_names(self, guild: FakeGuild | int | None = None) -> set[str]:
        scope = _guild_id(guild)
        return {c["name"] for c in self.commands.get(scope, {}).values()}

    def channel_messages(self, channel: FakeChannel) -> list[RecordedMessage]:
        return [m for m in self.messages.values() if m.channel is channel and not m.deleted]

    def dms(self, user: FakeUser) -> list[RecordedMessage]:
        """Messages the bot sent to ``user`` through the DM channel (not interaction replies)."""
        channel = self.dm_channel(user)
        return [m for m in self.channel_messages(channel) if m.kind == "channel"]

    async def next_dm(self, user: FakeUser, within: float = DEFAULT_WAIT) -> RecordedMessage:
        """The next DM to ``user`` that this method has not returned before."""
        seen = self._dm_cursor.get(user.id, 0)

        def found() -> RecordedMessage | None:
            dms = self.dms(user)
            return dms[seen] if len(dms) > seen else None

        message = await self.wait_until(found, within, f"a DM to {user.username}")
        self._dm_cursor[user.id] = seen + 1
        return message

    def take_violations(self) -> list[Violation]:
        """Return the violations so far and forget them (for tests that expect some)."""
        taken, self.violations = self.violations, []
        return taken

    def violation(self, rule: str, detail: str, interaction_id: int | None = None) -> None:
        found = Violation(rule, detail, interaction_id)
        if interaction_id in self.interactions:  # reported once: settle() will not add to it
            self.interactions[interaction_id].failed = True
        log.warning("Discord rule broken: %s", found)
        self.violations.append(found)
        self._notify()

    # ---- waiting ---------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake every waiter: something was recorded."""
        self._changed.set()
        self._changed = asyncio.Event()

    def fail_waits(self, reason: str | None) -> None:
        """Make every wait fail at once with ``reason`` (e.g. the bot process died)."""
        self._peer_failure = reason
        self._notify()

    async def wait_until[T](self, check: Callable[[], T | None], within: float, what: str,
                            *, poll: float | None = None) -> T:
        """Wait until ``check()`` returns something truthy, woken by each recorded event."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self._peer_failure:
                raise RuntimeError(f"while waiting for {what}: {self._peer_failure}")
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {within}s waiting for {what}."
                                   f"\n{self.describe_recent()}")
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, poll or remaining))

    def describe_recent(self, count: int = 8) -> str:
        lines = [f"  {r.method} {r.path} -> {r.status}" for r in self.requests[-count:]]
        lines += [f"  violation: {v}" for v in self.violations]
        return "recent requests from the bot:\n" + ("\n".join(lines) or "  (none)")

    @property
    def current_session(self) -> GatewaySession | None:
        return self.sessions[-1] if self.sessions else None

    async def wait_ready(self, *, after: int = 0, within: float = DEFAULT_WAIT) -> None:
        """Wait until READY number ``after + 1`` was sent and its connection is still open."""

        def ready() -> bool:
            session = self.current_session
            return bool(self.ready_count > after and session and session.ready
                        and session.connection and not session.connection.ws.closed)

        await self.wait_until(ready, within, "the bot to connect to the gateway")

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

    async def settle(self) -> None:
        """At the end of a test: every interaction must have been answered in time.

        Waits out the deadline of interactions still open, then records those left unanswered
        (on Discord the player would see "This interaction failed").
        """
        for inter in list(self.interactions.values()):
            if inter.callback is None and not inter.failed:
                left = inter.injected_at + self.response_deadline - time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await self.wait_until(lambda i=inter: i.callback, max(left, 0.0) + 0.05,
                                          "an answer")
                if inter.callback is None:
                    inter.failed = True
                    self.violation("no-response", f"{inter!r} was never answered", inter.id)

    # ---- gateway ---------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event on the current session (kept for a RESUME if disconnected)."""
        session = self.current_session
        if session is None:
            raise RuntimeError("the bot has not identified on the gateway")
        session.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.events.append(payload)
        if session.connection is not None and not session.connection.ws.closed:
            await session.connection.send(payload)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: nextcord closes the socket and RESUMEs on a new one."""
        session = self.current_session
        assert session and session.connection, "no open gateway connection"
        await session.connection.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    async def drop_connection(self, code: int = 4000) -> None:
        """Close the websocket from our side, as Discord does now and then."""
        session = self.current_session
        assert session and session.connection, "no open gateway connection"
        await session.connection.ws.close(code=code, message=b"dropped by the test")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        query = request.query
        if query.get("encoding", "json") != "json" or query.get("v") != str(API_VERSION):
            self.violation("gateway-protocol", f"unexpected gateway query {dict(query)}")
        compress = query.get("compress") == "zlib-stream"
        ws = web.WebSocketResponse(compress=False, max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(ws, compress)
        self.connections.append(conn)
        await conn.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                         "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._gateway_message(conn, json.loads(msg.data))
                elif msg.type == WSMsgType.BINARY:
                    await self._gateway_message(conn, json.loads(zlib.decompress(msg.data)))
        finally:
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self._notify()
        return ws

    async def _gateway_message(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        self.gateway_received.append(payload)
        op, data = payload.get("op"), payload.get("d")
        if op == OP_HEARTBEAT:
            self.heartbeats += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op == OP_PRESENCE_UPDATE:
            pass  # recorded in gateway_received
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._send_member_chunk(conn, data)
        else:
            self.violation("gateway-protocol", f"unknown gateway opcode {op}")
            await conn.ws.close(code=4001, message=b"Unknown opcode.")
        self._notify()

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            self.violation("gateway-protocol", "IDENTIFY sent twice on one connection")
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            self.violation("unauthorized", "IDENTIFY with a wrong token")
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        refused = [name for name, bit in PRIVILEGED_INTENTS.items()
                   if intents & bit and not self.allowed_privileged_intents & bit]
        if refused:
            self.violation("disallowed-intents",
                           f"the bot asked for privileged intents {refused}; the host must "
                           "enable them in the developer portal or the bot cannot start")
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        session = GatewaySession(secrets.token_hex(16), intents, connection=conn)
        conn.session = session
        self.sessions.append(session)
        self._commands_listed = False  # before READY: the bot may list commands at once
        await self.dispatch("READY", {
            "v": API_VERSION, "user": {**self.bot_user.payload(), "verified": True,
                                        "mfa_enabled": False, "flags": 0, "email": None},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": session.id, "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "user_settings": {},
            "_trace": ["fake-discord"],
        })
        for guild in self.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.create_payload())
        session.ready = True
        self.ready_count += 1

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        if session is None or data.get("token") != self.token:
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        conn.session = session
        session.connection = conn
        for event in session.events:
            if event["s"] > int(data.get("seq") or 0):
                await conn.send(event)
        self.resumed_count += 1
        await self.dispatch("RESUMED", {"_trace": ["fake-discord"]})

    async def _send_member_chunk(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        members = [guild.member_payload(u) for u in guild.members] if guild else []
        await self.dispatch("GUILD_MEMBERS_CHUNK", {
            "guild_id": data.get("guild_id"), "members": members, "chunk_index": 0,
            "chunk_count": 1, "nonce": data.get("nonce"), "not_found": []})

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- injecting interactions --------------------------------------------------------------

    async def slash(self, user: FakeUser, command: str, options: dict[str, Any] | None = None,
                    *, guild: FakeGuild | None = None,
                    channel: FakeChannel | None = None, forged: bool = False) -> SentInteraction:
        """``user`` runs ``/command`` (``"admin rating set"`` for subcommands) with ``options``.

        In a DM unless ``guild`` is given. Option values are plain Python values (a FakeUser
        for a user option); their types come from the registered command, and Discord's client
        rules (required options, choices, min/max) are checked as the Discord app would.
        ``forged``: sent where the command's contexts do not offer it (an old or modified
        client), as the bot's own guards must handle.
        """
        data = self._command_data(user, command, options or {}, guild, focused=None,
                                  forged=forged)
        return await self._inject(APPLICATION_COMMAND, user, data, guild=guild, channel=channel)

    async def autocomplete(self, user: FakeUser, command: str, focused: str, value: str,
                           options: dict[str, Any] | None = None, *,
                           guild: FakeGuild | None = None) -> SentInteraction:
        """``user`` is typing ``value`` into option ``focused`` of ``/command``."""
        data = self._command_data(user, command, {**(options or {}), focused: value},
                                  guild, focused=focused)
        return await self._inject(AUTOCOMPLETE, user, data, guild=guild)

    async def click(self, user: FakeUser, message: RecordedMessage, *,
                    label: str | None = None, custom_id: str | None = None) -> SentInteraction:
        """``user`` clicks a button on a message the bot sent."""
        button = message.component(label=label, custom_id=custom_id, kinds={limits.BUTTON})
        if button.get("disabled"):
            raise AssertionError(f"button {button.get('label')!r} is disabled")
        if button.get("style") == limits.LINK_BUTTON_STYLE:
            raise AssertionError("a link button opens a URL; it sends no interaction")
        data = {"custom_id": button["custom_id"], "component_type": limits.BUTTON}
        return await self._component(user, message, data)

    async def select(self, user: FakeUser, message: RecordedMessage, values: list[Any], *,
                     custom_id: str | None = None) -> SentInteraction:
        """``user`` picks ``values`` in a select menu on a message the bot sent."""
        menu = message.component(custom_id=custom_id, kinds=limits.SELECT_TYPES)
        if menu.get("disabled"):
            raise AssertionError(f"select {menu.get('custom_id')!r} is disabled")
        count = len(values)
        if not menu.get("min_values", 1) <= count <= menu.get("max_values", 1):
            raise AssertionError(f"{count} values is outside min/max of the select")
        data: dict[str, Any] = {"custom_id": menu["custom_id"], "component_type": menu["type"]}
        if menu["type"] == limits.STRING_SELECT:
            offered = {o["value"] for o in menu.get("options", [])}
            if not set(values) <= offered:
                raise AssertionError(f"values {values} are not among the options {offered}")
            data["values"] = list(values)
        elif menu["type"] == limits.USER_SELECT:
            data["values"] = [str(u.id) for u in values]
            data["resolved"] = {"users": {str(u.id): u.payload() for u in values}}
        else:
            data["values"] = [str(v) for v in values]
        return await self._component(user, message, data)

    async def submit_modal(self, user: FakeUser, opened_by: SentInteraction,
                           values: dict[str, str]) -> SentInteraction:
        """``user`` fills in the modal the bot showed in answer to ``opened_by`` and submits.

        ``values`` maps text-input custom_ids to what was typed; inputs left out keep their
        pre-filled value. Required inputs and length limits are checked as the Discord app does.
        """
        callback = await opened_by.response()
        modal = callback.modal
        if user is not opened_by.user:
            raise AssertionError("only the player who opened a modal can submit it")
        inputs = {i["custom_id"]: i for i in limits.modal_inputs(modal)}
        unknown = set(values) - set(inputs)
        if unknown:
            raise AssertionError(f"the modal has no inputs {unknown}; it has {list(inputs)}")
        rows = []
        for custom_id, spec in inputs.items():
            value = values.get(custom_id, spec.get("value") or "")
            if spec.get("required", True) and not value:
                raise AssertionError(f"modal input {custom_id!r} is required")
            if value and not spec.get("min_length", 0) <= len(value) <= spec.get(
                    "max_length", limits.TEXT_INPUT_LENGTH):
                raise AssertionError(f"{len(value)} characters in {custom_id!r} is outside "
                                     "its min/max length")
            rows.append({"type": limits.ACTION_ROW, "components": [
                {"type": limits.TEXT_INPUT, "custom_id": custom_id, "value": value}]})
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._inject(MODAL_SUBMIT, user, data, channel=opened_by.channel,
                                  message=opened_by.source_message)

    async def _component(self, user: FakeUser, message: RecordedMessage,
                         data: dict[str, Any]) -> SentInteraction:
        # Sent at once, however soon after the message: the bot routes every component by its
        # custom_id, so nothing on its side has to be filed first (no "reaction time" needed).
        if message.deleted:
            raise AssertionError(f"message {message.id} was deleted")
        if message.ephemeral and message.interaction and message.interaction.user is not user:
            raise AssertionError("only the player an ephemeral message was for can use it")
        return await self._inject(MESSAGE_COMPONENT, user, data, channel=message.channel,
                                  message=message)

    def _find_command(self, user: FakeUser, name: str, guild: FakeGuild | None,
                      check_visible: bool = True) -> dict[str, Any]:
        scopes = [guild.id, None] if guild else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and cmd.get("type", 1) == limits.CHAT_INPUT:
                    if check_visible:
                        self._check_visible(user, cmd, guild)
                    return cmd
        where = f"guild {guild.name!r}" if guild else "DMs"
        registered = sorted(c["name"] for s in scopes for c in self.commands.get(s, {}).values())
        self.violation("unknown-command", f"/{name} is not registered for {where}")
        raise AssertionError(f"/{name} is not a registered command in {where}; "
                             f"registered: {registered}")

    @staticmethod
    def _check_visible(user: FakeUser, cmd: dict[str, Any], guild: FakeGuild | None) -> None:
        """Discord only shows a command where its contexts and permissions allow."""
        contexts = cmd.get("contexts")
        if guild is None:
            if cmd.get("dm_permission") is False or (
                    contexts is not None and CONTEXT_BOT_DM not in contexts):
                raise AssertionError(f"/{cmd['name']} cannot be used in DMs")
            return
        if contexts is not None and CONTEXT_GUILD not in contexts:
            raise AssertionError(f"/{cmd['name']} cannot be used in a guild")
        needed = cmd.get("default_member_permissions")
        if needed is not None and int(needed) & ~guild.permissions_of(user):
            raise AssertionError(f"{user.username} lacks the permissions to see /{cmd['name']}")

    def _command_data(self, user: FakeUser, command: str, values: dict[str, Any],
                      guild: FakeGuild | None,
                      focused: str | None, forged: bool = False) -> dict[str, Any]:
        name, *path = command.split()
        cmd = self._find_command(user, name, guild, check_visible=not forged)
        resolved: dict[str, dict[str, Any]] = {}
        specs = cmd.get("options") or []
        options_out: list[dict[str, Any]] = []
        target = options_out
        for part in path:  # walk down subcommand groups / subcommands
            spec = next((o for o in specs if o["name"] == part
                         and o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)), None)
            if spec is None:
                raise AssertionError(f"/{name} has no subcommand {part!r}")
            inner: list[dict[str, Any]] = []
            target.append({"name": part, "type": spec["type"], "options": inner})
            target, specs = inner, spec.get("options") or []
        if any(o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for o in specs):
            raise AssertionError(f"/{command} needs a subcommand")
        by_name = {o["name"]: o for o in specs}
        unknown = set(values) - set(by_name)
        if unknown:
            raise AssertionError(f"/{command} has no options {unknown}; it has {list(by_name)}")
        for spec in specs:
            if spec["name"] not in values:
                if spec.get("required") and focused is None:
                    raise AssertionError(f"option {spec['name']!r} of /{command} is required")
                continue
            value = values[spec["name"]]
            if spec["name"] == focused:
                if not spec.get("autocomplete"):
                    raise AssertionError(f"option {focused!r} of /{command} has no autocomplete")
                target.append({"name": focused, "type": spec["type"], "value": str(value),
                               "focused": True})
                continue
            target.append({"name": spec["name"], "type": spec["type"],
                           "value": self._option_value(command, spec, value, guild, resolved)})
        data: dict[str, Any] = {"id": cmd["id"], "name": name, "type": cmd.get("type", 1)}
        if options_out:
            data["options"] = options_out
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(self, command: str, spec: dict[str, Any], value: Any,
                      guild: FakeGuild | None, resolved: dict[str, dict[str, Any]]) -> Any:
        kind = spec["type"]
        where = f"option {spec['name']!r} of /{command}"
        if kind == OPT_USER:
            if not isinstance(value, FakeUser):
                raise AssertionError(f"{where} takes a FakeUser")
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild is not None and value in guild.members:
                resolved.setdefault("members", {})[str(value.id)] = {
                    **guild.member_payload(value, with_user=False),
                    "permissions": str(guild.permissions_of(value))}
            return str(value.id)
        if kind == OPT_CHANNEL and isinstance(value, FakeChannel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                **value.payload(), "permissions": str((1 << 53) - 1)}
            return str(value.id)
        if kind == OPT_STRING and not isinstance(value, str):
            raise AssertionError(f"{where} takes a string, not {value!r}")
        if kind == OPT_INTEGER and (not isinstance(value, int) or isinstance(value, bool)):
            raise AssertionError(f"{where} takes an integer, not {value!r}")
        if kind == OPT_BOOLEAN and not isinstance(value, bool):
            raise AssertionError(f"{where} takes a boolean, not {value!r}")
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise AssertionError(f"{value!r} is not one of the choices of {where}")
        if kind in (OPT_INTEGER, OPT_NUMBER) and not (
                spec.get("min_value", value) <= value <= spec.get("max_value", value)):
            raise AssertionError(f"{value!r} is outside min/max of {where}")
        if kind == OPT_STRING and not (
                spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000)):
            raise AssertionError(f"{len(value)} characters is outside min/max of {where}")
        return value

    async def _inject(self, kind: int, user: FakeUser, data: dict[str, Any], *,
                      guild: FakeGuild | None = None, channel: FakeChannel | None = None,
                      message: RecordedMessage | None = None) -> SentInteraction:
        """Build an INTERACTION_CREATE the way Discord does and send it on the gateway."""
        if channel is None:
            channel = guild.channel() if guild else self.dm_channel(user)
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        interaction_id = self.ids.next()
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(self.application_id),
            "type": kind, "data": data, "token": f"itoken-{secrets.token_urlsafe(24)}",
            "version": 1, "channel_id": str(channel.id), "channel": channel.payload(),
            "locale": user.locale, "app_permissions": str((1 << 53) - 1), "entitlements": [],
            "attachment_size_limit": 10 * 2**20,
            "authorizing_integration_owners": {"0": str(guild.id) if guild else "0"},
            "context": CONTEXT_GUILD if guild else CONTEXT_BOT_DM,
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
            if user not in guild.members:
                raise AssertionError(f"{user.username} is not a member of {guild.name!r}")
            payload["member"] = {**guild.member_payload(user),
                                 "permissions": str(guild.permissions_of(user))}
        else:
            payload["user"] = user.payload()
        if message is not None:
            payload["message"] = message.payload(self.application_id)
        inter = SentInteraction(self, payload, user, channel, message)
        self.interactions[inter.id] = inter
        inter.injected_at = time.monotonic()
        await self.dispatch("INTERACTION_CREATE", payload)
        return inter

    # ---- REST: plumbing ----------------------------------------------------------------------

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

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[..., Any]
                          ) -> web.StreamResponse:
        """Record each request, check auth, answer unknown routes, add rate-limit headers."""
        match = request.match_info
        route = getattr(match.route.resource, "canonical", request.path) if match.route.resource \
            else request.path
        if route == "/gateway":
            return await handler(request)
        body, files = await _read_body(request)
        request[BODY], request[FILES] = body, files
        retry_after: float | None = None
        if match.http_exception is not None:
            self.unknown_routes.append(f"{request.method} {request.path}")
            log.warning("fake Discord: unknown route %s %s", request.method, request.path)
            response: web.StreamResponse = _error(404, 0, "404: Not Found")
        elif not _is_webhook_route(route) and request.headers.get(
                "Authorization") != f"Bot {self.token}":
            self.violation("unauthorized",
                           f"{request.method} {request.path} with a wrong or no bot token")
            response = _error(401, 0, "401: Unauthorized")
        elif (retry_after := self._over_global_limit(route)) is not None:
            response = _global_rate_limited(retry_after)
        else:
            response = await handler(request)
        short_route = route.removeprefix(f"/api/v{API_VERSION}")
        if retry_after is None:  # a global 429 carries no route bucket, as on Discord
            response.headers.update(_ratelimit_headers(request.method, short_route))
        is_command_route = "/commands" in short_route
        self.requests.append(RecordedRequest(
            request.method, request.path.removeprefix(f"/api/v{API_VERSION}"), short_route,
            dict(request.query), body, response.status, time.monotonic()))
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
        if self.global_rate_limit is None or _is_webhook_route(route):
            return None
        now = time.monotonic()
        window = self._global_window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= self.global_rate_limit:
            return window[0] + 1.0 - now
        window.append(now)
        return None

    # ---- REST: start-up ----------------------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json({**self.bot_user.payload(), "verified": True, "mfa_enabled": False,
                      "flags": 0, "email": None, "locale": "en-US"})

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})

    async def _get_application(self, request: web.Request) -> web.Response:
        owner = next(iter(u for u in self.users.values() if not u.bot), self.bot_user)
        return _json({"id": str(self.application_id), "name": self.bot_user.username,
                      "icon": None, "description": "", "rpc_origins": [], "bot_public": False,
                      "bot_require_code_grant": False, "owner": owner.payload(), "team": None,
                      "verify_key": "0" * 64, "flags": 0, "summary": "",
                      "bot": self.bot_user.payload()})

    # ---- REST: application commands ----------------------------------------------------------

    def _command_scope(self, request: web.Request) -> web.Response | int | None:
        if int(request.match_info["app_id"]) != self.application_id:
            return _error(403, 50001, "Missing Access")
        if "guild_id" not in request.match_info:
            return None
        guild_id = int(request.match_info["guild_id"])
        if guild_id not in self.guilds:
            return _error(403, 50001, "Missing Access")
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
        problems = [p for payload in payloads for p in limits.check_command(payload)]
        if problems:
            self.violation("invalid-command", "; ".join(problems))
            return _form_error(problems)
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
            return _json(list(self.commands.get(scope, {}).values()))

        return await self._in_scope(request, work)

    async def _get_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            cmd = self.commands.get(scope, {}).get(int(request.match_info["command_id"]))
            return _json(cmd) if cmd else _error(404, 10063, "Unknown application command")

        return await self._in_scope(request, work)

    async def _create_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            return self._bad_commands([request[BODY]]) or _json(
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
            return _json(stored)

        return await self._in_scope(request, work)

    async def _edit_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            command_id = int(request.match_info["command_id"])
            cmd = self.commands.get(scope, {}).get(command_id)
            if cmd is None:
                return _error(404, 10063, "Unknown application command")
            merged = {k: v for k, v in cmd.items()
                      if k not in ("id", "application_id", "version", "guild_id")}
            merged.update(request[BODY])
            return self._bad_commands([merged]) or _json(
                self._store_command(scope, merged, command_id))

        return await self._in_scope(request, work)

    async def _delete_command(self, request: web.Request) -> web.Response:
        def work(scope: int | None) -> web.Response:
            removed = self.commands.get(scope, {}).pop(int(request.match_info["command_id"]),
                                                       None)
            return _no_content() if removed else _error(404, 10063, "Unknown application command")

        return await self._in_scope(request, work)

    # ---- REST: answering interactions ---------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        inter = self.interactions.get(int(request.match_info["interaction_id"]))
        if inter is None or inter.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        body = request[BODY] or {}
        kind = body.get("type")
        data = body.get("data") or {}
        latency = time.monotonic() - inter.injected_at
        if inter.callback is not None:
            self.violation("double-response", f"a second initial response (type {kind}) to "
                           f"{inter!r}; the first was type {inter.callback.type}", inter.id)
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if latency > self.response_deadline:
            self.violation("late-response", f"first response to {inter!r} after {latency:.2f}s"
                           f" (limit {self.response_deadline}s)", inter.id)
            return _error(404, 10062, "Unknown interaction")
        if kind not in ALLOWED_CALLBACKS[inter.type] or (
                kind == UPDATE_MESSAGE and inter.source_message is None):
            self.violation("invalid-callback-type",
                           f"callback type {kind} is not allowed for {inter!r}", inter.id)
            return _form_error([f"callback type {kind} is invalid for this interaction"])
        problems = {
            CHANNEL_MESSAGE: lambda: limits.check_message(data, new=True),
            UPDATE_MESSAGE: lambda: limits.check_message(data, new=False),
            AUTOCOMPLETE_RESULT: lambda: limits.check_autocomplete(data),
            MODAL: lambda: limits.check_modal(data),
        }.get(kind, list)()
        if problems:
            rule = {MODAL: "invalid-modal", AUTOCOMPLETE_RESULT: "invalid-autocomplete"}.get(
                kind, "invalid-message")
            self.violation(rule, "; ".join(problems), inter.id)
            return _form_error(problems)
        data = {**data, "attachments": _attachments(request[FILES])} if request[FILES] \
            else data
        message = None
        if kind == CHANNEL_MESSAGE:
            message = self._new_message(inter.channel, data, interaction=inter, kind="response")
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._new_message(inter.channel, {"flags": flags}, interaction=inter,
                                        kind="response")
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            message = inter.source_message  # @original now means the component's message
            if message is not None:
                inter.edits_before_answer = len(message.history)
            if kind == UPDATE_MESSAGE and message is not None:
                message.apply(data)
        inter.original = message
        inter.callback = Callback(kind, data, latency, message)
        return _no_content()

    def _interaction_for_webhook(self, request: web.Request) -> SentInteraction | web.Response:
        """The interaction a webhook token belongs to, once it has been answered."""
        token = request.match_info["token"]
        inter = next((i for i in self.interactions.values() if i.token == token), None)
        if inter is None or int(request.match_info["app_id"]) != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        if inter.callback is None or inter.callback.type in (AUTOCOMPLETE_RESULT, MODAL):
            answered = "not answered" if inter.callback is None else (
                f"answered with type {inter.callback.type}")
            self.violation("followup-before-response",
                           f"{request.method} {request.path} but the interaction was {answered}",
                           inter.id)
            return _error(404, 10015, "Unknown Webhook")
        return inter

    async def _followup(self, request: web.Request) -> web.Response:
        inter = self._interaction_for_webhook(request)
        if isinstance(inter, web.Response):
            return inter
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": _attachments(request[FILES])}
        problems = limits.check_message(data, new=True)
        if problems:
            self.violation("invalid-message", "; ".join(problems), inter.id)
            return _form_error(problems)
        original = inter.original
        if inter.callback and inter.callback.type == DEFERRED_CHANNEL_MESSAGE and original \
                and original.loading and not inter.followups:
            # Discord: the first followup after a deferral fills in the "thinking" message.
            original.apply({k: v for k, v in data.items() if k != "flags"})
            message = original
        else:
            message = self._new_message(inter.channel, data, interaction=inter, kind="followup")
        inter.followups.append(message)
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message.payload(self.application_id))
        return _no_content()

    def _webhook_message(self, request: web.Request
                         ) -> tuple[SentInteraction, RecordedMessage] | web.Response:
        inter = self._interaction_for_webhook(request)
        if isinstance(inter, web.Response):
            return inter
        wanted = request.match_info.get("message_id")
        if wanted is None:  # @original
            message = inter.original
        else:
            message = next((m for m in inter.messages if m.id == int(wanted)), None)
        if message is None or message.deleted:
            return _error(404, 10008, "Unknown Message")
        return inter, message

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        return _json(found[1].payload(self.application_id))

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        inter, message = found
        return self._apply_edit(message, request, inter.id)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        found = self._webhook_message(request)
        if isinstance(found, web.Response):
            return found
        found[1].deleted = True
        return _no_content()

    def _apply_edit(self, message: RecordedMessage, request: web.Request,
                    interaction_id: int | None) -> web.Response:
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": _attachments(request[FILES])}
        problems = limits.check_message(data, new=False)
        if message.loading:  # filling in a deferred reply: the result must not be empty
            merged = {"content": message.content, "embeds": message.embeds,
                      "components": message.components, **data}
            problems += [p for p in limits.check_message(merged, new=True) if "empty" in p]
        if problems:
            self.violation("invalid-message", "; ".join(problems), interaction_id)
            return _form_error(problems)
        message.apply(data)
        return _json(message.payload(self.application_id))

    # ---- REST: DMs and channel messages ---------------------------------------------------------

    def plant_message(self, channel: FakeChannel, data: dict[str, Any]) -> RecordedMessage:
        """A message the bot sent in an earlier run (before this fake started), for a test that
        starts the bot on a database which already points at it."""
        return self._new_message(channel, data)

    def _new_message(self, channel: FakeChannel, data: dict[str, Any], *,
                     interaction: SentInteraction | None = None,
                     kind: str = "channel") -> RecordedMessage:
        message = RecordedMessage(
            self.ids.next(), channel, self.bot_user, content=data.get("content") or "",
            embeds=[with_embed_type(e) for e in data.get("embeds") or []],
            components=data.get("components") or [], attachments=data.get("attachments") or [],
            flags=int(data.get("flags") or 0), interaction=interaction, kind=kind,
            history=[data])
        self.messages[message.id] = message
        return message

    async def _open_dm(self, request: web.Request) -> web.Response:
        user = self.users.get(int((request[BODY] or {}).get("recipient_id", 0)))
        if user is None:
            return _error(400, 50035, "Invalid Form Body")
        return _json(self.dm_channel(user).payload())

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["user_id"]))
        return _json(user.payload()) if user else _error(404, 10013, "Unknown User")

    async def _get_member(self, request: web.Request) -> web.Response:
        guild = self.guilds.get(int(request.match_info["guild_id"]))
        user = self.users.get(int(request.match_info["user_id"]))
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        if user is None or user not in guild.members:
            return _error(404, 10007, "Unknown Member")
        return _json(guild.member_payload(user))

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel_id"]))
        return _json(channel.payload()) if channel else _error(404, 10003, "Unknown Channel")

    async def _send_message(self, request: web.Request) -> web.Response:
        channel = self.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if channel.recipient is not None and not channel.recipient.dms_open:
            return _error(403, 50007, "Cannot send messages to this user")
        data = request[BODY] or {}
        if request[FILES]:
            data = {**data, "attachments": _attachments(request[FILES])}
        problems = limits.check_message(data, new=True)
        if problems:
            self.violation("invalid-message", "; ".join(problems))
            return _form_error(problems)
        data = {**data, "flags": int(data.get("flags") or 0) & ~EPHEMERAL}
        return _json(self._new_message(channel, data).payload(self.application_id))

    def _channel_message(self, request: web.Request) -> RecordedMessage | web.Response:
        channel_id = int(request.match_info["channel_id"])
        if channel_id not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None or message.channel.id != channel_id or message.deleted \
                or message.ephemeral:  # ephemeral messages exist only for their webhook
            return _error(404, 10008, "Unknown Message")
        return message

    async def _get_message(self, request: web.Request) -> web.Response:
        found = self._channel_message(request)
        if isinstance(found, web.Response):
            return found
        return _json(found.payload(self.application_id))

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
        return _no_content()


# --------------------------------------------------------------------------------------------
# Small helpers for Discord-shaped HTTP replies.
# --------------------------------------------------------------------------------------------


def _guild_id(guild: FakeGuild | int | None) -> int | None:
    return guild.id if isinstance(guild, FakeGuild) else guild


def _is_webhook_route(route: str) -> bool:
    """Interaction callbacks and webhooks are authorised by their token, not the bot token."""
    short = route.removeprefix(f"/api/v{API_VERSION}")
    return short.startswith(("/interactions/", "/webhooks/"))


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": nextcord's webhook code compares the header with ==.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _no_content() -> web.Response:
    return web.Response(status=204)


def _error(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json(body, status)


def _form_error(problems: list[str]) -> web.Response:
    """Discord's 400 for a payload that breaks a limit (details shortened to one list)."""
    errors = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]}
    return _error(400, 50035, "Invalid Form Body", errors)


def _global_rate_limited(retry_after: float) -> web.Response:
    """Discord's 429 for a bot over its global rate limit."""
    retry_after = round(max(retry_after, 0.001), 3)
    response = _json({"message": "You are being rate limited.", "retry_after": retry_after,
                      "global": True}, status=429)
    response.headers.update({
        "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        # Discord's answers come through its proxy; nextcord takes a 429 without Via for a
        # Cloudflare ban and gives up instead of waiting.
        "Via": "1.1 google"})
    return response


def _ratelimit_headers(method: str, route: str) -> dict[str, str]:
    """Generous limits, one bucket per route: without them nextcord waits 1 s between calls."""
    bucket = f"{zlib.crc32(f'{method} {route}'.encode()):08x}"
    return {"X-RateLimit-Bucket": bucket, "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "999", "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000"}


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """The JSON body; for multipart uploads, ``payload_json`` and a summary of each file."""
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                content = await part.read()
                files.append({"name": part.name, "filename": part.filename,
                              "size": len(content)})
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _attachments(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": str(n), "filename": f["filename"], "size": f["size"],
             "url": f"https://cdn.invalid/{f['filename']}",
             "proxy_url": f"https://cdn.invalid/{f['filename']}"}
            for n, f in enumerate(files)]
