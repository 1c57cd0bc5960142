"""The objects of the local Discord's world, and the records of what the bot did in it.

A driver creates users and guilds (``FakeUser``, ``FakeGuild``); the local Discord describes them
to the bot as Discord would (each ``payload()`` is the JSON Discord sends). What the bot sends back
is kept as ``RecordedMessage`` and ``Callback`` on the ``SentInteraction`` the driver sent, and
broken rules as ``Violation``. The server itself is ``server.FakeDiscord``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .protocol import (
    ADMINISTRATOR,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    BUTTON,
    DEFERRED_UPDATE_MESSAGE,
    DISCORD_EPOCH_MS,
    DM,
    EPHEMERAL,
    LOADING,
    MODAL,
    SELECT_TYPES,
)

if TYPE_CHECKING:
    from .world import World

DEFAULT_WAIT = 5.0  # how long a driver waits for the bot before failing


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def iso_from_ms(unix_ms: int) -> str:
    return dt.datetime.fromtimestamp(unix_ms / 1000, dt.UTC).isoformat()


class Snowflakes:
    """Discord ids: milliseconds since 2015 in the top bits, then worker, process and counter."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (1 << 12) | (next(self._counter) & 0xFFF)


def snowflake_time_ms(snowflake: int) -> int:
    """Unix time in ms encoded in a snowflake."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


# --------------------------------------------------------------------------------------------
# The world: users, guilds, channels. Tests create these; the fake describes them to the bot.
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    locale: str = "en-US"
    dms_open: bool = True  # False: sending this user a DM fails with 50007, as on Discord

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def payload(self) -> dict[str, Any]:
        return {"id": str(self.id), "name": self.name, "color": 0, "hoist": False,
                "icon": None, "unicode_emoji": None, "position": self.position,
                "permissions": str(self.permissions), "managed": False,
                "mentionable": False, "flags": 0}


@dataclass(eq=False)
class FakeChannel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    recipient: FakeUser | None = None  # for a DM channel

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            assert self.recipient is not None
            return {"id": str(self.id), "type": DM, "last_message_id": None, "flags": 0,
                    "recipients": [self.recipient.payload()]}
        return {"id": str(self.id), "type": self.type, "guild_id": str(self.guild_id),
                "name": self.name, "position": 0, "permission_overwrites": [],
                "nsfw": False, "topic": None, "last_message_id": None, "parent_id": None,
                "rate_limit_per_user": 0, "flags": 0}


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner: FakeUser
    channels: list[FakeChannel] = field(default_factory=list)
    members: list[FakeUser] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    member_roles: dict[int, list[int]] = field(default_factory=dict)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[0]

    def channel(self, name: str | None = None) -> FakeChannel:
        """A text channel by name, or the first one."""
        for channel in self.channels:
            if name is None or channel.name == name:
                return channel
        raise LookupError(f"guild {self.name!r} has no channel {name!r}")

    def permissions_of(self, user: FakeUser) -> int:
        if user.id == self.owner.id:
            return (1 << 53) - 1
        perms = self.everyone.permissions
        for role in self.roles:
            if role.id in self.member_roles.get(user.id, []):
                perms |= role.permissions
        return (1 << 53) - 1 if perms & ADMINISTRATOR else perms

    def member_payload(self, user: FakeUser, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.member_roles.get(user.id, [])],
            "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0,
            "pending": False, "nick": None, "avatar": None, "premium_since": None,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = user.payload()
        return data

    def create_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE event: the guild with its roles, channels and members.

        ``member_count`` equals the members sent, so nextcord sees the guild as fully
        chunked and does not ask for more members.
        """
        return {
            "id": str(self.id), "name": self.name, "icon": None, "splash": None,
            "discovery_splash": None, "owner_id": str(self.owner.id), "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "roles": [r.payload() for r in self.roles],
            "emojis": [], "features": [], "mfa_level": 0, "application_id": None,
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "joined_at": now_iso(), "large": False, "unavailable": False,
            "member_count": len(self.members), "voice_states": [],
            "members": [self.member_payload(u) for u in self.members],
            "channels": [c.payload() for c in self.channels], "threads": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "stickers": [], "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "description": None,
            "premium_progress_bar_enabled": False, "safety_alerts_channel_id": None,
        }


# --------------------------------------------------------------------------------------------
# What the bot sent: messages, interaction answers, violations, raw requests.
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class RecordedMessage:
    """A message the bot made, as Discord would now show it (edits applied)."""

    id: int
    channel: FakeChannel
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    interaction: SentInteraction | None = None  # the interaction this message answers
    kind: str = "channel"  # channel | response | followup
    edited_at: str | None = None  # ISO time of the last edit
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # every body sent for it

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred reply that has not been filled in yet ("Bot is thinking...")."""
        return bool(self.flags & LOADING)

    @property
    def text(self) -> str:
        """Content and every embed's visible text, one part a line: handy for assertions."""
        parts = [self.content] if self.content else []
        for embed in self.embeds:
            parts += [embed.get("author", {}).get("name", ""), embed.get("title", ""),
                      embed.get("description", "")]
            for fld in embed.get("fields", []):
                parts += [fld.get("name", ""), fld.get("value", "")]
            parts.append(embed.get("footer", {}).get("text", ""))
        return "\n".join(p for p in parts if p)

    def all_components(self) -> list[dict[str, Any]]:
        return [c for row in self.components for c in row.get("components", [])]

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components() if c.get("type") == BUTTON]

    def selects(self) -> list[dict[str, Any]]:
        return [c for c in self.all_components() if c.get("type") in SELECT_TYPES]

    def component(self, *, label: str | None = None, custom_id: str | None = None,
                  kinds: Collection[int] | None = None) -> dict[str, Any]:
        """One component found by its label or custom_id (or the only one of its kind)."""
        found = [c for c in self.all_components()
                 if (kinds is None or c.get("type") in kinds)
                 and (label is None or c.get("label") == label)
                 and (custom_id is None or c.get("custom_id") == custom_id)]
        if len(found) != 1:
            shown = [(c.get("label"), c.get("custom_id")) for c in self.all_components()]
            raise LookupError(f"{len(found)} components match label={label!r} "
                              f"custom_id={custom_id!r} on message {self.id}; it has {shown}")
        return found[0]

    def apply(self, data: dict[str, Any]) -> None:
        """Apply an edit: only the fields sent change."""
        if "content" in data:
            self.content = data["content"] or ""
        if "embeds" in data:
            self.embeds = [with_embed_type(e) for e in data["embeds"] or []]
        if "components" in data:
            self.components = data["components"] or []
        if "attachments" in data:
            self.attachments = data["attachments"] or []
        self.flags &= ~LOADING
        self.edited_at = now_iso()
        self.history.append(data)

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    def payload(self, application_id: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id), "channel_id": str(self.channel.id),
            "author": self.author.payload(), "content": self.content,
            "timestamp": iso_from_ms(snowflake_time_ms(self.id)),
            "edited_timestamp": self.edited_at,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": self.attachments, "embeds": self.embeds,
            "components": self.components, "pinned": False, "flags": self.flags,
            "type": 0,
        }
        if self.channel.guild_id:
            data["guild_id"] = str(self.channel.guild_id)
        if self.interaction is not None:
            inter = self.interaction
            data["application_id"] = str(application_id)
            data["webhook_id"] = str(application_id)
            if self.kind == "response" and inter.type == APPLICATION_COMMAND:
                data["type"] = 20  # CHAT_INPUT_COMMAND
            data["interaction_metadata"] = {
                "id": str(inter.id), "type": inter.type, "user": inter.user.payload(),
                "authorizing_integration_owners": inter.payload["authorizing_integration_owners"],
            }
        return data


def with_embed_type(embed: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich", **embed}


@dataclass(frozen=True)
class Callback:
    """The bot's first answer to an interaction (``POST .../callback``)."""

    type: int
    data: dict[str, Any]
    latency: float  # seconds from injection to the callback arriving
    message: RecordedMessage | None = None  # the message shown, for types 4, 5, 6, 7

    @property
    def choices(self) -> list[dict[str, Any]]:
        assert self.type == AUTOCOMPLETE_RESULT, f"callback type {self.type} has no choices"
        return self.data.get("choices", [])

    @property
    def modal(self) -> dict[str, Any]:
        assert self.type == MODAL, f"callback type {self.type} is not a modal"
        return self.data

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(frozen=True)
class Violation:
    rule: str  # a short code, e.g. "late-response", "invalid-message"
    detail: str
    interaction_id: int | None = None

    def __str__(self) -> str:
        where = f" (interaction {self.interaction_id})" if self.interaction_id else ""
        return f"[{self.rule}] {self.detail}{where}"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    route: str  # the route template, e.g. /channels/{channel_id}/messages
    query: dict[str, str]
    body: Any
    status: int
    at: float  # time.monotonic()


class SentInteraction:
    """One interaction the test injected, and what the bot did with it."""

    def __init__(self, fake: World, payload: dict[str, Any], user: FakeUser,
                 channel: FakeChannel, source_message: RecordedMessage | None) -> None:
        self.fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.data: dict[str, Any] = payload["data"]
        self.user = user
        self.channel = channel
        self.source_message = source_message  # the message a component was on
        self.injected_at = 0.0  # time.monotonic() when the event was sent
        self.callback: Callback | None = None
        self.original: RecordedMessage | None = None  # what @original now means
        self.followups: list[RecordedMessage] = []
        self.edits_before_answer = 0  # for a type 6 answer: the edits its message had then
        self.failed = False  # a violation about it was recorded: settle() leaves it alone

    def __repr__(self) -> str:
        name = self.data.get("name") or self.data.get("custom_id")
        return f"<SentInteraction {self.id} type={self.type} {name!r}>"

    @property
    def guild_id(self) -> int | None:
        return self.channel.guild_id

    async def response(self, within: float = DEFAULT_WAIT) -> Callback:
        """The bot's first answer (callback type 4, 5, 6, 7, 8 or 9)."""
        return await self.fake.wait_until(lambda: self.callback, within,
                                          f"the bot's first answer to {self!r}")

    async def followup(self, index: int = 0, within: float = DEFAULT_WAIT) -> RecordedMessage:
        """The ``index``-th followup message (0 = first)."""
        return await self.fake.wait_until(
            lambda: self.followups[index] if len(self.followups) > index else None,
            within, f"followup #{index} to {self!r}")

    async def reply(self, within: float = DEFAULT_WAIT) -> RecordedMessage:
        """The message the player ends up looking at, once it has real content.

        Type 4: the new message. Type 5: the "thinking" message once filled in. Type 7: the
        updated message. Type 6: the component's message once edited, or the first followup.
        """

        def ready() -> RecordedMessage | None:
            cb = self.callback
            if cb is None:
                return None
            if cb.type in (AUTOCOMPLETE_RESULT, MODAL):
                raise AssertionError(f"{self!r} was answered with type {cb.type}, not a message")
            if cb.type == DEFERRED_UPDATE_MESSAGE:
                if self.followups:
                    return self.followups[0]
                message = self.original
                edited = message is not None and len(message.history) > self.edits_before_answer
                return message if edited else None
            if self.original is not None and not self.original.loading:
                return self.original
            return None

        return await self.fake.wait_until(ready, within, f"a visible reply to {self!r}")

    @property
    def messages(self) -> list[RecordedMessage]:
        """The original answer (if any) and every followup."""
        found = [self.original] if self.original else []
        return found + [m for m in self.followups if m is not self.original]


@dataclass(eq=False)
class FakeFile:
    """A file a user attaches to a slash command's attachment option. The local Discord serves
    its bytes at ``http://127.0.0.1:{port}/attachments/{id}/{filename}`` as Discord's CDN does;
    ``declared_size`` (default: the real size) is what the interaction says, which a client
    cannot be trusted on."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    declared_size: int | None = None
