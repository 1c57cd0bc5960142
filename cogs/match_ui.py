"""How a match and a queue place look to a player: embeds and routed buttons, no I/O.

Everything here is written in the current language (i18n): the caller sets it for whoever will
read the message (the Notifier, per recipient). Names, races and maps are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import nextcord

from cogs.components import custom_id, frozen_view
from cogs.responses import ERROR_COLOUR, INFO_COLOUR, SUCCESS_COLOUR
from cogs.text import plain
from cogs.web_links import match_link
from i18n import N_, _, n_
from ladder.config import LadderConfig
from ladder.records import MatchRecord, QueueStatus

STATUS_TEXT = {
    "awaiting_confirmation": N_("Match found — confirm before the deadline"),
    "in_progress": N_("Match on — play, then report the result"),
    "finished": N_("Match finished"),
    "disputed": N_("Disputed — an admin will rule"),
    "cancelled": N_("Cancelled — not confirmed in time"),
    "aborted": N_("Aborted"),
    "invalidated": N_("Invalidated — no rating change"),
}
# Translators: {p1} and {p2} are the players' names.
RESULT_TEXT = {"p1_win": N_("{p1} won"), "p2_win": N_("{p2} won"), "draw": N_("Draw")}
NAME_SHOWN = 64  # characters of a player's name, escapes included (a field name takes 256)


def ts(moment: datetime | None, style: str = "R") -> str:
    """A Discord timestamp that every client renders in its own time zone, updating live."""
    return f"<t:{int(moment.timestamp())}:{style}>" if moment else "—"


def status_text(status: str) -> str:
    """A match's status as its title says it (an unknown one as stored)."""
    return _(STATUS_TEXT[status]) if status in STATUS_TEXT else status


def shown_name(names: Mapping[int, str], uid: int, fallback: str) -> str:
    """A player's name safe to show in any embed text; `fallback` if nothing printable is left."""
    return plain(names.get(uid), NAME_SHOWN) or fallback


def match_embed(
    match: MatchRecord,
    viewer: int,
    names: Mapping[int, str],
    config: LadderConfig,
    web_base_url: str | None = None,
) -> nextcord.Embed:
    """The match as `viewer` sees it: opponent, races, MMRs, map, deadline, result; the title
    links to the match's web page when the site's address is set."""
    status = str(match.status)
    colour = {
        "finished": SUCCESS_COLOUR,
        "disputed": ERROR_COLOUR,
        "cancelled": ERROR_COLOUR,
        "aborted": ERROR_COLOUR,
    }.get(status, INFO_COLOUR)
    embed = nextcord.Embed(
        title=_("Match #{id}: {status}", id=match.id, status=status_text(status)),
        colour=colour,
        url=match_link(web_base_url, match.id),
    )
    for side in (1, 2):
        uid = getattr(match, f"player{side}_uid")
        race = config.race(getattr(match, f"player{side}_race")).name
        name = shown_name(names, uid, _("Player {number}", number=side))
        embed.add_field(
            # Translators: the field of the player reading the message; {name} is their name.
            name=_("{name} (you)", name=name) if uid == viewer else name,
            # Translators: {race} is a race's name; {mmr} a rating, shown without separators.
            value=_("{race} · {mmr} MMR", race=race, mmr=getattr(match, f"player{side}_mmr")),
        )
    # Translators: the field that names the map the match is played on.
    embed.add_field(name=_("Map"), value=match.map, inline=False)
    if status == "awaiting_confirmation":
        embed.add_field(
            name=_("Confirm"),
            # Translators: under "Confirm": the deadline, e.g. "before in 5 minutes".
            value=_("before {time}", time=ts(match.confirm_deadline)),
        )
    elif status == "in_progress":
        embed.add_field(
            name=_("Report"),
            # Translators: under "Report" (the result): the deadline, e.g. "by in 2 hours".
            value=_("by {time}", time=ts(match.report_deadline)),
        )
        embed.add_field(
            name=_("Replay"),
            value=_(
                "Upload it here with `/replay file:` (the .SC2Replay): it is checked "
                "against this match and can report the result for you."
            ),
            inline=False,
        )
    if match.result:
        text = _(
            RESULT_TEXT[str(match.result)],
            p1=shown_name(names, match.player1_uid, _("Player {number}", number=1)),
            p2=shown_name(names, match.player2_uid, _("Player {number}", number=2)),
        )
        change = match.mmr_change_of(viewer) if viewer in match.players else None
        if change is not None:
            # Translators: {result} is e.g. "Alice won"; {change} a signed number, e.g. +20.
            text = _("{result} · your MMR {change}", result=text, change=f"{change:+d}")
        embed.add_field(name=_("Result"), value=text, inline=False)
    if status == "disputed":
        embed.description = _(
            "You and your opponent reported different results. An admin has been told and "
            "will rule. Add evidence (a note and a replay or screenshot link) below."
        )
    return embed


def match_buttons(match: MatchRecord, viewer: int, aborts_left: int) -> nextcord.ui.View | None:
    """The buttons that fit the match's state for `viewer`; None when there is nothing to do."""
    status = str(match.status)
    items: list[nextcord.ui.Item] = []
    abort: nextcord.ui.Button[nextcord.ui.View] = nextcord.ui.Button(
        label=n_("Abort ({count} left this month)", "Abort ({count} left this month)", aborts_left),
        style=nextcord.ButtonStyle.red,
        custom_id=custom_id("match", match.id, "abort"),
        disabled=aborts_left <= 0,
    )
    if status == "awaiting_confirmation":
        confirmed = match.confirmed_by(viewer)
        items.append(
            nextcord.ui.Button(
                label=_("Confirmed — waiting for opponent") if confirmed else _("Confirm"),
                style=nextcord.ButtonStyle.green,
                custom_id=custom_id("match", match.id, "confirm"),
                disabled=confirmed,
            )
        )
        items.append(abort)
    elif status == "in_progress":
        mine = match.report_of(viewer)
        for outcome, label, style in (
            ("win", _("I won"), nextcord.ButtonStyle.green),
            ("loss", _("I lost"), nextcord.ButtonStyle.red),
            ("draw", _("Draw"), nextcord.ButtonStyle.grey),
        ):
            items.append(
                nextcord.ui.Button(
                    label=f"{label} ✓" if mine is not None and str(mine) == outcome else label,
                    style=style,
                    custom_id=custom_id("match", match.id, "report", outcome),
                    disabled=mine is not None,
                )
            )
        if mine is None:
            items.append(abort)
    elif status == "disputed":
        items.append(
            nextcord.ui.Button(
                label=_("Add evidence"),
                style=nextcord.ButtonStyle.blurple,
                custom_id=custom_id("match", match.id, "evidence"),
            )
        )
    return frozen_view(*items) if items else None


def queue_embed(status: QueueStatus, config: LadderConfig) -> nextcord.Embed:
    """The queue message: races, vetoes, and the time waited (rendered live by Discord)."""
    races = ", ".join(config.race(code).name for code in status.races)
    vetoes = ", ".join(status.vetoes) or _("none")
    embed = nextcord.Embed(title=_("You are in the queue"), colour=INFO_COLOUR)
    embed.description = _(
        "Waiting since {time}. You will get a message when a match is found.",
        time=ts(status.joined_at),
    )
    embed.add_field(name=_("Races"), value=races)
    embed.add_field(name=_("Vetoed maps"), value=vetoes)
    return embed


def leave_queue_button() -> nextcord.ui.View:
    """The Cancel button under the queue message; routed, so it works after a restart."""
    return frozen_view(
        nextcord.ui.Button(
            label=_("Cancel (leave the queue)"),
            style=nextcord.ButtonStyle.red,
            custom_id=custom_id("queue", "leave"),
        )
    )
