"""Replays as evidence: upload one for a match, verify it, let it report or decide the result
(`replay.mode`), and rule a dispute by a replay (see docs/replays.md).

An upload goes: file name and size → the match (the one given, else the player's open match,
else his most recent one) → the file's SHA-256, refused if any match used it → the parser in its
own process (`storage.replay_parser`) → the domain's rules (`ladder.replays.verify`) → the file
kept under the replay folder → one transaction that stores the row and applies the effect. A
file that cannot be read, or a duplicate, writes nothing; a replay that reads but does not
verify is kept as evidence with its reason (admins see it in a dispute).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from i18n import N_
from ladder.config import ReplayConfig
from ladder.errors import ConflictError, NotFoundError, ValidationError
from ladder.rating import Result
from ladder.records import MatchRecord, MatchUpdate, RatingRow
from ladder.replays import (
    REPLAY_SUFFIX,
    MatchFacts,
    ReplayEffect,
    ReplayFacts,
    ReplayMode,
    ReplayRecord,
    Verdict,
    battletag_name,
    verify,
)
from ladder.reports import (
    MatchStatus,
    NotInMatchError,
    Outcome,
    ReplayDecides,
    Report,
    ReportMismatchError,
)
from services.admin import AdminService
from services.ladder_core import LadderCore
from storage.replay_parser import ReplayParser
from storage.replays import ReplayFiles, ReplayRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplayUpload:
    """What an upload did: the stored replay, its verdict, and the match update it caused."""

    replay: ReplayRecord
    verdict: Verdict
    mode: ReplayMode
    match: MatchRecord
    update: MatchUpdate | None = None  # set when the replay reported or decided
    flagged: bool = False  # verified, but the uploader had reported the other result


def outcome_for(result: Result, side: int) -> Outcome:
    """The result as the player on `side` (1 or 2) would report it."""
    if result is Result.DRAW:
        return Outcome.DRAW
    won = (result is Result.P1_WIN) == (side == 1)
    return Outcome.WIN if won else Outcome.LOSS


class ReplayService:
    """Uploads, verification, effects and the ruling by replay."""

    def __init__(
        self,
        core: LadderCore,
        admin: AdminService,
        parser: ReplayParser | None = None,
        files: ReplayFiles | None = None,
        config: ReplayConfig | None = None,
    ) -> None:
        self._core = core
        self._admin = admin
        self.config = config or core.config.replay
        self._parser = parser or ReplayParser(
            timeout=self.config.parse_timeout_seconds, memory_mb=self.config.parse_memory_mb
        )
        # A relative folder is taken from the database file's folder (data/replays).
        self._files = files or ReplayFiles(Path(core.db.path).parent / self.config.folder)
        self._replays = ReplayRepository()

    @property
    def mode(self) -> ReplayMode:
        return ReplayMode(self.config.mode)

    async def upload(
        self, uid: int, filename: str, data: bytes, match_id: int | None = None
    ) -> ReplayUpload:
        """Verify and store the player's replay for the match; apply its effect."""
        check_file(filename, len(data), self.config.max_bytes)
        match = await self.match_for(uid, match_id)
        sha256 = hashlib.sha256(data).hexdigest()
        await self._refuse_duplicate(sha256)
        facts = await self._parser.parse(data)
        verdict = await self._verify(facts, match)
        await asyncio.to_thread(self._files.save, sha256, data)
        try:
            return await self._store(uid, match.id, sha256, len(data), facts, verdict)
        except sqlite3.IntegrityError:  # the same file, uploaded at the same moment
            await self._refuse_duplicate(sha256)
            raise

    async def match_for(self, uid: int, match_id: int | None) -> MatchRecord:
        """The match an upload is for: the one named (the player must be in it), else the
        player's open match, else his most recent one that started."""
        conn = self._core.reader
        if match_id is not None:
            match = await self._core.require_match(conn, match_id)
            if uid not in match.players:
                raise NotInMatchError()
            return match
        found = await self._replays.latest_match_of(conn, uid)
        if found is None:
            raise NotFoundError("open match", "—")
        return await self._core.require_match(conn, found)

    async def of_match(self, match_id: int) -> list[ReplayRecord]:
        """The match's replays, oldest first."""
        return await self._replays.of_match(self._core.reader, match_id)

    async def counts(self) -> Counter[str]:
        """Stored replays by verdict: 'verified' and each refusal reason."""
        return await self._replays.verdicts(self._core.reader)

    async def rule_by_replay(self, admin_uid: int, replay_id: int) -> MatchUpdate:
        """Decide the replay's disputed match with its result, through the admins' ruling path
        (ratings after it recomputed). Only a verified replay of a match whose dispute is still
        open: a second click finds it resolved and changes nothing."""
        conn = self._core.reader
        replay = await self._replays.get(conn, replay_id)
        if replay is None:
            raise NotFoundError("replay", replay_id)
        if not replay.verified or replay.result is None:
            raise ConflictError(
                N_("Replay #{replay} is not verified, so it cannot decide."), replay=replay_id
            )
        match = await self._core.require_match(conn, replay.match_id)
        if not await self._replays.dispute_open(conn, match.id):
            raise ConflictError(
                N_("Match #{match} has no open dispute: it was already decided."), match=match.id
            )
        return await self._admin.resolve_match(
            admin_uid,
            match.id,
            replay.result.value,
            f"ruled by replay #{replay_id}",
            expected=match,
        )

    async def _refuse_duplicate(self, sha256: str) -> None:
        used = await self._replays.by_hash(self._core.reader, sha256)
        if used is not None:
            raise ConflictError(
                N_(
                    "This replay file was already uploaded (for match #{match}). "
                    "Each game's replay counts once."
                ),
                match=used.match_id,
            )

    async def _verify(self, facts: ReplayFacts, match: MatchRecord) -> Verdict:
        names = []
        for uid in match.players:
            player = await self._core.players.get(uid)
            own = () if player is None else (battletag_name(player.battletag), *player.alt_names)
            names.append(tuple(n for n in own if n))
        facts_of_match = MatchFacts(
            match_id=match.id,
            player1_names=names[0],
            player2_names=names[1],
            player1_race=match.player1_race,
            player2_race=match.player2_race,
            map_name=match.map,
            created_at=match.created_at,
            report_deadline=match.report_deadline,
        )
        return verify(
            facts, facts_of_match, maps=dict(self.config.maps), races=dict(self.config.races)
        )

    async def _store(
        self, uid: int, match_id: int, sha256: str, size: int, facts: ReplayFacts, verdict: Verdict
    ) -> ReplayUpload:
        mode = self.mode
        async with self._core.write() as conn:
            now = self._core.now()
            match = await self._core.require_match(conn, match_id)
            effect, update, flagged = ReplayEffect.EVIDENCE, None, False
            rows: list[RatingRow] = []
            if verdict.verified and verdict.result is not None:
                effect, update, flagged, rows = await self._apply(conn, match, uid, verdict, mode)
            replay_id = await self._replays.add(
                conn,
                match_id=match.id,
                uploader=uid,
                sha256=sha256,
                size=size,
                facts=facts,
                refusal=verdict.refusal,
                result=verdict.result,
                effect=effect,
                now=now,
            )
            if update is not None and effect is ReplayEffect.DECIDED:
                await self._replays.resolve_dispute(conn, match.id, verdict.result, replay_id, now)
            replay = await self._replays.get(conn, replay_id)
            after = await self._core.require_match(conn, match.id)
        assert replay is not None
        self._core.ratings_changed(rows)
        log.info(
            "Replay %s for match %s by %s: %s, %s",
            replay_id, match.id, uid, verdict.refusal or "verified", effect,
        )  # fmt: skip
        return ReplayUpload(replay, verdict, mode, after, update, flagged)

    async def _apply(
        self,
        conn: aiosqlite.Connection,
        match: MatchRecord,
        uid: int,
        verdict: Verdict,
        mode: ReplayMode,
    ) -> tuple[ReplayEffect, MatchUpdate | None, bool, list[RatingRow]]:
        assert verdict.result is not None
        side = match.side_of(uid)
        proven = outcome_for(verdict.result, side)
        own = match.player1_report if side == 1 else match.player2_report
        flagged = own is not None and own is not proven
        now = self._core.now()
        if mode is ReplayMode.EVIDENCE:
            return ReplayEffect.FLAGGED if flagged else ReplayEffect.EVIDENCE, None, flagged, []
        if mode is ReplayMode.DECIDES:
            update, rows = await self._core.apply(conn, match, ReplayDecides(verdict.result), now)
            if update.changed:
                return ReplayEffect.DECIDED, update, flagged, rows
            if match.result is verdict.result:
                return ReplayEffect.ALREADY, None, flagged, []
            return ReplayEffect.LATE, None, flagged, []
        # Report mode: the replay is the uploader's report, unless he reported otherwise.
        if flagged:
            return ReplayEffect.FLAGGED, None, True, []
        if match.status is not MatchStatus.IN_PROGRESS:
            if match.result is verdict.result:
                return ReplayEffect.ALREADY, None, False, []
            if match.status is MatchStatus.AWAITING_CONFIRMATION:  # reports come after both
                return ReplayEffect.EVIDENCE, None, False, []  # confirmed: kept as evidence
            return ReplayEffect.LATE, None, False, []
        try:
            update, rows = await self._core.apply(conn, match, Report(uid, proven), now)
        except (ReportMismatchError, ConflictError):
            return ReplayEffect.LATE, None, False, []
        if not update.changed:
            return ReplayEffect.ALREADY, None, False, []
        return ReplayEffect.REPORTED, update, False, rows


def check_file(filename: str, size: int, max_bytes: int) -> None:
    """Refuse a file that is not a `.SC2Replay` or is larger than `max_bytes`."""
    if not filename.casefold().endswith(REPLAY_SUFFIX):
        raise ValidationError("file", N_("Please upload the game's `.SC2Replay` file."))
    if size > max_bytes:
        raise ValidationError(
            "file",
            N_("That file is larger than {size} KB; a replay is much smaller."),
            size=max_bytes // 1024,
        )
    if size == 0:
        raise ValidationError("file", N_("That file is empty."))
