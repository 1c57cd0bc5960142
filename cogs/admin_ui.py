"""How admin tools look: the paged list of open disputes and the notice of a new dispute.

Pure functions from read models to embeds and routed buttons; no I/O. Everything a player
typed (names, notes, links) goes through `cogs.text`, so a note cannot forge a line, hide a
link's target or ping anyone. Evidence is grouped per player and capped per player, so one
player's ten long notes cannot push the other player's evidence out of sight; a listing too long
for one embed is split into pages instead of being cut.

Everything is written in the current language (i18n): an admin's own command answers in his,
and whoever sends a notice to admins who did not ask renders it once per admin inside
``with speaking(await pipeline.language_of(admin_uid)):``. Rulings, results and codes an admin
types or reads in the admin log (``p1_win``, ``adjust_mmr``) stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import nextcord

from cogs.components import custom_id, frozen_view
from cogs.responses import ERROR_COLOUR, INFO_COLOUR
from cogs.text import link, plain
from i18n import N_, _, n_, p_
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
# Replays listed per dispute: the verified ones first (they can rule), newest first; the rest are
# counted ("+N more"). A player can upload many replays that fail verification: each is a row.
REPLAYS_SHOWN = 3
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
    return plain(names.get(uid), NAME_SHOWN) or _("player {uid}", uid=uid)


def _who(uid: int, names: Mapping[int, str]) -> str:
    # The mention is ours (a number), so it cannot be forged; the name says who it is in a DM,
    # where a mention of someone the admin shares no server with shows as "@unknown-user".
    return f"**{player_name(uid, names)}** (<@{uid}>)"


def report_word(outcome: object) -> str:
    """A player's report ("win", "loss", "draw") in the current language; "—" for none."""
    match None if outcome is None else str(outcome):
        case None:
            return "—"
        case "win":
            # Translators: what a player reported about his own match (also "loss", "draw").
            return p_("report", "win")
        case "loss":
            return p_("report", "loss")
        case "draw":
            return p_("report", "draw")
        case other:
            return other


def _evidence_item(item: EvidenceRecord) -> str:
    parts = [plain(item.note, NOTE_SHOWN), link(item.url, LINK_SHOWN)]
    return "· " + (" ".join(p for p in parts if p) or _("(empty)"))


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
        who = _who(uid, names)
        if not mine:
            lines.append(_("{player}: no evidence", player=who))
            continue
        lines.append(
            n_(
                "{player}: {count} piece of evidence",
                "{player}: {count} pieces of evidence",
                len(mine),
                player=who,
            )
        )
        lines += [_evidence_item(item) for item in mine[:EVIDENCE_SHOWN]]
        if len(mine) > EVIDENCE_SHOWN:
            hidden = len(mine) - EVIDENCE_SHOWN
            # Translators: more pieces of evidence, not shown.
            lines.append("· " + n_("+{count} more", "+{count} more", hidden))
    return lines


def describe_dispute(
    dispute: DisputeRecord, names: Mapping[int, str], replays: Sequence[ReplayRecord] = ()
) -> str:
    """One open dispute: the match, both reports, each player's evidence, then its replays with
    what each proves (player text quoted, see `ladder.replays.describe`)."""
    match = dispute.match
    values = {
        "match": dispute.match_id,
        "report1": report_word(dispute.player1_report),
        "report2": report_word(dispute.player2_report),
        "opened": f"<t:{int(dispute.opened_at.timestamp())}:R>",  # in the reader's own clock
    }
    if match is not None:
        head = _(
            "__**Match #{match}**__ {player1} vs {player2} — reports {report1} / {report2}, "
            "opened {opened}",
            player1=_who(match.player1_uid, names),
            player2=_who(match.player2_uid, names),
            **values,
        )
    else:
        head = _(
            "__**Match #{match}**__ — reports {report1} / {report2}, opened {opened}", **values
        )
    listed = listed_replays(replays)
    shown = ["· " + _replay_line(r, names) for r in listed]
    if hidden := len(replays) - len(listed):
        # Translators: more pieces of evidence, not shown.
        shown.append("· " + n_("+{count} more", "+{count} more", hidden))
    return "\n".join([head, *evidence_lines(dispute, names), *shown])


def listed_replays(replays: Sequence[ReplayRecord]) -> list[ReplayRecord]:
    """The replays a dispute lists: verified ones first, newest first, at most REPLAYS_SHOWN."""
    return sorted(replays, key=lambda r: (not r.verified, -r.id))[:REPLAYS_SHOWN]


def _replay_line(replay: ReplayRecord, names: Mapping[int, str]) -> str:
    # `proves` is the replay's own one-line account; `result` a ruling code, as admins type it.
    values = {
        "replay": replay.id,
        "player": player_name(replay.uploader, names),
        "facts": str(replay.proves()),
    }
    if replay.result:
        # Translators: {result} is a ruling code (p1_win, p2_win, draw), kept as it is.
        return _(
            "replay #{replay} from {player}: {facts}, proves **{result}**",
            result=replay.result,
            **values,
        )
    return _("replay #{replay} from {player}: {facts}", **values)


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
            label=_("Previous"),
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(PAGE_ROUTE, "page", previous),
            disabled=page <= 1,
        ),
        nextcord.ui.Button(
            label=_("Page {page} of {pages}", page=page, pages=pages),
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(PAGE_ROUTE, "page", page, "current"),
            disabled=True,
        ),
        nextcord.ui.Button(
            label=_("Next"),
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
        for r in listed_replays(replays.get(d.match_id, ()))
        if r.verified
    ][:RULE_BUTTONS]
    description = "\n\n".join(pages[page - 1]) or _("No open disputes.")
    embed = nextcord.Embed(
        title=_("Open disputes ({count})", count=len(disputes)),
        description=description,
        colour=INFO_COLOUR,
    )
    if len(pages) > 1:
        embed.set_footer(
            text=_("Page {page} of {pages} · oldest first", page=page, pages=len(pages))
        )
    view = page_buttons(page, len(pages))
    if rule:
        view = frozen_view(*(view.children if view else []), *rule)
    return DisputesPage(embed, view, page, len(pages))


def rule_button(replay: ReplayRecord) -> nextcord.ui.Button[nextcord.ui.View]:
    """An admin's "Rule by replay" button, routed to cogs/replays.py ("replay:rule:<id>")."""
    return nextcord.ui.Button(
        label=_(
            "Rule by replay #{replay} (match #{match})", replay=replay.id, match=replay.match_id
        ),
        style=nextcord.ButtonStyle.green,
        custom_id=custom_id("replay", "rule", replay.id),
    )


def parse_page(parts: Sequence[str]) -> int:
    """The page number of a routed button's custom_id parts (["page", "2"])."""
    if len(parts) < 2 or parts[0] != "page" or not _PAGE_NUMBER.fullmatch(parts[1]):
        raise ValidationError("custom_id", N_("This button is not recognised any more."))
    return int(parts[1])


def players_of(disputes: Iterable[DisputeRecord]) -> list[int]:
    """Every uid whose name the listing shows, once each, in order."""
    seen: dict[int, None] = {}
    for dispute in disputes:
        for uid in _sides(dispute):
            seen.setdefault(uid, None)
    return list(seen)


def dispute_notice_embed(match: MatchRecord, names: Mapping[int, str]) -> nextcord.Embed:
    """What admins are told when a match becomes disputed (player names escaped), in the current
    language: build it once per admin inside ``speaking(await pipeline.language_of(admin))``."""
    # Translators: {report1} and {report2} are "win", "loss" or "draw" (context "report").
    description = _(
        "{player1} reported **{report1}**, {player2} reported **{report2}**.\n"
        "Rule with `/admin resolve match_id:{match}`; see `/admin disputes`.",
        player1=_who(match.player1_uid, names),
        report1=report_word(match.player1_report),
        player2=_who(match.player2_uid, names),
        report2=report_word(match.player2_report),
        match=match.id,
    )
    return nextcord.Embed(
        title=_("Dispute on match #{match}", match=match.id),
        description=description,
        colour=ERROR_COLOUR,
    )
