"""The driver's side: act as the players, as the Discord app would for them.

``slash``, ``autocomplete``, ``click``, ``select`` and ``submit_modal`` each build the
``INTERACTION_CREATE`` Discord would send, check what the Discord app itself checks first (the
command is registered and visible there, required options, choices, min/max, a button is not
disabled, a modal's required inputs), send it on the gateway and return the ``SentInteraction``,
whose ``await response()``, ``await reply()`` and ``await followup()`` wait for the bot.
``inject`` sends a hand-made interaction, for a forged or replayed one. ``settle`` ends a run:
every interaction must have been answered in time.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import time
from typing import Any

from . import rules
from .objects import (
    Callback,
    FakeChannel,
    FakeFile,
    FakeGuild,
    FakeUser,
    RecordedMessage,
    SentInteraction,
)
from .protocol import (
    ACTION_ROW,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    BUTTON,
    CHAT_INPUT,
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    LINK_BUTTON_STYLE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    OPT_ATTACHMENT,
    OPT_BOOLEAN,
    OPT_CHANNEL,
    OPT_INTEGER,
    OPT_NUMBER,
    OPT_STRING,
    OPT_SUB_COMMAND,
    OPT_SUB_COMMAND_GROUP,
    OPT_USER,
    SELECT_TYPES,
    STRING_SELECT,
    TEXT_INPUT,
    USER_SELECT,
)
from .world import World


class Driver(World):
    """Players' actions, sent to the bot; and the check that ends a run."""

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
        return await self.inject(APPLICATION_COMMAND, user, data, guild=guild, channel=channel)

    async def autocomplete(self, user: FakeUser, command: str, focused: str, value: str,
                           options: dict[str, Any] | None = None, *,
                           guild: FakeGuild | None = None) -> SentInteraction:
        """``user`` is typing ``value`` into option ``focused`` of ``/command``."""
        data = self._command_data(user, command, {**(options or {}), focused: value},
                                  guild, focused=focused)
        return await self.inject(AUTOCOMPLETE, user, data, guild=guild)

    async def click(self, user: FakeUser, message: RecordedMessage, *,
                    label: str | None = None, custom_id: str | None = None) -> SentInteraction:
        """``user`` clicks a button on a message the bot sent."""
        button = message.component(label=label, custom_id=custom_id, kinds={BUTTON})
        if button.get("disabled"):
            raise AssertionError(f"button {button.get('label')!r} is disabled")
        if button.get("style") == LINK_BUTTON_STYLE:
            raise AssertionError("a link button opens a URL; it sends no interaction")
        data = {"custom_id": button["custom_id"], "component_type": BUTTON}
        return await self._component(user, message, data)

    async def select(self, user: FakeUser, message: RecordedMessage, values: list[Any], *,
                     custom_id: str | None = None) -> SentInteraction:
        """``user`` picks ``values`` in a select menu on a message the bot sent."""
        menu = message.component(custom_id=custom_id, kinds=SELECT_TYPES)
        if menu.get("disabled"):
            raise AssertionError(f"select {menu.get('custom_id')!r} is disabled")
        count = len(values)
        if not menu.get("min_values", 1) <= count <= menu.get("max_values", 1):
            raise AssertionError(f"{count} values is outside min/max of the select")
        data: dict[str, Any] = {"custom_id": menu["custom_id"], "component_type": menu["type"]}
        if menu["type"] == STRING_SELECT:
            offered = {o["value"] for o in menu.get("options", [])}
            if not set(values) <= offered:
                raise AssertionError(f"values {values} are not among the options {offered}")
            data["values"] = list(values)
        elif menu["type"] == USER_SELECT:
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
        inputs = {i["custom_id"]: i for i in rules.modal_inputs(modal)}
        unknown = set(values) - set(inputs)
        if unknown:
            raise AssertionError(f"the modal has no inputs {unknown}; it has {list(inputs)}")
        rows = []
        for custom_id, spec in inputs.items():
            value = values.get(custom_id, spec.get("value") or "")
            if spec.get("required", True) and not value:
                raise AssertionError(f"modal input {custom_id!r} is required")
            if value and not spec.get("min_length", 0) <= len(value) <= spec.get(
                    "max_length", rules.TEXT_INPUT_LENGTH):
                raise AssertionError(f"{len(value)} characters in {custom_id!r} is outside "
                                     "its min/max length")
            rows.append({"type": ACTION_ROW, "components": [
                {"type": TEXT_INPUT, "custom_id": custom_id, "value": value}]})
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self.inject(MODAL_SUBMIT, user, data, channel=opened_by.channel,
                                  message=opened_by.source_message)

    async def _component(self, user: FakeUser, message: RecordedMessage,
                         data: dict[str, Any]) -> SentInteraction:
        # Sent at once, however soon after the message: the bot routes every component by its
        # custom_id, so nothing on its side has to be filed first (no "reaction time" needed).
        if message.deleted:
            raise AssertionError(f"message {message.id} was deleted")
        if message.ephemeral and message.interaction and message.interaction.user is not user:
            raise AssertionError("only the player an ephemeral message was for can use it")
        return await self.inject(MESSAGE_COMPONENT, user, data, channel=message.channel,
                                  message=message)

    def find_command(self, user: FakeUser, name: str, guild: FakeGuild | None,
                      check_visible: bool = True) -> dict[str, Any]:
        scopes = [guild.id, None] if guild else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and cmd.get("type", 1) == CHAT_INPUT:
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
        cmd = self.find_command(user, name, guild, check_visible=not forged)
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
        if kind == OPT_ATTACHMENT:
            if not isinstance(value, FakeFile):
                raise AssertionError(f"{where} takes a FakeFile")
            attachment_id = self.ids.next()
            self.attachments[attachment_id] = value
            url = f"http://127.0.0.1:{self.port}/attachments/{attachment_id}/{value.filename}"
            size = len(value.data) if value.declared_size is None else value.declared_size
            resolved.setdefault("attachments", {})[str(attachment_id)] = {
                "id": str(attachment_id), "filename": value.filename, "size": size,
                "url": url, "proxy_url": url, "content_type": value.content_type}
            return str(attachment_id)
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

    async def inject(self, kind: int, user: FakeUser, data: dict[str, Any], *,
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

    # ---- the end of a run ----------------------------------------------------------------

    async def settle(self) -> None:
        """At the end of a test: every interaction must have been answered in time.

        Waits out the deadline of interactions still open, then records those left unanswered
        (on Discord the player would see "This interaction failed").
        """
        for inter in list(self.interactions.values()):
            if inter.callback is None and not inter.failed:
                left = inter.injected_at + self.response_deadline - time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await self.wait_until(functools.partial(_callback_of, inter),
                                          max(left, 0.0) + 0.05, "an answer")
                if inter.callback is None:
                    inter.failed = True
                    self.violation("no-response", f"{inter!r} was never answered", inter.id)


def _callback_of(interaction: SentInteraction) -> Callback | None:
    return interaction.callback
