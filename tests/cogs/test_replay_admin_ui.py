"""The admins' dispute listing with replays: what each proves, inert player text, and a
"Rule by replay" button for each verified one on the page; and what /replay tells the uploader,
the opponent and the admins, each in their own language."""

from __future__ import annotations

from dataclasses import replace

import nextcord

from cogs.admin_ui import disputes_page
from cogs.match_ui import match_embed
from cogs.replays import ReplayCog, contradiction_embed, decided_embed, upload_embed
from i18n import lazy, speaking
from ladder.config import LadderConfig
from ladder.rating import Result
from ladder.records import DisputeRecord, MatchRecord
from ladder.replays import (
    Refusal,
    ReplayEffect,
    ReplayFacts,
    ReplayMode,
    ReplayPlayer,
    ReplayRecord,
    Verdict,
)
from ladder.reports import MatchStatus
from services.replays import ReplayUpload
from tests.support.pseudo import MARK

from . import admin_records as records
from .admin_records import P1, P2, T0

NAMES = {P1: "_Erin_", P2: "**Bob**"}
SC2 = {"player1_race": "sc2_terran", "player2_race": "sc2_zerg"}


def match(match_id: int) -> MatchRecord:
    return records.match(match_id, **SC2)


def dispute(match_id: int) -> DisputeRecord:
    return records.dispute(match_id, **SC2)


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


async def test_many_refused_replays_do_not_hide_the_verified_one() -> None:
    """A player can upload replay after replay that fails verification: the listing shows the
    verified one first (with its button), the newest refused ones after it, and counts the rest."""
    refused = [record(i, 1, Refusal.NAMES) for i in range(11, 16)]  # newer than the verified
    shown = disputes_page([dispute(1)], NAMES, replays={1: [record(10, 1), *refused]})
    text = shown.embed.description or ""
    assert "replay #10" in text and "replay #15" in text and "replay #14" in text
    assert "replay #13" not in text and "+3 more" in text
    assert buttons(shown.view) == [("replay:rule:10", "Rule by replay #10 (match #1)")]


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


# --- /replay's own messages (cogs/replays.py), in each reader's language ----------------------

UPLOAD = ReplayUpload(
    replay=replace(record(7, 1), effect=ReplayEffect.REPORTED),
    verdict=Verdict(None, lazy("The replay matches the match."), Result.P2_WIN, 1),
    mode=ReplayMode.REPORT,
    match=match(1),
)
REFUSED = ReplayUpload(
    replay=record(8, 1, Refusal.MAP),
    verdict=Verdict(
        Refusal.MAP,
        lazy(
            "This replay was played on {played}, but match #{match} is on {map}.",
            played="`Ever Dream LE`",
            match=1,
            map="`Eclipse`",
        ),
    ),
    mode=ReplayMode.REPORT,
    match=match(1),
)




def test_the_uploader_reads_what_the_replay_did() -> None:
    shown = upload_embed(UPLOAD)
    assert shown.title == "Replay verified for match #1"
    assert (shown.description or "").endswith("\nIt counts as your report of the result.")
    assert "`Rairˋden**@everyone`" in (shown.description or "")
    assert shown.footer.text == "Replay #7 · mode report"
    refused = upload_embed(REFUSED)
    assert refused.title == "Replay not verified for match #1"
    assert (refused.description or "").startswith(
        "This replay was played on `Ever Dream LE`, but match #1 is on `Eclipse`.\n"
        "It is kept as evidence"
    )


def test_every_replay_text_goes_through_the_catalog(pseudo) -> None:
    with speaking("ko"):
        verified, refused = upload_embed(UPLOAD), upload_embed(REFUSED)
        decided = decided_embed(UPLOAD)
        flagged = contradiction_embed(UPLOAD, P2, None)
    for embed in (verified, refused, decided, flagged):
        assert MARK.match(embed.title or ""), embed.title
        assert MARK.match(embed.footer.text or "") or not embed.footer.text
    # The reason it did not verify, then what that means: each translated.
    reason, meaning = (refused.description or "").split("\n")
    assert MARK.match(reason) and MARK.match(meaning)
    effect = (verified.description or "").split("\n")[1]
    assert effect == "⟪It counts as your report of the result.⟫"
    assert MARK.match(decided.description or "") and MARK.match(flagged.description or "")
    assert f"⟪player {P2}⟫" in (flagged.description or "")  # no name known: their number


class Channel:
    """Where a message goes: it keeps what it was sent."""

    def __init__(self) -> None:
        self.sent: list[nextcord.Embed] = []

    async def send(self, *, embed: nextcord.Embed) -> None:
        self.sent.append(embed)


class Languages:
    def __init__(self, languages: dict[int, str]) -> None:
        self.languages = languages

    async def language_of(self, uid: int) -> str:
        return self.languages.get(uid, "en")


class Notifier:
    def __init__(self, admin_ids: tuple[int, ...], admin_channel_id: int | None) -> None:
        self.admin_ids, self.admin_channel_id = admin_ids, admin_channel_id

    async def names(self, *uids: int) -> dict[int, str]:
        return {uid: NAMES[uid] for uid in uids if uid in NAMES}

    async def match_changed(self, update: object) -> None:
        raise AssertionError("no match update in these uploads")


class Router:
    def register(self, *args: object, **kwargs: object) -> None:
        pass


class Bot:
    """What ReplayCog uses of the bot to tell the opponent and the admins."""

    def __init__(self, languages: dict[int, str], admins: tuple[int, ...], channel: int | None):
        self.router = Router()
        self.pipeline = Languages(languages)
        self.notifier = Notifier(admins, channel)
        self.dms: dict[int, Channel] = {}
        self.channel = Channel()

    async def create_dm(self, user: nextcord.Object) -> Channel:
        return self.dms.setdefault(user.id, Channel())

    def get_partial_messageable(self, channel_id: int) -> Channel:
        return self.channel


ADMIN_KO, ADMIN_EN = 333, 444


async def test_those_told_later_read_their_own_language(pseudo) -> None:
    """The uploader (P2) reads English; the opponent and one admin chose Korean."""
    bot = Bot({P1: "ko", ADMIN_KO: "ko"}, (ADMIN_KO, ADMIN_EN), None)
    cog = ReplayCog(bot)  # type: ignore[arg-type]  # a stand-in with what the cog uses
    upload = replace(
        UPLOAD, replay=replace(UPLOAD.replay, effect=ReplayEffect.DECIDED), flagged=True
    )
    with speaking("en"):  # the uploader's language, as the pipeline sets it
        await cog._tell_others(upload, P2)
    (to_opponent,) = bot.dms[P1].sent
    assert MARK.match(to_opponent.title or "")
    (to_korean_admin,) = bot.dms[ADMIN_KO].sent
    assert MARK.match(to_korean_admin.title or "")
    (to_english_admin,) = bot.dms[ADMIN_EN].sent
    assert to_english_admin.title == "Replay contradicts a report on match #1"


async def test_the_admin_channel_reads_english(pseudo) -> None:
    bot = Bot({P1: "ko", ADMIN_KO: "ko"}, (ADMIN_KO,), 999)
    cog = ReplayCog(bot)  # type: ignore[arg-type]
    with speaking("ko"):  # even when the uploader reads Korean
        await cog._tell_others(replace(UPLOAD, flagged=True), P2)
    (posted,) = bot.channel.sent
    assert posted.title == "Replay contradicts a report on match #1"
    assert "**\\*\\*Bob\\*\\***" in (posted.description or "")  # the uploader's name, inert
    assert not bot.dms  # nobody else: the replay only reported
