"""Slash commands in the players' languages: names, descriptions, options and choices.

Discord shows each user a command's `name_localizations` and `description_localizations` for
their app's language. They are set here, once, on every registered command before the commands
are synced, from the same catalogs as every reply: names with msgctxt "command", choice names
with msgctxt "choice", descriptions as they are. A translated name Discord would refuse (upper
case, spaces, over 32 characters) is left out and logged, so a bad catalog entry cannot stop
the commands from registering; tests/i18n checks every catalog's names are valid.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from i18n import choice_names, command_names, descriptions

log = logging.getLogger(__name__)

# Discord's rule for command and option names (CHAT_INPUT): 1–32 letters, digits, "-" or "_",
# lower case wherever the script has case.
NAME_PATTERN = re.compile(r"^[-_\w\u0900-\u097f\u0e00-\u0e7f]{1,32}$")


def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.fullmatch(name)) and name == name.lower()


def walk(commands: Iterable[Any]) -> Iterator[Any]:
    """Every command, subcommand group and subcommand, depth first."""
    for command in commands:
        yield command
        yield from walk((getattr(command, "children", None) or {}).values())


def options_of(command: Any) -> list[Any]:
    return list((getattr(command, "options", None) or {}).values())


def choice_labels(option: Any) -> list[str]:
    """The shown names of an option's fixed choices ([] when it has none or they are not ours)."""
    choices = getattr(option, "choices", None)
    if not isinstance(choices, dict):
        return []
    return [str(name) for name in choices]


def _names(name: str) -> dict[str, str] | None:
    found = {}
    for locale, text in command_names(name).items():
        if valid_name(text):
            found[locale] = text
        else:
            log.warning("Translated command name %r for %s is not valid for Discord", text, locale)
    return found or None


def localize_commands(commands: Iterable[Any]) -> None:
    """Set the localisations of `commands`, their subcommands and options in place."""
    for command in walk(commands):
        command.name_localizations = _names(command.name)
        if getattr(command, "description", None):
            command.description_localizations = descriptions(command.description) or None
        for option in options_of(command):
            option.name_localizations = _names(option.name)
            if option.description:
                option.description_localizations = descriptions(option.description) or None
            if labels := choice_labels(option):
                option.choice_localizations = choice_names(labels) or None


def all_commands(bot: Any) -> list[Any]:
    """The bot's application commands, including those its cogs added but it has not synced."""
    found = {id(c): c for c in bot.get_all_application_commands()}
    for cog in bot.cogs.values():
        found.update({id(c): c for c in cog.application_commands})
    return list(found.values())
