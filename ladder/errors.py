"""Errors the domain raises; the command pipeline turns each into a message for the player.

Every error carries the data a message needs and a `user_message` written for a player:
what went wrong and what to do next. Anything that is not a `LadderError` is a bug, which the
pipeline logs with a traceback while the player gets a short apology.
"""

from __future__ import annotations

import re
from typing import Any

from i18n import N_, _, lazy

_BREAKS = re.compile(r"[\s\x00-\x1f\x7f\u2028\u2029]+")


def quoted(value: str, limit: int = 64) -> str:
    """Show text a player typed inside a message, inert: as inline code, which Discord renders
    literally (no markdown, no mentions, no links), on one line, backticks replaced."""
    text = _BREAKS.sub(" ", value).replace("`", "ˋ").strip() or " "
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{text}`"


class LadderError(Exception):
    """A known, expected failure whose message can be shown to the player.

    `message` is an English source text with {named} placeholders filled from `params`; the
    pipeline shows it translated (`translated()`), logs and tests read `user_message` (English).
    """

    title = N_("That didn't work")

    def __init__(self, message: str, /, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """The message in English, with its values."""
        return lazy(self.message, **self.params).english()

    def translated(self) -> str:
        """The message in the current language (see i18n)."""
        return _(self.message, **self.params)

    def translated_title(self) -> str:
        return _(self.title)


class ValidationError(LadderError):
    """Input broke a rule; nothing was written."""

    title = N_("Please check your input")

    def __init__(self, field: str, message: str, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.field = field


class NameTakenError(ValidationError):
    """Another player already goes by this name."""

    def __init__(self, field: str, name: str) -> None:
        super().__init__(
            field, N_("The name {name} is already taken. Please choose another."), name=quoted(name)
        )
        self.name = name


class GuardRefusal(LadderError):
    """A guard refused the command before it ran; `guard` is what is logged as the outcome."""

    title = N_("Not yet")

    def __init__(self, guard: str, message: str, /, **params: Any) -> None:
        super().__init__(message, **params)
        self.guard = guard


# One whole sentence per kind of thing (a translation cannot assemble "No {kind}" from a word).
_NOT_FOUND = {
    "race": N_("No race `{key}` was found."),
    "region": N_("No region `{key}` was found."),
    "match": N_("No match `{key}` was found."),
    "player": N_("No player `{key}` was found."),
    "replay": N_("No replay `{key}` was found."),
    "open match": N_("You have no match to upload a replay for."),
}


class NotFoundError(LadderError):
    """A player, match or dispute the input named does not exist."""

    title = N_("Not found")

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(_NOT_FOUND.get(kind, N_("Nothing called `{key}` was found.")), key=key)
        self.kind = kind
        self.key = key


class ConflictError(LadderError):
    """The action no longer fits the current state (already queued, already reported, ...)."""

    title = N_("Can't do that now")


class StorageBusyError(LadderError):
    """The database could not take a write just now (locked, read-only or full)."""

    title = N_("Please try again")

    def __init__(self) -> None:
        super().__init__(
            N_("The ladder's database is busy right now. Please try again in a minute.")
        )
