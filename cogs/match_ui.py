"""How a match and a queue place look to a player: embeds and routed buttons, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import nextcord

from cogs.components import custom_id, frozen_view
from cogs.responses import ERROR_COLOUR, INFO_COLOUR, SUCCESS_COLOUR
from cogs.text import plain
from cogs.web_links import match_link
from ladder.config import LadderConfig
from ladder.records import MatchRecord, QueueStatus

STATUS_TEXT = {
    "awaiting_confirmation": "Match found — confirm before the deadline",
    "in_progress": "Match on — play, then report the result",
    "finished": "Match finished",
    "disputed": "Disputed — an admin will rule",
    "cancelled": "Cancelled — not confirmed in time",
    "aborted": "Aborted",
    "invalidated": "Invalidated — no rating change",
}
RESULT_TEXT = {"p1_win": "{p1} won", "p2_win": "{p2} won", "draw": "Draw"}
NAME_SHOWN = 64  # characters of a player's name, escapes included (a field name takes 256)


def ts(moment: datetime | None, style: str = "R") -> str:
    """A Discord timestamp that every client renders in its own time zone, updating live."""
    return f"<t:{int(moment.timestamp())}:{style}>" if moment else "—"


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
        title=f"Match #{match.id}: {STATUS_TEXT.get(status, status)}",
        colour=colour,
        url=match_link(web_base_url, match.id),
    )
    for side in (1, 2):
        uid = getattr(match, f"player{side}_uid")
        race = config.race(getattr(match, f"player{side}_race")).name
        you = " (you)" if uid == viewer else ""
        embed.add_field(
            name=f"{shown_name(names, uid, f'Player {side}')}{you}",
            value=f"{race} · {getattr(match, f'player{side}_mmr')} MMR",
        )
    embed.add_field(name="Map", value=match.map, inline=False)
    if status == "awaiting_confirmation":
        embed.add_field(name="Confirm", value=f"before {ts(match.confirm_deadline)}")
    elif status == "in_progress":
        embed.add_field(name="Report", value=f"by {ts(match.report_deadline)}")
        embed.add_field(
            name="Replay",
            value="Upload it here with `/replay file:` (the .SC2Replay): it is checked "
            "against this match and can report the result for you.",
            inline=False,
        )
    if match.result:
        text = RESULT_TEXT[str(match.result)].format(
            p1=shown_name(names, match.player1_uid, "Player 1"),
            p2=shown_name(names, match.player2_uid, "Player 2"),
        )
        change = match.mmr_change_of(viewer) if viewer in match.players else None
        mmr = f" · your MMR {change:+d}" if change is not None else ""
        embed.add_field(name="Result", value=f"{text}{mmr}", inline=False)
    if status == "disputed":
        embed.description = (
            "You and your opponent reported different results. An admin has been told and "
            "will rule. Add evidence (a note and a replay or screenshot link) below."
        )
    return embed


def match_buttons(match: MatchRecord, viewer: int, aborts_left: int) -> nextcord.ui.View | None:
    """The buttons that fit the match's state for `viewer`; None when there is nothing to do."""
    status = str(match.status)
    items: list[nextcord.ui.Item] = []
    abort: nextcord.ui.Button[nextcord.ui.View] = nextcord.ui.Button(
        label=f"Abort ({aborts_left} left this month)",
        style=nextcord.ButtonStyle.red,
        custom_id=custom_id("match", match.id, "abort"),
        disabled=aborts_left <= 0,
    )
    if status == "awaiting_confirmation":
        confirmed = match.confirmed_by(viewer)
        items.append(
            nextcord.ui.Button(
                label="Confirmed — waiting for opponent" if confirmed else "Confirm",
                style=nextcord.ButtonStyle.green,
                custom_id=custom_id("match", match.id, "confirm"),
                disabled=confirmed,
            )
        )
        items.append(abort)
    elif status == "in_progress":
        mine = match.report_of(viewer)
        for outcome, label, style in (
            ("win", "I won", nextcord.ButtonStyle.green),
            ("loss", "I lost", nextcord.ButtonStyle.red),
            ("draw", "Draw", nextcord.ButtonStyle.grey),
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
                label="Add evidence",
                style=nextcord.ButtonStyle.blurple,
                custom_id=custom_id("match", match.id, "evidence"),
            )
        )
    return frozen_view(*items) if items else None


def queue_embed(status: QueueStatus, config: LadderConfig) -> nextcord.Embed:
    """The queue message: races, vetoes, and the time waited (rendered live by Discord)."""
    races = ", ".join(config.race(code).name for code in status.races)
    vetoes = ", ".join(status.vetoes) or "none"
    embed = nextcord.Embed(title="You are in the queue", colour=INFO_COLOUR)
    embed.description = (
        f"Waiting since {ts(status.joined_at)}. You will get a message when a match is found."
    )
    embed.add_field(name="Races", value=races)
    embed.add_field(name="Vetoed maps", value=vetoes)
    return embed


def leave_queue_button() -> nextcord.ui.View:
    """The Cancel button under the queue message; routed, so it works after a restart."""
    return frozen_view(
        nextcord.ui.Button(
            label="Cancel (leave the queue)",
            style=nextcord.ButtonStyle.red,
            custom_id=custom_id("queue", "leave"),
        )
    )
