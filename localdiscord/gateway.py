"""The gateway: the websocket the bot keeps open, and what Discord says on it.

nextcord learns the address from ``GET /gateway`` and connects to ``/gateway?encoding=json&v=10
&compress=zlib-stream``. The exchange played here: HELLO (the heartbeat interval) → IDENTIFY (the
token, intents and the optional shard [id, count]; privileged intents the host did not enable
close the socket with 4014, an invalid shard with 4010) →
READY and one GUILD_CREATE per guild. Heartbeats are acknowledged; a RESUME on a new socket
replays the events the bot missed; REQUEST_GUILD_MEMBERS gets one chunk. ``dispatch`` sends any
event, e.g. the INTERACTION_CREATE a driver makes; ``request_reconnect`` and ``drop_connection``
play Discord's reconnect request and a dropped socket.

Every event goes to the newest session, whatever shard it identified as: the fake does not route
guild events by ``(guild_id >> 22) % num_shards`` as Discord does. ``shards_ready`` tells which
shards have identified (a bot running several shards identifies once per shard).
"""

from __future__ import annotations

import json
import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .objects import DEFAULT_WAIT
from .protocol import (
    API_VERSION,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE_UPDATE,
    OP_RECONNECT,
    OP_REQUEST_GUILD_MEMBERS,
    OP_RESUME,
    PRIVILEGED_INTENTS,
)
from .world import World


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
    """One IDENTIFY: its events are kept so a RESUME on a new connection replays the missed."""

    id: str
    intents: int
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME
    connection: GatewayConnection | None = None
    ready: bool = False
    shard: tuple[int, int] | None = None  # IDENTIFY's [shard_id, num_shards], if it sent one


class Gateway(World):
    """The gateway half of the local Discord."""

    def _init_gateway(self, *, allowed_privileged_intents: int,
                      heartbeat_interval_ms: int) -> None:
        self.allowed_privileged_intents = allowed_privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_received: list[dict[str, Any]] = []  # every payload the bot sent us
        self.sessions: list[GatewaySession] = []
        self.connections: list[GatewayConnection] = []
        self.ready_count = 0  # READY events sent (one per IDENTIFY)
        self.resumed_count = 0
        self.heartbeats = 0

    @property
    def current_session(self) -> GatewaySession | None:
        return self.sessions[-1] if self.sessions else None

    def shards_ready(self) -> set[tuple[int, int]]:
        """The [shard_id, num_shards] of every session that got READY and is still connected."""
        return {s.shard for s in self.sessions if s.ready and s.shard is not None
                and s.connection is not None and not s.connection.ws.closed}

    async def wait_ready(self, *, after: int = 0, within: float = DEFAULT_WAIT) -> None:
        """Wait until READY number ``after + 1`` was sent and its connection is still open."""

        def ready() -> bool:
            session = self.current_session
            return bool(self.ready_count > after and session and session.ready
                        and session.connection and not session.connection.ws.closed)

        await self.wait_until(ready, within, "the bot to connect to the gateway")

    # ---- events --------------------------------------------------------------------------

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

    # ---- the websocket --------------------------------------------------------------------

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
        op = payload.get("op")
        data: Any = payload.get("d")  # JSON as the bot sent it: each handler reads its fields
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
        shard = data.get("shard")
        if shard is not None and not (
            isinstance(shard, list) and len(shard) == 2 and all(type(n) is int for n in shard)
            and 0 <= shard[0] < shard[1]
        ):
            self.violation("gateway-protocol", f"IDENTIFY with an invalid shard {shard!r}")
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        session = GatewaySession(secrets.token_hex(16), intents, connection=conn,
                                 shard=(shard[0], shard[1]) if shard is not None else None)
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
