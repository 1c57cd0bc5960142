"""What admins and players are shown of player-typed text: escaped, per player, paged."""

from __future__ import annotations

import pytest

from cogs.admin_ui import (
    EMBED_DESCRIPTION,
    EMBED_TOTAL,
    EVIDENCE_SHOWN,
    describe_dispute,
    dispute_notice_embed,
    disputes_page,
    paginate,
    parse_page,
    players_of,
)
from cogs.embeds import profile_draft_embed, profile_embed
from cogs.match_ui import match_embed
from ladder.config import LadderConfig
from ladder.errors import ValidationError
from ladder.players import Player, ProfileDraft
from ladder.rating import Result
from ladder.records import EvidenceRecord
from ladder.reports import MatchStatus

from .admin_records import NAMES, P1, P2, T0, dispute, evidence, match

FORGED = (
    "I won, here is the replay.\n**Opponent:** I admit I lost\n"
    "[https://youtube.com/watch?v=real](https://evil.example/steal) @everyone <@&1>"
)


def embed_size(embed) -> int:
    data = embed.to_dict()
    size = len(data.get("title", "")) + len(data.get("description", ""))
    size += len(data.get("footer", {}).get("text", ""))
    return size + sum(len(f["name"]) + len(f["value"]) for f in data.get("fields", []))


def test_a_forged_note_and_a_masked_link_are_shown_literally() -> None:
    items = [EvidenceRecord(1, P1, FORGED, "https://replays.example/a_b.rep", T0)]
    text = describe_dispute(dispute(items=items), NAMES)
    lines = text.splitlines()
    # Head, then P1's header and his one note, then P2's header: the note made no new line.
    assert len(lines) == 4, text
    assert "**Opponent:**" not in text and r"\*\*Opponent:\*\*" in lines[2]
    assert "](" not in text.replace(r"\]\(", "")  # no masked link survives
    assert r"\[https\://youtube.com/watch?v=real\]\(https\://evil.example/steal\)" in lines[2]
    assert "`https://replays.example/a_b.rep`" in lines[2]  # the real target, as code
    assert "@everyone" not in text and "<@&1>" not in text
    # Names are escaped too: no italics, no bold, no line of their own.
    assert r"\_Erin\_" in lines[0] and r"\*\*Bob\*\* \*\*Opponent:\*\* x" in lines[0]


def test_both_players_evidence_is_shown_however_much_one_of_them_sent() -> None:
    spam = evidence(P1, 10, "x" * 1000, "https://spam.example/" + "a" * 480)
    answer = evidence(P2, 1, "my side of the story", "https://replays.example/b.rep")
    text = describe_dispute(dispute(items=[*spam, answer[0]]), NAMES)
    assert "my side of the story" in text and "`https://replays.example/b.rep`" in text
    assert f"(<@{P1}>): 10 pieces of evidence" in text
    assert f"+{10 - EVIDENCE_SHOWN} more" in text
    assert text.count("xxxxx…") == EVIDENCE_SHOWN  # each shown note cut, the rest counted
    assert len(text) < 2000


def test_a_player_without_evidence_is_listed_as_such() -> None:
    text = describe_dispute(dispute(items=evidence(P2, 1)), NAMES)
    assert f"(<@{P1}>): no evidence" in text and f"(<@{P2}>): 1 piece of evidence" in text


async def test_the_listing_pages_instead_of_cutting() -> None:  # views need a loop
    heavy = [
        dispute(
            n,
            [
                *evidence(P1, 10, "x" * 1000, "https://a.example/" + "a" * 480),
                *evidence(P2, 10, "y" * 1000, "https://b.example/" + "b" * 480),
            ],
        )
        for n in range(1, 13)
    ]
    first = disputes_page(heavy, NAMES, 1)
    assert first.pages > 1 and first.page == 1
    seen = []
    for page in range(1, first.pages + 1):
        shown = disputes_page(heavy, NAMES, page)
        data = shown.embed.to_dict()
        assert len(data["description"]) <= EMBED_DESCRIPTION
        assert embed_size(shown.embed) <= EMBED_TOTAL
        assert data["title"] == "Open disputes (12)"
        assert data["footer"]["text"].startswith(f"Page {page} of {first.pages}")
        seen += [n for n in range(1, 13) if f"Match #{n}**" in data["description"]]
    assert seen == list(range(1, 13))  # every dispute once, oldest first

    # Clamped: a page past the end (disputes were resolved meanwhile) shows the last one.
    assert disputes_page(heavy, NAMES, 99).page == first.pages
    assert disputes_page(heavy, NAMES, 0).page == 1


async def test_page_buttons_route_by_page_number() -> None:  # views need a loop
    many = [dispute(n, evidence(P1, 2, "z" * 900)) for n in range(1, 21)]
    first = disputes_page(many, NAMES, 1)
    ids = [(c.label, c.custom_id, c.disabled) for c in first.view.children]
    assert ids == [
        ("Previous", "disputes:page:1", True),
        (f"Page 1 of {first.pages}", "disputes:page:1:current", True),
        ("Next", "disputes:page:2", False),
    ]
    last = disputes_page(many, NAMES, first.pages)
    previous, _, following = last.view.children
    assert previous.custom_id == f"disputes:page:{first.pages - 1}" and not previous.disabled
    assert following.disabled
    assert disputes_page([dispute()], NAMES).view is None  # one page: no buttons
    empty = disputes_page([], NAMES)
    assert empty.view is None and empty.embed.description == "No open disputes."


def test_parse_page() -> None:
    assert parse_page(["page", "3"]) == 3
    for bad in ([], ["page"], ["page", "-1"], ["page", "²"], ["page", "9999999"], ["x", "1"]):
        with pytest.raises(ValidationError):
            parse_page(bad)


def test_paginate_keeps_blocks_whole_and_in_order() -> None:
    blocks = [str(n) * 1500 for n in range(6)]
    pages = paginate(blocks, limit=4096)
    assert pages == [blocks[0:2], blocks[2:4], blocks[4:6]]
    assert paginate([]) == [[]]


def test_players_of_lists_each_name_once() -> None:
    assert players_of([dispute(1), dispute(2, evidence(P2, 2))]) == [P1, P2]


def test_the_dispute_notice_escapes_names() -> None:
    embed = dispute_notice_embed(match(4), NAMES).to_dict()
    assert embed["title"] == "Dispute on match #4"
    description = embed["description"]
    assert rf"**\_Erin\_** (<@{P1}>) reported **win**" in description
    assert "\n**Opponent:**" not in description and description.count("\n") == 1
    assert "`/admin resolve match_id:4`" in description
    unnamed = dispute_notice_embed(match(5), {P1: "\u202e\n", P2: "Bob"}).to_dict()
    assert f"**player {P1}** (<@{P1}>)" in unnamed["description"]


def test_match_embeds_escape_names() -> None:
    config = LadderConfig(map_pool=("Eclipse",))
    finished = match(status=MatchStatus.FINISHED, result=Result.P1_WIN, mmr_change=20)
    embed = match_embed(finished, P1, NAMES, config).to_dict()
    names = [f["name"] for f in embed["fields"][:2]]
    assert names == [r"\_Erin\_ (you)", r"\*\*Bob\*\* \*\*Opponent:\*\* x"]
    (result,) = [f["value"] for f in embed["fields"] if f["name"] == "Result"]
    assert result.startswith(r"\_Erin\_ won")
    blank = match_embed(finished, P1, {P1: "\n\u2066", P2: ""}, config).to_dict()
    assert [f["name"] for f in blank["fields"][:2]] == ["Player 1 (you)", "Player 2"]


def test_profile_embeds_escape_names_battletags_and_alt_names() -> None:
    player = Player(
        P1, "discord_name", player_name="_Erin_", battletag="Erin#1234",
        alt_name_1="~~alt~~", alt_name_2="<@123>",
    )  # fmt: skip
    embed = profile_embed(player, {}).to_dict()
    assert embed["title"] == r"Profile: \_Erin\_"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Alt names"] == "\\~\\~alt\\~\\~, \\<@\u200b123\\>"
    draft = ProfileDraft("**Big**", "Big#1234", ("|spoiler|",), "FR", "eu")
    fields = {f["name"]: f["value"] for f in profile_draft_embed(draft, {}).to_dict()["fields"]}
    assert fields["Player name"] == r"\*\*Big\*\*" and fields["Alt names"] == r"\|spoiler\|"
