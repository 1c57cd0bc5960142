"""Embeds built from domain values; no I/O here, so every cog shows things the same way."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import nextcord

from cogs.pipeline import RULE_ATTRIBUTE
from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR
from cogs.text import plain
from ladder.guards import Access
from ladder.players import Player, describe_country

# What a command's guard asks for, as /help says it.
NEEDS = {Access.ANYONE: "", Access.TERMS: " Needs the terms.", Access.SETUP: " Needs /setup."}


NAME_SHOWN = 100  # characters of a name or battletag, escapes included


def _names(names: tuple[str, ...]) -> str:
    """Alt names, each made safe, comma-separated."""
    return ", ".join(shown for shown in (plain(n, NAME_SHOWN) for n in names) if shown)


def _when(player: Player | None) -> str:
    if player is None or player.accepted_tos_at is None:
        return ""
    return f" on <t:{int(player.accepted_tos_at.timestamp())}:f>"


def terms_embed(terms_text: str, player: Player | None) -> nextcord.Embed:
    """The terms, with the player's current decision in the footer."""
    embed = nextcord.Embed(title="Terms of service", description=terms_text, colour=INFO_COLOUR)
    if player is not None and player.accepted_tos_at is not None:
        if player.accepted_tos:
            embed.colour = SUCCESS_COLOUR
            embed.add_field(name="Your decision", value=f"Accepted{_when(player)}. Next: `/setup`.")
        else:
            embed.add_field(
                name="Your decision",
                value=f"Declined{_when(player)}. Accept at any time with `/termsofservice`.",
            )
    return embed


def profile_draft_embed(draft: Any, regions: Mapping[str, str]) -> nextcord.Embed:
    """The /setup preview: what will be saved on Confirm."""
    embed = nextcord.Embed(
        title="Your profile (preview)",
        description="Pick your country and region below, then **Confirm**.",
        colour=INFO_COLOUR,
    )
    embed.add_field(name="Player name", value=plain(draft.player_name, NAME_SHOWN) or "—")
    embed.add_field(name="Battletag", value=plain(draft.battletag, NAME_SHOWN) or "—")
    embed.add_field(name="Alt names", value=_names(draft.alt_names) or "none")
    embed.add_field(
        name="Country", value=describe_country(draft.country) if draft.country else "choose below"
    )
    embed.add_field(
        name="Region",
        value=regions.get(draft.region, "choose below") if draft.region else "choose below",
    )
    return embed


def profile_embed(player: Player, regions: Mapping[str, str]) -> nextcord.Embed:
    """The /profile embed of a player's record."""
    name = plain(player.display_name, NAME_SHOWN) or str(player.discord_uid)
    embed = nextcord.Embed(title=f"Profile: {name}", colour=INFO_COLOUR)
    embed.add_field(name="Battletag", value=plain(player.battletag, NAME_SHOWN) or "not set")
    embed.add_field(name="Alt names", value=_names(player.alt_names) or "none")
    embed.add_field(name="Country", value=describe_country(player.country))
    embed.add_field(
        name="Region",
        value=regions.get(player.region, player.region) if player.region else "not set",
    )
    status = "ready to play" if player.completed_setup else "setup not finished: use `/setup`"
    embed.add_field(name="Status", value=status)
    if player.accepted_tos_at:
        embed.set_footer(text=f"Terms accepted {player.accepted_tos_at:%Y-%m-%d}")
    return embed


def help_entries(commands: Iterable[Any]) -> list[tuple[str, str]]:
    """(/name, what it does and needs) for every player command, built from the registered
    commands themselves: the handler's docstring and its guard. A new command is one file.

    Commands without a guard of their own (the /admin group) and admin-only ones are left out.
    """
    found = []
    for command in commands:
        callback = getattr(command, "callback", None)
        rule = getattr(callback, RULE_ATTRIBUTE, None)
        if rule is None or rule.access is Access.ADMIN:
            continue
        doc = inspect.getdoc(callback) or command.description
        text = " ".join(doc.split("\n\n")[0].split())
        order = (command.name == "help", rule.access, command.name != "termsofservice")
        found.append((order, command.name, f"/{command.name}", text + NEEDS[rule.access]))
    return [(name, text) for _, _, name, text in sorted(found)]


def help_embed(entries: Iterable[tuple[str, str]]) -> nextcord.Embed:
    """What each command does and what it needs first."""
    embed = nextcord.Embed(title="ladderbot commands", colour=INFO_COLOUR)
    embed.description = "\n".join(f"**{name}** — {text}" for name, text in entries)
    return embed
