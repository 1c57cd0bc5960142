"""Discord's documented limits on what a bot may send, written as pure checks.

The local Discord runs every payload the bot sends through these functions.
Each check returns a list of problems, one short string each; an empty list means Discord would
accept the payload. Real Discord answers a broken payload with HTTP 400, code 50035 "Invalid Form
Body" — so a bot that breaks one of these rules fails in production, usually only for the one
player whose data made a message too long.

Sources: discord.com/developers/docs — "Message Resource" (content, embed limits), "Message
Components" (action rows, buttons, selects, text inputs), "Interactions: Receiving and
Responding" (autocomplete, modals), "Application Commands" (names, descriptions, options).
Only the rules a ladder bot can plausibly break are here; each constant names one rule.
"""

from __future__ import annotations

import re
from typing import Any

from .protocol import (
    ACTION_ROW,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    BUTTON,
    CHANNEL_MESSAGE,
    CHAT_INPUT,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    IS_COMPONENTS_V2,
    LABEL,
    LINK_BUTTON_STYLE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    OPT_SUB_COMMAND,
    OPT_SUB_COMMAND_GROUP,
    PREMIUM_BUTTON_STYLE,
    SELECT_TYPES,
    STRING_SELECT,
    TEXT_INPUT,
    UPDATE_MESSAGE,
)

# --- answering an interaction -----------------------------------------------------------------
RESPONSE_DEADLINE = 3.0  # seconds for the first answer; later, Discord forgets the interaction
# The first answer is the only one: a second callback is refused (40060). Which answers Discord
# accepts for which interaction: 6 and 7 change the message a component is on; a modal submit
# has one only when the modal was opened from a component.
ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE,
                        UPDATE_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE,
                   UPDATE_MESSAGE},
}

# --- messages -------------------------------------------------------------------------------
MAX_CONTENT = 2000
MAX_EMBEDS = 10
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER = 2048
EMBED_AUTHOR = 256
EMBED_TOTAL = 6000  # title + description + field names/values + footer + author, all embeds

# --- components -----------------------------------------------------------------------------
MAX_ACTION_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
CUSTOM_ID = 100
BUTTON_LABEL = 80
SELECT_OPTIONS = 25
SELECT_PLACEHOLDER = 150
SELECT_OPTION_TEXT = 100  # label, value and description of one option
SELECT_MAX_VALUES = 25


# --- autocomplete and modals ----------------------------------------------------------------
AUTOCOMPLETE_CHOICES = 25
CHOICE_NAME = 100
CHOICE_STRING_VALUE = 100
MODAL_TITLE = 45
MODAL_COMPONENTS = 5
TEXT_INPUT_LABEL = 45
TEXT_INPUT_LENGTH = 4000  # max for min_length, max_length and value
TEXT_INPUT_PLACEHOLDER = 100

# --- application commands -------------------------------------------------------------------
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION = 100
COMMAND_OPTIONS = 25
OPTION_CHOICES = 25


def _too_long(problems: list[str], where: str, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        problems.append(f"{where} is {len(value)} characters (max {limit})")


def check_message(data: dict[str, Any], *, new: bool) -> list[str]:
    """Check a message body: content, embeds and components.

    ``new`` is true when the body creates a message; Discord then refuses an empty one
    (code 50006 "Cannot send an empty message"). An edit may send any subset of the fields.
    """
    problems: list[str] = []
    content = data.get("content")
    _too_long(problems, "content", content, MAX_CONTENT)
    embeds = data.get("embeds") or []
    problems += check_embeds(embeds)
    flags = int(data.get("flags") or 0)
    components = data.get("components") or []
    if flags & IS_COMPONENTS_V2:
        pass  # a different layout with different limits; the bot does not use it
    else:
        problems += check_message_components(components)
    has_files = bool(data.get("attachments")) or bool(data.get("_files"))
    if new and not (content or embeds or components or has_files or data.get("sticker_ids")):
        problems.append("empty message: no content, embeds, components or files")
    return problems


def check_embeds(embeds: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(embeds) > MAX_EMBEDS:
        problems.append(f"{len(embeds)} embeds (max {MAX_EMBEDS})")
    total = 0
    for n, embed in enumerate(embeds):
        where = f"embeds[{n}]"
        title = embed.get("title") or ""
        description = embed.get("description") or ""
        _too_long(problems, f"{where}.title", title, EMBED_TITLE)
        _too_long(problems, f"{where}.description", description, EMBED_DESCRIPTION)
        total += len(title) + len(description)
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS:
            problems.append(f"{where} has {len(fields)} fields (max {EMBED_FIELDS})")
        for i, fld in enumerate(fields):
            name, value = fld.get("name") or "", fld.get("value") or ""
            if not name or not value:
                problems.append(f"{where}.fields[{i}] has an empty name or value")
            _too_long(problems, f"{where}.fields[{i}].name", name, EMBED_FIELD_NAME)
            _too_long(problems, f"{where}.fields[{i}].value", value, EMBED_FIELD_VALUE)
            total += len(name) + len(value)
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        _too_long(problems, f"{where}.footer.text", footer, EMBED_FOOTER)
        _too_long(problems, f"{where}.author.name", author, EMBED_AUTHOR)
        total += len(footer) + len(author)
    if total > EMBED_TOTAL:
        problems.append(f"embeds hold {total} characters in all (max {EMBED_TOTAL})")
    return problems


def check_message_components(rows: list[dict[str, Any]]) -> list[str]:
    """Action rows of buttons and selects on a message (not a modal)."""
    problems: list[str] = []
    if len(rows) > MAX_ACTION_ROWS:
        problems.append(f"{len(rows)} action rows (max {MAX_ACTION_ROWS})")
    seen_ids: set[str] = set()
    for r, row in enumerate(rows):
        where = f"components[{r}]"
        if row.get("type") != ACTION_ROW:
            problems.append(f"{where} is type {row.get('type')}, not an action row")
            continue
        children = row.get("components") or []
        if not children:
            problems.append(f"{where} is an empty action row")
        kinds = {c.get("type") for c in children}
        if kinds & SELECT_TYPES and len(children) > 1:
            problems.append(f"{where}: a select menu must be alone in its row")
        buttons = [c for c in children if c.get("type") == BUTTON]
        if len(buttons) > MAX_BUTTONS_PER_ROW:
            problems.append(f"{where} has {len(buttons)} buttons (max {MAX_BUTTONS_PER_ROW})")
        for c, comp in enumerate(children):
            cwhere = f"{where}.components[{c}]"
            kind = comp.get("type")
            if kind == BUTTON:
                problems += _check_button(cwhere, comp)
            elif kind in SELECT_TYPES:
                problems += _check_select(cwhere, comp)
            else:
                problems.append(f"{cwhere} is type {kind}, not allowed in a message")
            custom_id = comp.get("custom_id")
            if custom_id:
                if custom_id in seen_ids:
                    problems.append(f"{cwhere}: custom_id {custom_id!r} is used twice")
                seen_ids.add(custom_id)
    return problems


def _check_custom_id(where: str, comp: dict[str, Any]) -> list[str]:
    custom_id = comp.get("custom_id")
    if not custom_id:
        return [f"{where} has no custom_id"]
    if len(custom_id) > CUSTOM_ID:
        return [f"{where}.custom_id is {len(custom_id)} characters (max {CUSTOM_ID})"]
    return []


def _check_button(where: str, button: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    style = button.get("style")
    if style == LINK_BUTTON_STYLE:
        if not button.get("url"):
            problems.append(f"{where} is a link button without a url")
        if button.get("custom_id"):
            problems.append(f"{where} is a link button with a custom_id")
    elif style != PREMIUM_BUTTON_STYLE:
        problems += _check_custom_id(where, button)
    if not button.get("label") and not button.get("emoji") and style != PREMIUM_BUTTON_STYLE:
        problems.append(f"{where} has neither a label nor an emoji")
    _too_long(problems, f"{where}.label", button.get("label"), BUTTON_LABEL)
    return problems


def _check_select(where: str, select: dict[str, Any]) -> list[str]:
    problems = _check_custom_id(where, select)
    _too_long(problems, f"{where}.placeholder", select.get("placeholder"), SELECT_PLACEHOLDER)
    min_values = select.get("min_values", 1)
    max_values = select.get("max_values", 1)
    if not 0 <= min_values <= SELECT_MAX_VALUES:
        problems.append(f"{where}.min_values is {min_values} (0..{SELECT_MAX_VALUES})")
    if not 1 <= max_values <= SELECT_MAX_VALUES:
        problems.append(f"{where}.max_values is {max_values} (1..{SELECT_MAX_VALUES})")
    if select.get("type") == STRING_SELECT:
        options = select.get("options") or []
        if not 1 <= len(options) <= SELECT_OPTIONS:
            problems.append(f"{where} has {len(options)} options (1..{SELECT_OPTIONS})")
        if max_values > len(options):
            problems.append(f"{where}.max_values {max_values} > {len(options)} options")
        values: set[str] = set()
        for o, option in enumerate(options):
            owhere = f"{where}.options[{o}]"
            if not option.get("label") or not option.get("value"):
                problems.append(f"{owhere} has an empty label or value")
            for key in ("label", "value", "description"):
                _too_long(problems, f"{owhere}.{key}", option.get(key), SELECT_OPTION_TEXT)
            if option.get("value") in values:
                problems.append(f"{owhere}: value {option.get('value')!r} is used twice")
            values.add(option.get("value"))
    return problems


def check_autocomplete(data: dict[str, Any]) -> list[str]:
    """An autocomplete result (callback type 8): at most 25 choices, short names and values."""
    problems: list[str] = []
    choices = data.get("choices")
    if choices is None:
        return ["autocomplete result has no choices list"]
    if len(choices) > AUTOCOMPLETE_CHOICES:
        problems.append(f"{len(choices)} autocomplete choices (max {AUTOCOMPLETE_CHOICES})")
    for n, choice in enumerate(choices):
        name = choice.get("name") or ""
        if not name:
            problems.append(f"choices[{n}] has an empty name")
        _too_long(problems, f"choices[{n}].name", name, CHOICE_NAME)
        _too_long(problems, f"choices[{n}].value", choice.get("value"), CHOICE_STRING_VALUE)
    return problems


def modal_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """The text inputs of a modal, whether in action rows (type 1) or labels (type 18)."""
    found = []
    for row in modal.get("components") or []:
        if row.get("type") == LABEL:
            inner = row.get("component") or {}
            found.append({**inner, "label": row.get("label")})
        else:
            found.extend(row.get("components") or [])
    return found


def check_modal(modal: dict[str, Any]) -> list[str]:
    """A modal (callback type 9): title, custom_id, 1..5 rows each holding one text input."""
    problems: list[str] = []
    title = modal.get("title") or ""
    if not title:
        problems.append("modal has no title")
    _too_long(problems, "modal title", title, MODAL_TITLE)
    problems += _check_custom_id("modal", modal)
    rows = modal.get("components") or []
    if not 1 <= len(rows) <= MODAL_COMPONENTS:
        problems.append(f"modal has {len(rows)} components (1..{MODAL_COMPONENTS})")
    for r, row in enumerate(rows):
        if row.get("type") == ACTION_ROW and len(row.get("components") or []) != 1:
            problems.append(f"modal components[{r}] must hold exactly one text input")
    seen: set[str | None] = set()
    for n, field in enumerate(modal_inputs(modal)):
        where = f"modal input {n}"
        if field.get("type") != TEXT_INPUT:
            continue  # newer modal components (selects in labels) are not checked
        problems += _check_custom_id(where, field)
        if field.get("custom_id") in seen:
            problems.append(f"{where}: custom_id {field.get('custom_id')!r} is used twice")
        seen.add(field.get("custom_id"))
        label = field.get("label") or ""
        if not label:
            problems.append(f"{where} has no label")
        _too_long(problems, f"{where}.label", label, TEXT_INPUT_LABEL)
        _too_long(problems, f"{where}.placeholder", field.get("placeholder"),
                  TEXT_INPUT_PLACEHOLDER)
        _too_long(problems, f"{where}.value", field.get("value"), TEXT_INPUT_LENGTH)
        min_length = field.get("min_length")
        max_length = field.get("max_length")
        if min_length is not None and not 0 <= min_length <= TEXT_INPUT_LENGTH:
            problems.append(f"{where}.min_length is {min_length} (0..{TEXT_INPUT_LENGTH})")
        if max_length is not None and not 1 <= max_length <= TEXT_INPUT_LENGTH:
            problems.append(f"{where}.max_length is {max_length} (1..{TEXT_INPUT_LENGTH})")
        if min_length is not None and max_length is not None and min_length > max_length:
            problems.append(f"{where}.min_length {min_length} > max_length {max_length}")
    return problems


def check_command(command: dict[str, Any]) -> list[str]:
    """An application command as registered: names, descriptions, options, choices."""
    problems: list[str] = []
    name = command.get("name") or ""
    kind = command.get("type", CHAT_INPUT)
    if kind == CHAT_INPUT:
        problems += _check_name_and_description(f"command {name!r}", command)
        problems += _check_options(f"/{name}", command.get("options") or [])
    elif not 1 <= len(name) <= 32:
        problems.append(f"context-menu command name {name!r} must be 1..32 characters")
    return problems


def _check_name_and_description(where: str, item: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    name = item.get("name") or ""
    if not COMMAND_NAME.match(name) or name != name.lower():
        problems.append(f"{where}: name must be 1..32 lowercase letters, digits, - or _")
    description = item.get("description") or ""
    if not 1 <= len(description) <= COMMAND_DESCRIPTION:
        problems.append(
            f"{where}: description is {len(description)} characters (1..{COMMAND_DESCRIPTION})"
        )
    return problems


def _check_options(where: str, options: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(options) > COMMAND_OPTIONS:
        problems.append(f"{where} has {len(options)} options (max {COMMAND_OPTIONS})")
    names: set[str | None] = set()
    optional_seen = False
    for option in options:
        owhere = f"{where} option {option.get('name')!r}"
        problems += _check_name_and_description(owhere, option)
        if option.get("name") in names:
            problems.append(f"{owhere} is defined twice")
        names.add(option.get("name"))
        kind = option.get("type")
        if kind in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
            problems += _check_options(f"{where} {option.get('name')}", option.get("options") or [])
            continue
        if option.get("required"):
            if optional_seen:
                problems.append(f"{owhere}: a required option follows an optional one")
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > OPTION_CHOICES:
            problems.append(f"{owhere} has {len(choices)} choices (max {OPTION_CHOICES})")
        if choices and option.get("autocomplete"):
            problems.append(f"{owhere} has both choices and autocomplete")
        for choice in choices:
            _too_long(problems, f"{owhere} choice name", choice.get("name"), CHOICE_NAME)
            _too_long(problems, f"{owhere} choice value", choice.get("value"), CHOICE_STRING_VALUE)
    return problems
