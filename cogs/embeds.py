"""Embeds built from domain values; no I/O here, so every cog shows things the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import nextcord

from cogs.pipeline import RULE_ATTRIBUTE
from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR
from cogs.text import plain
from i18n import N_, _, format_date
from ladder.guards import Access
from ladder.players import Player, describe_country

# What a command's guard asks for, as /help says it after the command's description.
NEEDS = {
    Access.ANYONE: "",
    Access.TERMS: N_("Needs the terms."),
    Access.SETUP: N_("Needs /setup."),
}


NAME_SHOWN = 100  # characters of a name or battletag, escapes included


def _names(names: tuple[str, ...]) -> str:
    """Alt names, each made safe, comma-separated."""
    return ", ".join(shown for shown in (plain(n, NAME_SHOWN) for n in names) if shown)


def terms_embed(terms_text: str, player: Player | None) -> nextcord.Embed:
    """The terms (as the host wrote them), with the player's current decision in a field."""
    embed = nextcord.Embed(title=_("Terms of service"), description=terms_text, colour=INFO_COLOUR)
    if player is not None and player.accepted_tos_at is not None:
        when = f"<t:{int(player.accepted_tos_at.timestamp())}:f>"  # the client shows it localised
        if player.accepted_tos:
            embed.colour = SUCCESS_COLOUR
            decision = _("Accepted on {when}. Next: `/setup`.", when=when)
        else:
            decision = _(
                "Declined on {when}. Accept at any time with `/termsofservice`.", when=when
            )
        embed.add_field(name=_("Your decision"), value=decision)
    return embed


def profile_draft_embed(draft: Any, regions: Mapping[str, str]) -> nextcord.Embed:
    """The /setup preview: what will be saved on Confirm."""
    embed = nextcord.Embed(
        title=_("Your profile (preview)"),
        # The button's own label, so the two always read the same.
        description=_(
            "Pick your country and region below, then **{confirm}**.", confirm=_("Confirm")
        ),
        colour=INFO_COLOUR,
    )
    below = _("choose below")
    embed.add_field(name=_("Player name"), value=plain(draft.player_name, NAME_SHOWN) or "—")
    embed.add_field(name=_("Battletag"), value=plain(draft.battletag, NAME_SHOWN) or "—")
    embed.add_field(name=_("Alt names"), value=_names(draft.alt_names) or _("none"))
    embed.add_field(
        name=_("Country"), value=describe_country(draft.country) if draft.country else below
    )
    embed.add_field(
        name=_("Region"), value=regions.get(draft.region, below) if draft.region else below
    )
    return embed


def profile_embed(player: Player, regions: Mapping[str, str]) -> nextcord.Embed:
    """The /profile embed of a player's record."""
    name = plain(player.display_name, NAME_SHOWN) or str(player.discord_uid)
    embed = nextcord.Embed(title=_("Profile: {name}", name=name), colour=INFO_COLOUR)
    not_set = _("not set")
    embed.add_field(name=_("Battletag"), value=plain(player.battletag, NAME_SHOWN) or not_set)
    embed.add_field(name=_("Alt names"), value=_names(player.alt_names) or _("none"))
    embed.add_field(
        name=_("Country"), value=describe_country(player.country) if player.country else not_set
    )
    embed.add_field(
        name=_("Region"),
        value=regions.get(player.region, player.region) if player.region else not_set,
    )
    status = _("ready to play") if player.completed_setup else _("setup not finished: use `/setup`")
    embed.add_field(name=_("Status"), value=status)
    if player.accepted_tos_at:
        embed.set_footer(
            text=_("Terms accepted {date}", date=format_date(player.accepted_tos_at.date()))
        )
    return embed


def help_entries(commands: Iterable[Any]) -> list[tuple[str, str]]:
    """(/name, what it does and needs) for every player command, in the current language, built
    from the registered commands themselves: the description (a msgid: `description=N_(...)` at
    the decorator) and the guard. A new command is one file.

    Commands without a guard of their own (the /admin group) and admin-only ones are left out.
    """
    found = []
    for command in commands:
        callback = getattr(command, "callback", None)
        rule = getattr(callback, RULE_ATTRIBUTE, None)
        if rule is None or rule.access is Access.ADMIN:
            continue
        text = _(command.description)
        if needs := NEEDS[rule.access]:
            text = f"{text} {_(needs)}"
        order = (command.name == "help", rule.access, command.name != "termsofservice")
        found.append((order, command.name, f"/{command.name}", text))
    return [(name, text) for _order, _key, name, text in sorted(found)]


def help_embed(entries: Iterable[tuple[str, str]]) -> nextcord.Embed:
    """What each command does and what it needs first."""
    embed = nextcord.Embed(title=_("ladderbot commands"), colour=INFO_COLOUR)
    embed.description = "\n".join(f"**{name}** — {text}" for name, text in entries)
    return embed
