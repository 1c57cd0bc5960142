"""The admins' dispute listing with replays: what each proves, inert player text, and a
"Rule by replay" button for each verified one on the page."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cogs.admin_ui import disputes_page
from cogs.match_ui import match_embed
from ladder.config import LadderConfig
from ladder.rating import Result
from ladder.records import DisputeRecord, MatchRecord
from ladder.replays import Refusal, ReplayEffect, ReplayFacts, ReplayPlayer, ReplayRecord
from ladder.reports import MatchStatus, Outcome

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
P1, P2 = 111111111111111111, 222222222222222222
NAMES = {P1: "_Erin_", P2: "**Bob**"}


def match(match_id: int) -> MatchRecord:
    return MatchRecord(
        id=match_id,
        status=MatchStatus.DISPUTED,
        player1_uid=P1,
        player1_race="sc2_terran",
        player1_mmr=1500,
        player2_uid=P2,
        player2_race="sc2_zerg",
        player2_mmr=1500,
        map="Eclipse",
        created_at=T0,
        confirm_deadline=T0 + timedelta(minutes=5),
        player1_report=Outcome.WIN,
        player2_report=Outcome.WIN,
    )


def dispute(match_id: int) -> DisputeRecord:
    return DisputeRecord(
        id=match_id,
        match_id=match_id,
        status="open",
        player1_report=Outcome.WIN,
        player2_report=Outcome.WIN,
        opened_at=T0,
        evidence=(),
        match=match(match_id),
    )


FACTS = ReplayFacts(
    release="5.0.0.80949",
    map_name="Ever Dream LE",
    game_type="1v1",
    start_time=T0,
    length_seconds=1111,
    players=(
        ReplayPlayer("JiaanN", "Terran", "Loss", True, 1),
        ReplayPlayer("Rair`den**@everyone", "Zerg", "Win", True, 2),
    ),
)


def record(replay_id: int, match_id: int, refusal: Refusal | None = None) -> ReplayRecord:
    return ReplayRecord(
        id=replay_id,
        match_id=match_id,
        uploader=P2,
        sha256=f"{replay_id:064x}",
        size=1000,
        facts=FACTS,
        refusal=refusal,
        result=None if refusal else Result.P2_WIN,
        effect=ReplayEffect.EVIDENCE,
        uploaded_at=T0,
    )


def buttons(view) -> list[tuple[str, str]]:
    return [(b.custom_id, b.label) for b in view.children] if view else []


async def test_each_replay_is_listed_with_what_it_proves() -> None:
    shown = disputes_page(
        [dispute(1)], NAMES, replays={1: [record(7, 1), record(8, 1, Refusal.NAMES)]}
    )
    text = shown.embed.description or ""
    assert "replay #7" in text and "verified, proves **p2_win**" in text
    assert "replay #8" in text and "not verified: the names are not the two players'" in text
    # A hostile in-game name stays inert: inside inline code, its backtick replaced.
    assert "`Rairˋden**@everyone`" in text
    assert "`Ever Dream LE`" in text


async def test_a_verified_replay_gets_a_rule_button_and_a_refused_one_does_not() -> None:
    shown = disputes_page(
        [dispute(1)], NAMES, replays={1: [record(7, 1), record(8, 1, Refusal.MAP)]}
    )
    assert buttons(shown.view) == [("replay:rule:7", "Rule by replay #7 (match #1)")]


async def test_rule_buttons_only_for_the_disputes_on_the_page() -> None:
    disputes = [dispute(i) for i in range(1, 8)]  # more than one page
    replays = {i: [record(100 + i, i)] for i in range(1, 8)}
    first = disputes_page(disputes, NAMES, 1, replays)
    second = disputes_page(disputes, NAMES, 2, replays)
    ids = lambda view: {c for c, _ in buttons(view) if c.startswith("replay:")}  # noqa: E731
    assert ids(first.view) == {f"replay:rule:{100 + i}" for i in range(1, 6)}
    assert ids(second.view) == {"replay:rule:106", "replay:rule:107"}
    assert any(c.startswith("disputes:page:") for c, _ in buttons(second.view))


def test_without_replays_the_listing_is_as_before() -> None:
    assert disputes_page([dispute(1)], NAMES).view is None


def test_the_match_message_says_how_to_upload_while_in_progress() -> None:
    config = LadderConfig(map_pool=("Eclipse", "Polypoid"), max_vetoes=1)
    on = match_embed(
        replace(match(1), status=MatchStatus.IN_PROGRESS, report_deadline=T0), P1, NAMES, config
    )
    assert any("/replay file:" in f.value for f in on.fields)
    done = match_embed(replace(match(1), status=MatchStatus.CANCELLED), P2, NAMES, config)
    assert not any("/replay" in (f.value or "") for f in done.fields)
