"""What the local Discord knows and remembers: its users, guilds, channels and registered
commands, the messages and interactions the bot made, the rules it broke, and a way to wait for
any of that.

``World`` is the state the other parts share (``gateway.Gateway``, ``rest.Rest``,
``answers.Answers``, ``driver.Driver``); ``server.FakeDiscord`` puts them together. Every record
wakes the waiters (``wait_until``), so a driver waits for events, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Literal

from .objects import (
    DEFAULT_WAIT,
    FakeChannel,
    FakeFile,
    FakeGuild,
    FakeUser,
    RecordedMessage,
    RecordedRequest,
    SentInteraction,
    Snowflakes,
    Violation,
    with_embed_type,
)
from .protocol import API_VERSION, DM
from .rules import RESPONSE_DEADLINE

log = logging.getLogger(__name__)


class World:
    """The shared state of the local Discord, and the ways to read it and wait on it."""

    def __init__(self, *, token: str, bot_name: str) -> None:
        self.ids = Snowflakes()
        self.token = token
        self.application_id = self.ids.next()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.response_deadline = RESPONSE_DEADLINE
        self.port = 0  # set when the server listens

        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self._dm_channels: dict[int, FakeChannel] = {}  # user id -> DM channel
        # Registered commands: scope (None = global, else guild id) -> command id -> payload.
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {None: {}}
        self._commands_listed = False  # a command list was read since the last READY
        self._last_command_activity = 0.0
        self.messages: dict[int, RecordedMessage] = {}
        self.interactions: dict[int, SentInteraction] = {}
        self.requests: list[RecordedRequest] = []  # every REST request, in order
        self.violations: list[Violation] = []
        self.attachments: dict[int, FakeFile] = {}  # served under /attachments/ (driver.py)

        self._changed = asyncio.Event()
        self._peer_failure: str | None = None
        self._dm_cursor: dict[int, int] = {}
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def api_base(self) -> str:
        """What to put in ``nextcord.http.Route.BASE`` (the bot's ``DISCORD_API_BASE``)."""
        return f"http://127.0.0.1:{self.port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the bot (``gateway.Gateway`` does)."""
        raise NotImplementedError

    # ---- building the world ----------------------------------------------------------------

    def user(self, username: str, *, dms_open: bool = True,
             user_id: int | None = None) -> FakeUser:
        """A new player. Give the same user to several interactions to act as one person.

        ``user_id``: a fixed id (the playground keeps its players' ids from run to run, as
        Discord does); by default a new snowflake.
        """
        if user_id is not None and user_id in self.users:
            raise ValueError(f"user id {user_id} is taken")
        user = FakeUser(user_id or self.ids.next(), username, dms_open=dms_open)
        self.users[user.id] = user
        return user

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

    # `check` is called without arguments; typed `...` so that a lambda binding a loop variable
    # as a default (lambda m=dm: ...) type-checks, which mypy cannot infer against [].
    async def wait_until[T](self, check: Callable[..., T | Literal[False] | None], within: float,
                            what: str, *, poll: float | None = None) -> T:
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

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- messages -------------------------------------------------------------------------------

    def plant_message(self, channel: FakeChannel, data: dict[str, Any]) -> RecordedMessage:
        """A message the bot sent in an earlier run (before this server started), for a test that
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


def _guild_id(guild: FakeGuild | int | None) -> int | None:
    return guild.id if isinstance(guild, FakeGuild) else guild

