"""What the page is sent: the local Discord's records as plain JSON.

Messages keep Discord's own shapes (embeds, components) so the page draws them as Discord does;
strings are passed through as data — the page puts them in the document with ``textContent``,
never as HTML. Commands are flattened to one entry per runnable path ("admin resolve").
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from localdiscord import FakeDiscord, FakeUser, RecordedMessage, Violation
from localdiscord.objects import iso_from_ms, snowflake_time_ms
from localdiscord.protocol import APPLICATION_COMMAND, OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP
from localdiscord.rules import modal_inputs

OPTION_TYPES = {3: "string", 4: "integer", 5: "boolean", 6: "user", 7: "channel", 8: "role",
                10: "number"}


def message_view(message: RecordedMessage) -> dict[str, Any]:
    """One message in a DM, as the recipient sees it now (edits applied; deleted flagged)."""
    inter = message.interaction
    used: str | None = None  # the command the message answers, as typed
    if inter is not None and inter.type == APPLICATION_COMMAND and message.kind == "response":
        used = str(inter.data.get("name"))
        for option in inter.data.get("options") or []:  # subcommand path
            if option.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
                used += f" {option['name']}"
                for inner in option.get("options") or []:
                    if inner.get("type") == OPT_SUB_COMMAND:
                        used += f" {inner['name']}"
    return {
        "id": str(message.id),
        "kind": message.kind,
        "content": message.content,
        "embeds": message.embeds,
        "components": message.components,
        "ephemeral": message.ephemeral,
        "loading": message.loading,
        "edited": message.edited_at,
        "deleted": message.deleted,
        "timestamp": iso_from_ms(snowflake_time_ms(message.id)),
        "command": used,
        "user": inter.user.username if inter is not None else None,
    }


def dm_view(fake: FakeDiscord, user: FakeUser) -> list[dict[str, Any]]:
    """Every message of ``user``'s DM with the bot, oldest first, deleted ones included (shown
    as deleted). Ephemeral replies are only ever for the player who used the interaction."""
    channel = fake.dm_channel(user)
    return [message_view(m) for m in list(fake.messages.values()) if m.channel is channel
            and (not m.ephemeral or m.interaction is None or m.interaction.user is user)]


def dm_counts(fake: FakeDiscord) -> Counter[int]:
    """How many messages each DM holds, by recipient id (for the page's unread marks)."""
    return Counter(m.channel.recipient.id for m in list(fake.messages.values())
                   if m.channel.recipient is not None)


def commands_view(fake: FakeDiscord) -> list[dict[str, Any]]:
    """The commands usable in a DM, one entry per runnable path, with their options."""
    found: list[dict[str, Any]] = []
    for command in list(fake.commands.get(None, {}).values()):
        if command.get("type", 1) != 1 or command.get("dm_permission") is False:
            continue
        contexts = command.get("contexts")
        if contexts is not None and 1 not in contexts:
            continue
        _flatten(found, command["name"], command.get("description", ""),
                 command.get("options") or [])
    return sorted(found, key=lambda c: c["path"])


def _flatten(found: list[dict[str, Any]], path: str, description: str,
             options: list[dict[str, Any]]) -> None:
    subs = [o for o in options if o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)]
    if subs:
        for sub in subs:
            _flatten(found, f"{path} {sub['name']}", sub.get("description", ""),
                     sub.get("options") or [])
        return
    found.append({"path": path, "description": description,
                  "options": [_option_view(o) for o in options]})


def _option_view(option: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": option["name"],
        "description": option.get("description", ""),
        "type": OPTION_TYPES.get(option["type"], str(option["type"])),
        "required": bool(option.get("required")),
        "autocomplete": bool(option.get("autocomplete")),
        "choices": [{"name": c["name"], "value": c["value"]}
                    for c in option.get("choices") or []],
        "min_value": option.get("min_value"),
        "max_value": option.get("max_value"),
        "min_length": option.get("min_length"),
        "max_length": option.get("max_length"),
    }


def option_specs(fake: FakeDiscord, path: str) -> dict[str, dict[str, Any]]:
    """The registered options of a command path, by name (empty for an unknown path)."""
    for command in commands_view(fake):
        if command["path"] == path:
            return {o["name"]: o for o in command["options"]}
    return {}


def modal_view(modal: dict[str, Any]) -> dict[str, Any]:
    """A modal the bot opened: its title and text inputs (either of Discord's layouts)."""
    return {
        "title": modal.get("title", ""),
        "custom_id": modal.get("custom_id", ""),
        "inputs": [{
            "custom_id": i.get("custom_id", ""),
            "label": i.get("label") or "",
            "style": "paragraph" if i.get("style") == 2 else "short",
            "placeholder": i.get("placeholder") or "",
            "value": i.get("value") or "",
            "required": i.get("required", True),
            "min_length": i.get("min_length"),
            "max_length": i.get("max_length"),
        } for i in modal_inputs(modal)],
    }


def violation_view(violation: Violation) -> dict[str, Any]:
    return {"rule": violation.rule, "detail": violation.detail,
            "interaction": str(violation.interaction_id) if violation.interaction_id else None}
