"""Errors the domain raises; the command pipeline turns each into a message for the player.

Every error carries the data a message needs and a `user_message` written for a player:
what went wrong and what to do next. Anything that is not a `LadderError` is a bug, which the
pipeline logs with a traceback while the player gets a short apology.
"""

from __future__ import annotations

import re

_BREAKS = re.compile(r"[\s\x00-\x1f\x7f\u2028\u2029]+")


def quoted(value: str, limit: int = 64) -> str:
    """Show text a player typed inside a message, inert: as inline code, which Discord renders
    literally (no markdown, no mentions, no links), on one line, backticks replaced."""
    text = _BREAKS.sub(" ", value).replace("`", "ˋ").strip() or " "
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"`{text}`"


class LadderError(Exception):
    """A known, expected failure whose message can be shown to the player."""

    title = "That didn't work"

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ValidationError(LadderError):
    """Input broke a rule; nothing was written."""

    title = "Please check your input"

    def __init__(self, field: str, user_message: str) -> None:
        super().__init__(user_message)
        self.field = field


class NameTakenError(ValidationError):
    """Another player already goes by this name."""

    def __init__(self, field: str, name: str) -> None:
        super().__init__(field, f"The name {quoted(name)} is already taken. Please choose another.")
        self.name = name


class GuardRefusal(LadderError):
    """A guard refused the command before it ran; `guard` is what is logged as the outcome."""

    title = "Not yet"

    def __init__(self, guard: str, user_message: str) -> None:
        super().__init__(user_message)
        self.guard = guard


class NotFoundError(LadderError):
    """A player, match or dispute the input named does not exist."""

    title = "Not found"

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"No {kind} `{key}` was found.")
        self.kind = kind
        self.key = key


class ConflictError(LadderError):
    """The action no longer fits the current state (already queued, already reported, ...)."""

    title = "Can't do that now"


class StorageBusyError(LadderError):
    """The database could not take a write just now (locked, read-only or full)."""

    title = "Please try again"

    def __init__(self) -> None:
        super().__init__("The ladder's database is busy right now. Please try again in a minute.")
