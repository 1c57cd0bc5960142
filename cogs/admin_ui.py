"""How admin tools look: the paged list of open disputes and the notice of a new dispute.

Pure functions from read models to embeds and routed buttons; no I/O. Everything a player
typed (names, notes, links) goes through `cogs.text`, so a note cannot forge a line, hide a
link's target or ping anyone. Evidence is grouped per player and capped per player, so one
player's ten long notes cannot push the other player's evidence out of sight; a listing too long
for one embed is split into pages instead of being cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import nextcord

from cogs.components import custom_id, frozen_view
from cogs.responses import ERROR_COLOUR, INFO_COLOUR
from cogs.text import link, plain
from ladder.errors import ValidationError
from ladder.records import DisputeRecord, EvidenceRecord, MatchRecord
from ladder.replays import ReplayRecord

# Discord's embed limits: a description, and everything in one embed together.
EMBED_DESCRIPTION = 4096
EMBED_TOTAL = 6000

NAME_SHOWN = 32  # characters of a player name
NOTE_SHOWN = 150  # characters of one evidence note, escapes included
LINK_SHOWN = 120  # characters of one evidence link, backticks included
EVIDENCE_SHOWN = 2  # pieces of evidence shown per player per dispute; the rest are counted
DISPUTES_PER_PAGE = 5  # at most; fewer when they are long
REPLAYS_SHOWN = 3  # replays listed per dispute (the newest uploads are the likeliest; see /replay)
RULE_BUTTONS = 15  # "Rule by replay" buttons per page: three rows under the page buttons

PAGE_ROUTE = "disputes"  # the ComponentRouter prefix of the page buttons
_PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class DisputesPage:
    """One page of the listing: what to show and the buttons to reach the others."""

    embed: nextcord.Embed
    view: nextcord.ui.View | None
    page: int  # 1-based, after clamping to the pages that exist
    pages: int


def player_name(uid: int, names: Mapping[int, str]) -> str:
    """The player's name made safe, or "player <uid>" when there is nothing printable."""
    return plain(names.get(uid), NAME_SHOWN) or f"player {uid}"


def _who(uid: int, names: Mapping[int, str]) -> str:
    # The mention is ours (a number), so it cannot be forged; the name says who it is in a DM,
    # where a mention of someone the admin shares no server with shows as "@unknown-user".
    return f"**{player_name(uid, names)}** (<@{uid}>)"


def _evidence_item(item: EvidenceRecord) -> str:
    parts = [plain(item.note, NOTE_SHOWN), link(item.url, LINK_SHOWN)]
    return "· " + (" ".join(p for p in parts if p) or "(empty)")


def _sides(dispute: DisputeRecord) -> list[int]:
    """Both players of the match first (even without evidence), then anyone else who added some."""
    match = dispute.match
    order = list(match.players) if match is not None else []
    for item in dispute.evidence:
        if item.uid not in order:
            order.append(item.uid)
    return order


def evidence_lines(dispute: DisputeRecord, names: Mapping[int, str]) -> list[str]:
    """Each player's evidence under his own name: the first few pieces, then a count of the rest."""
    lines = []
    for uid in _sides(dispute):
        mine = [item for item in dispute.evidence if item.uid == uid]
        if not mine:
            lines.append(f"{_who(uid, names)}: no evidence")
            continue
        lines.append(f"{_who(uid, names)}: {len(mine)} piece(s) of evidence")
        lines += [_evidence_item(item) for item in mine[:EVIDENCE_SHOWN]]
        if len(mine) > EVIDENCE_SHOWN:
            lines.append(f"· +{len(mine) - EVIDENCE_SHOWN} more")
    return lines


def describe_dispute(
    dispute: DisputeRecord, names: Mapping[int, str], replays: Sequence[ReplayRecord] = ()
) -> str:
    """One open dispute: the match, both reports, each player's evidence, then its replays with
    what each proves (player text quoted, see `ladder.replays.describe`)."""
    match = dispute.match
    who = f" {_who(match.player1_uid, names)} vs {_who(match.player2_uid, names)}" if match else ""
    head = (
        f"__**Match #{dispute.match_id}**__{who} — reports {dispute.player1_report} / "
        f"{dispute.player2_report}, opened <t:{int(dispute.opened_at.timestamp())}:R>"
    )
    shown = [
        f"· replay #{r.id} from {player_name(r.uploader, names)}: {r.proves()}"
        + (f", proves **{r.result}**" if r.result else "")
        for r in replays[:REPLAYS_SHOWN]
    ]
    return "\n".join([head, *evidence_lines(dispute, names), *shown])


def paginate(blocks: Sequence[str], limit: int = EMBED_DESCRIPTION) -> list[list[str]]:
    """Pack whole blocks, in order, into pages whose joined text fits `limit`."""
    pages: list[list[str]] = []
    size = 0
    for block in blocks:
        block = block if len(block) <= limit else block[: limit - 1] + "…"  # cannot happen: capped
        added = len(block) + (2 if pages and pages[-1] else 0)
        if not pages or size + added > limit or len(pages[-1]) >= DISPUTES_PER_PAGE:
            pages.append([block])
            size = len(block)
        else:
            pages[-1].append(block)
            size += added
    return pages or [[]]


def page_buttons(page: int, pages: int) -> nextcord.ui.View | None:
    """Previous / Next, routed by custom_id ("disputes:page:2"); None for a single page."""
    if pages <= 1:
        return None
    previous, following = max(page - 1, 1), min(page + 1, pages)
    return frozen_view(
        nextcord.ui.Button(
            label="Previous",
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(PAGE_ROUTE, "page", previous),
            disabled=page <= 1,
        ),
        nextcord.ui.Button(
            label=f"Page {page} of {pages}",
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(PAGE_ROUTE, "page", page, "current"),
            disabled=True,
        ),
        nextcord.ui.Button(
            label="Next",
            style=nextcord.ButtonStyle.blurple,
            custom_id=custom_id(PAGE_ROUTE, "page", following),
            disabled=page >= pages,
        ),
    )


def disputes_page(
    disputes: Sequence[DisputeRecord],
    names: Mapping[int, str],
    page: int = 1,
    replays: Mapping[int, Sequence[ReplayRecord]] | None = None,
) -> DisputesPage:
    """Page `page` (1-based, clamped) of the open disputes, with its buttons; `replays` by
    match id add their lines and, for verified ones, a "Rule by replay" button."""
    replays = replays or {}
    pages = paginate([describe_dispute(d, names, replays.get(d.match_id, ())) for d in disputes])
    page = min(max(page, 1), len(pages))
    first = sum(len(p) for p in pages[: page - 1])
    on_page = disputes[first : first + len(pages[page - 1])]
    rule = [
        rule_button(r)
        for d in on_page
        for r in replays.get(d.match_id, ())[:REPLAYS_SHOWN]
        if r.verified
    ][:RULE_BUTTONS]
    description = "\n\n".join(pages[page - 1]) or "No open disputes."
    embed = nextcord.Embed(
        title=f"Open disputes ({len(disputes)})", description=description, colour=INFO_COLOUR
    )
    if len(pages) > 1:
        embed.set_footer(text=f"Page {page} of {len(pages)} · oldest first")
    view = page_buttons(page, len(pages))
    if rule:
        view = frozen_view(*(view.children if view else []), *rule)
    return DisputesPage(embed, view, page, len(pages))


def rule_button(replay: ReplayRecord) -> nextcord.ui.Button[nextcord.ui.View]:
    """An admin's "Rule by replay" button, routed to cogs/replays.py ("replay:rule:<id>")."""
    return nextcord.ui.Button(
        label=f"Rule by replay #{replay.id} (match #{replay.match_id})",
        style=nextcord.ButtonStyle.green,
        custom_id=custom_id("replay", "rule", replay.id),
    )


def parse_page(parts: Sequence[str]) -> int:
    """The page number of a routed button's custom_id parts (["page", "2"])."""
    if len(parts) < 2 or parts[0] != "page" or not _PAGE_NUMBER.fullmatch(parts[1]):
        raise ValidationError("custom_id", "This button is not recognised any more.")
    return int(parts[1])


def players_of(disputes: Iterable[DisputeRecord]) -> list[int]:
    """Every uid whose name the listing shows, once each, in order."""
    seen: dict[int, None] = {}
    for dispute in disputes:
        for uid in _sides(dispute):
            seen.setdefault(uid, None)
    return list(seen)


def dispute_notice_embed(match: MatchRecord, names: Mapping[int, str]) -> nextcord.Embed:
    """What admins are told when a match becomes disputed (player names escaped)."""
    p1, p2 = match.player1_uid, match.player2_uid
    return nextcord.Embed(
        title=f"Dispute on match #{match.id}",
        description=(
            f"{_who(p1, names)} reported **{match.player1_report}**, "
            f"{_who(p2, names)} reported **{match.player2_report}**.\n"
            f"Rule with `/admin resolve match_id:{match.id}`; see `/admin disputes`."
        ),
        colour=ERROR_COLOUR,
    )
