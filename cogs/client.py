"""Typed access to what nextcord types loosely: the bot behind an interaction, its user, its data.

nextcord types `interaction.client` as any Client and `interaction.user` as optional (only a
ping has no user); every interaction our handlers see comes to a LadderBot from a user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import nextcord

if TYPE_CHECKING:  # cogs.bot imports every cog
    from cogs.bot import LadderBot


def ladder_bot(interaction: nextcord.Interaction) -> LadderBot:
    """The LadderBot that received `interaction`: the only client our handlers are added to."""
    return cast("LadderBot", interaction.client)


def user_of(interaction: nextcord.Interaction) -> nextcord.User | nextcord.Member:
    """Who sent `interaction`: commands, components and modals always carry a user."""
    user = interaction.user
    if user is None:
        raise TypeError(f"interaction {interaction.id} has no user")
    return user


def interaction_data(interaction: nextcord.Interaction) -> Mapping[str, Any]:
    """The interaction's data as sent: nextcord types it per kind of interaction, but a client
    can send anything, so handlers read it as a plain mapping and check what they find."""
    return interaction.data or {}
