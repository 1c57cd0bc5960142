"""Uploading the shared replays for real matches: verification, the three modes, duplicates,
refusals that write nothing, and a dispute ruled by a replay with ratings recomputed."""

from __future__ import annotations

import os
import random
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cache.players import PlayerCache
from ladder.config import LadderConfig, ReplayConfig
from ladder.errors import ConflictError, ValidationError
from ladder.players import ProfileDraft
from ladder.rating import Result
from ladder.records import MatchRecord
from ladder.replays import Refusal, ReplayEffect, ReplayUnreadableError
from ladder.reports import Decision, MatchStatus
from services.admin import AdminService
from services.ladder_core import LadderCore
from services.matches import MatchService
from services.queue import QueueService
from services.replays import ReplayService
from storage.database import Database
from storage.players import PlayerRepository
from storage.replay_parser import ReplayParser
from storage.replays import ReplayFiles
from tests.services.conftest import Clock

REPLAYS = Path(__file__).resolve().parents[1] / "data" / "replays"  # real games, README there
EVER_DREAM = REPLAYS / "5.0.0.80949_EverDream_JiaanN_vs_Rairden.SC2Replay"  # Rairden (Zerg) won
ABYSSAL = REPLAYS / "3.16.0.55505_AbyssalReef_Rogue_vs_Stats.SC2Replay"  # Rogue (Zerg) won
VS_AI = REPLAYS / "4.3.0.64469_Backwater_Strider_vs_AI.SC2Replay"
COOP = REPLAYS / "4.11.0.77379_OblivionExpress_coop.SC2Replay"


JIAANN, RAIRDEN, ROGUE, STATS, STRIDER = 11, 12, 13, 14, 15
BATTLETAGS = {
    JIAANN: "JiaanN#1111",
    RAIRDEN: "Rairden#2222",
    ROGUE: "RogueTag#3333",  # plays as "Rogue": his alt name
    STATS: "Stats#4444",
    STRIDER: "Strider#5555",
}
ALTS = {ROGUE: ("Rogue",)}
MAPS = ("Ever Dream", "Abyssal Reef", "Backwater", "Oblivion Express")
EVER_DREAM_START = datetime(2020, 7, 29, 2, 55, 5, tzinfo=UTC)
ABYSSAL_START = datetime(2017, 7, 27, 5, 51, 17, tzinfo=UTC)
PARSER = ReplayParser(timeout=10)


@dataclass
class World:
    db: Database
    core: LadderCore
    queue: QueueService
    matches: MatchService
    admin: AdminService
    replays: ReplayService
    clock: Clock
    folder: Path

    def with_mode(self, mode: str) -> ReplayService:
        config = replace(self.replays.config, mode=mode)
        self.replays = ReplayService(
            self.core, self.admin, PARSER, ReplayFiles(self.folder), config
        )
        return self.replays

    async def match(self, a: int, b: int, race_a: str, race_b: str, map_name: str) -> MatchRecord:
        """Queue a then b with every map but `map_name` vetoed, run a wave, confirm both."""
        vetoes = [m for m in MAPS if m != map_name]
        await self.queue.join_queue(a, [race_a], vetoes)
        await self.queue.join_queue(b, [race_b], vetoes)
        (made,) = await self.queue.run_wave()
        await self.matches.confirm(made.id, a)
        return (await self.matches.confirm(made.id, b)).match

    async def rows(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in await self.db.fetchall(sql)]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = Clock(EVER_DREAM_START - timedelta(minutes=3))
    db = await Database.open(tmp_path / "ladder.db")
    players = PlayerRepository(db, PlayerCache())
    config = LadderConfig(map_pool=MAPS, max_vetoes=3)
    core = LadderCore(db, players, config, clock=clock)
    for uid, tag in BATTLETAGS.items():
        name = tag.split("#")[0].lower()
        await players.record_terms(uid, name, accepted=True)
        await players.save_profile(
            uid, name, ProfileDraft(name, tag, ALTS.get(uid, ()), "US", "NA")
        )
    admin = AdminService(core)
    folder = tmp_path / "replays"
    replays = ReplayService(core, admin, PARSER, ReplayFiles(folder), ReplayConfig())
    yield World(
        db, core, QueueService(core, rng=random.Random(3)), MatchService(core), admin, replays,
        clock, folder,
    )  # fmt: skip
    await db.close()


async def ever_dream_match(world: World) -> MatchRecord:
    world.clock.now = EVER_DREAM_START - timedelta(minutes=3)
    match = await world.match(JIAANN, RAIRDEN, "sc2_terran", "sc2_zerg", "Ever Dream")
    world.clock.now = EVER_DREAM_START + timedelta(minutes=20)
    return match


def winner_of(match: MatchRecord) -> int | None:
    if match.result is Result.P1_WIN:
        return match.player1_uid
    if match.result is Result.P2_WIN:
        return match.player2_uid
    return None


async def test_a_verified_replay_reports_for_the_uploader(world: World) -> None:
    match = await ever_dream_match(world)
    upload = await world.replays.upload(JIAANN, "game.SC2Replay", EVER_DREAM.read_bytes())
    assert upload.verdict.verified
    assert upload.replay.effect is ReplayEffect.REPORTED
    assert upload.match.id == match.id
    after = upload.match
    assert after.status is MatchStatus.IN_PROGRESS  # one report: the other player's awaited
    side = after.side_of(JIAANN)
    assert (after.player1_report if side == 1 else after.player2_report) == "loss"
    # The other player's agreeing report finishes it, Rairden the winner.
    done = await world.matches.report(match.id, RAIRDEN, "win")
    assert done.match.status is MatchStatus.FINISHED and winner_of(done.match) == RAIRDEN
    # The file is kept under its hash, private.
    path = world.folder / f"{upload.replay.sha256}.SC2Replay"
    assert path.read_bytes() == EVER_DREAM.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(world.folder).st_mode) == 0o700


async def test_in_evidence_mode_a_verified_replay_changes_nothing(world: World) -> None:
    match = await ever_dream_match(world)
    world.with_mode("evidence")
    upload = await world.replays.upload(RAIRDEN, "g.sc2replay", EVER_DREAM.read_bytes())
    assert upload.verdict.verified and upload.replay.effect is ReplayEffect.EVIDENCE
    assert upload.match.player1_report is None and upload.match.player2_report is None
    assert [r.id for r in await world.replays.of_match(match.id)] == [upload.replay.id]


async def test_in_decides_mode_a_replay_finishes_the_match_overriding_reports(
    world: World,
) -> None:
    match = await ever_dream_match(world)
    await world.matches.report(match.id, JIAANN, "win")  # a false claim
    world.with_mode("decides")
    upload = await world.replays.upload(RAIRDEN, "g.SC2Replay", EVER_DREAM.read_bytes())
    assert upload.replay.effect is ReplayEffect.DECIDED
    assert upload.match.status is MatchStatus.FINISHED
    assert upload.match.decided_by is Decision.REPLAY
    assert winner_of(upload.match) == RAIRDEN
    assert upload.update is not None and upload.update.rating_changes


async def test_a_replay_contradicting_the_uploaders_report_is_flagged(world: World) -> None:
    match = await ever_dream_match(world)
    await world.matches.report(match.id, JIAANN, "win")
    upload = await world.replays.upload(JIAANN, "g.SC2Replay", EVER_DREAM.read_bytes())
    assert upload.flagged and upload.replay.effect is ReplayEffect.FLAGGED
    assert upload.update is None  # his report stands until an admin looks


async def test_the_same_file_twice_is_refused_also_by_another_player_for_another_match(
    world: World,
) -> None:
    await ever_dream_match(world)
    data = EVER_DREAM.read_bytes()
    await world.replays.upload(JIAANN, "g.SC2Replay", data)
    with pytest.raises(ConflictError, match="already uploaded"):
        await world.replays.upload(RAIRDEN, "again.SC2Replay", data)
    world.clock.now = ABYSSAL_START - timedelta(minutes=2)
    other = await world.match(ROGUE, STATS, "sc2_zerg", "sc2_protoss", "Abyssal Reef")
    with pytest.raises(ConflictError, match="already uploaded"):
        await world.replays.upload(ROGUE, "g.SC2Replay", data, other.id)
    assert await world.rows("SELECT count(*) FROM replays") == [(1,)]


async def test_the_second_game_verifies_with_an_alt_name(world: World) -> None:
    world.clock.now = ABYSSAL_START - timedelta(minutes=2)
    match = await world.match(ROGUE, STATS, "sc2_zerg", "sc2_protoss", "Abyssal Reef")
    world.clock.now = ABYSSAL_START + timedelta(minutes=6)
    upload = await world.replays.upload(STATS, "g.SC2Replay", ABYSSAL.read_bytes(), match.id)
    assert upload.verdict.verified
    proven = upload.verdict.result
    assert proven is (Result.P1_WIN if match.player1_uid == ROGUE else Result.P2_WIN)


async def refused(world: World, uid: int, path: Path, match_id: int | None = None) -> Refusal:
    data = path.read_bytes()  # noqa: ASYNC240 (a small local file)
    upload = await world.replays.upload(uid, path.name, data, match_id)
    assert not upload.verdict.verified and upload.replay.effect is ReplayEffect.EVIDENCE
    assert upload.update is None
    assert upload.verdict.refusal is not None
    return upload.verdict.refusal


async def test_a_wrong_map_is_refused(world: World) -> None:
    world.clock.now = EVER_DREAM_START - timedelta(minutes=3)
    await world.match(JIAANN, RAIRDEN, "sc2_terran", "sc2_zerg", "Backwater")
    assert await refused(world, JIAANN, EVER_DREAM) is Refusal.MAP


async def test_swapped_races_are_refused(world: World) -> None:
    world.clock.now = EVER_DREAM_START - timedelta(minutes=3)
    await world.match(JIAANN, RAIRDEN, "sc2_zerg", "sc2_terran", "Ever Dream")
    assert await refused(world, JIAANN, EVER_DREAM) is Refusal.RACE


async def test_a_name_that_is_neither_player_is_refused(world: World) -> None:
    world.clock.now = EVER_DREAM_START - timedelta(minutes=3)
    await world.match(JIAANN, STATS, "sc2_terran", "sc2_zerg", "Ever Dream")
    assert await refused(world, JIAANN, EVER_DREAM) is Refusal.NAMES


async def test_a_game_played_before_the_match_is_refused(world: World) -> None:
    world.clock.now = EVER_DREAM_START + timedelta(days=1)
    await world.match(JIAANN, RAIRDEN, "sc2_terran", "sc2_zerg", "Ever Dream")
    assert await refused(world, JIAANN, EVER_DREAM) is Refusal.TOO_EARLY


async def test_a_game_against_the_computer_is_refused(world: World) -> None:
    world.clock.now = datetime(2018, 4, 26, 0, 5, tzinfo=UTC)
    await world.match(STRIDER, STATS, "sc2_protoss", "sc2_terran", "Backwater")
    assert await refused(world, STRIDER, VS_AI) is Refusal.COMPUTER


async def test_a_coop_mission_is_refused(world: World) -> None:
    world.clock.now = datetime(2019, 11, 26, 22, 0, tzinfo=UTC)
    await world.match(STRIDER, STATS, "sc2_terran", "sc2_zerg", "Oblivion Express")
    assert await refused(world, STRIDER, COOP) is Refusal.COOP


@pytest.mark.parametrize(
    ("filename", "data", "error"),
    [
        ("game.zip", b"PK\x03\x04", ValidationError),
        ("game.SC2Replay", b"", ValidationError),
        ("game.SC2Replay", os.urandom(6 * 1024 * 1024), ValidationError),
        ("game.SC2Replay", os.urandom(5000), ReplayUnreadableError),
    ],
)
async def test_bad_files_are_refused_and_write_nothing(
    world: World, filename: str, data: bytes, error: type[Exception]
) -> None:
    await ever_dream_match(world)
    with pytest.raises(error):
        await world.replays.upload(JIAANN, filename, data)
    assert await world.rows("SELECT count(*) FROM replays") == [(0,)]
    assert not world.folder.exists() or not any(world.folder.iterdir())


async def test_a_player_outside_the_match_cannot_upload_for_it(world: World) -> None:
    match = await ever_dream_match(world)
    with pytest.raises(ConflictError):
        await world.replays.upload(STATS, "g.SC2Replay", EVER_DREAM.read_bytes(), match.id)


async def test_a_dispute_ruled_by_replay_recomputes_later_ratings(world: World) -> None:
    match = await ever_dream_match(world)
    await world.matches.report(match.id, JIAANN, "win")
    await world.matches.report(match.id, RAIRDEN, "win")  # disputed
    world.with_mode("evidence")
    upload = await world.replays.upload(RAIRDEN, "g.SC2Replay", EVER_DREAM.read_bytes())
    rating = "SELECT mmr FROM ratings WHERE discord_uid = %s AND race = 'sc2_zerg'"
    (before,) = await world.rows(rating % RAIRDEN)
    update = await world.replays.rule_by_replay(999, upload.replay.id)
    assert update.match.status is MatchStatus.FINISHED and winner_of(update.match) == RAIRDEN
    assert update.match.decided_by is Decision.ADMIN
    (after,) = await world.rows(rating % RAIRDEN)
    gained = {c.key: c.new - c.old for c in update.rating_changes}[(RAIRDEN, "sc2_zerg")]
    assert gained > 0 and after[0] == before[0] + gained
    assert await world.rows(f"SELECT count(*) FROM rating_log WHERE match_id = {match.id}") == [
        (1,)
    ]
    # A second click applies nothing.
    with pytest.raises(ConflictError, match="no open dispute"):
        await world.replays.rule_by_replay(999, upload.replay.id)
    assert await world.rows(
        "SELECT count(*) FROM admin_actions WHERE action = 'resolve_match'"
    ) == [(1,)]
