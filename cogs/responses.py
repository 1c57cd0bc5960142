"""The one place that turns an error into what the player sees, and the embeds shared by cogs.

Known errors (LadderError) become a short ephemeral embed saying what to do next. Anything else
is a bug: it is logged with its traceback and the player gets an apology, never the traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import nextcord

from i18n import N_, _
from ladder.errors import LadderError

log = logging.getLogger(__name__)

ERROR_COLOUR = nextcord.Colour.red()
INFO_COLOUR = nextcord.Colour.blurple()
SUCCESS_COLOUR = nextcord.Colour.green()

APOLOGY = N_(
    "Sorry, something went wrong on our side. It has been logged for the admins; "
    "please try again in a moment."
)


def error_embed(title: str, message: str) -> nextcord.Embed:
    """An embed for a refusal or an error."""
    return nextcord.Embed(title=title, description=message, colour=ERROR_COLOUR)


def describe_error(error: BaseException, *, where: str) -> nextcord.Embed:
    """Map an error to the embed the player sees, logging it at the level it deserves."""
    if isinstance(error, LadderError):
        # %r: the message can quote what a player typed; it must not start a log line of its own.
        log.debug("%s refused: %r", where, error.user_message)
        return error_embed(error.translated_title(), error.translated())
    log.error("Unexpected error in %s", where, exc_info=error)
    return error_embed(_("Something went wrong"), _(APOLOGY))


async def send_error(
    interaction: nextcord.Interaction, error: BaseException, *, where: str
) -> None:
    """Tell the player about `error` in the way that fits the interaction's state."""
    await respond(interaction, embed=describe_error(error, where=where), ephemeral=True)


async def respond(interaction: nextcord.Interaction, **message: Any) -> None:
    """Send the initial response, or a followup if the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**message)
        else:
            await interaction.response.send_message(**message)
    except nextcord.HTTPException as exc:
        # The interaction expired or Discord refused it: nothing more can reach the player.
        log.warning("Could not answer interaction %s: %s", interaction.id, exc)
