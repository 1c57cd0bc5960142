"""The rating ledger: keeps `ratings`, the rating log and matches' stored steps in agreement.

Invariant after every commit: replaying the rating log (`ladder.rating.replay_log`) from
everyone at the start MMR gives exactly the `ratings` MMRs, and every rated match stores the
two ratings before it and player 1's gain (its replay step); games and W/L/D are the counts of
finished matches. Rating a new match is one incremental Elo step; a correction or invalidation
rewinds to the match's place in the log and replays from there; `recompute` replays it all.
All methods run inside the caller's transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

import aiosqlite

from ladder.config import RatingConfig
from ladder.errors import ConflictError
from ladder.rating import (
    LogEntry,
    LoggedAdjustment,
    LoggedMatch,
    RatingChange,
    RatingKey,
    Replay,
    Result,
    diff_ratings,
    replay,
    replay_log,
    rewind_log,
)
from ladder.records import MatchRecord
from storage.matches import MatchRepository
from storage.ratings import RatingRepository

log = logging.getLogger(__name__)


def match_keys(match: MatchRecord) -> tuple[RatingKey, RatingKey]:
    """Return both (uid, race) rating keys of a match, player 1's first."""
    return (match.player1_uid, match.player1_race), (match.player2_uid, match.player2_race)


class RatingLedger:
    """Rates matches, replays corrections and recomputes, through the two repositories."""

    def __init__(
        self, ratings: RatingRepository, matches: MatchRepository, config: RatingConfig
    ) -> None:
        self._ratings = ratings
        self._matches = matches
        self._config = config

    def _replay(
        self, entries: Sequence[LogEntry], initial: Mapping[RatingKey, int] | None = None
    ) -> Replay:
        c = self._config
        return replay_log(entries, c.start, c.k_factor, c.divisor, initial=initial)

    async def rate(
        self, conn: aiosqlite.Connection, match: MatchRecord, result: Result, now: datetime
    ) -> list[RatingChange]:
        """Append a newly finalised match to the log and apply its Elo change to both ratings."""
        key1, key2 = match_keys(match)
        c = self._config
        await self._ratings.ensure(conn, key1[0], [key1[1]], c.start)
        await self._ratings.ensure(conn, key2[0], [key2[1]], c.start)
        current = await self._ratings.mmrs(conn, (key1, key2))
        try:
            await self._ratings.log_match(conn, match.id)
        except sqlite3.IntegrityError as exc:
            # The state machine never finalises twice; the UNIQUE(match_id) is the backstop.
            log.error("Match %s is already in the rating log: %s", match.id, exc)
            raise ConflictError(f"Match #{match.id} was already rated.") from exc
        step = replay(
            [LoggedMatch(match.id, key1, key2, result)], c.start, c.k_factor, c.divisor, current
        ).steps[0]
        new1, new2 = step.before_1 + step.delta, step.before_2 - step.delta
        await self._ratings.record_game(conn, key1, key2, new1, new2, result, now)
        # The stored "before" MMRs become the ratings actually used, which an admin adjustment
        # or correction may have moved since the wave paired them.
        await self._matches.set_steps(conn, [step])
        return [RatingChange(key1, step.before_1, new1), RatingChange(key2, step.before_2, new2)]

    async def rerate(
        self, conn: aiosqlite.Connection, match: MatchRecord, result: Result | None
    ) -> list[RatingChange]:
        """Replay the log from a rated match whose result changed (None: it was invalidated).

        The match's new status must already be saved: W/L/D are recounted from the matches.
        """
        seq = await self._ratings.seq_of(conn, match.id)
        if seq is None:
            raise RuntimeError(f"match {match.id} is not in the rating log")
        tail, steps = await self._ratings.log_from(conn, seq)
        keys = {k for e in tail for k in _entry_keys(e)}
        current = await self._ratings.mmrs(conn, keys)
        before = rewind_log(current, tail, steps, self._config.start)
        first = tail[0]
        assert isinstance(first, LoggedMatch) and first.match_id == match.id
        if result is None:
            await self._ratings.unlog_match(conn, match.id)
            await self._matches.clear_rating(conn, match.id)
            tail = tail[1:]
        else:
            tail = [first._replace(result=Result(result)), *tail[1:]]
        fresh = self._replay(tail, initial=before)
        moved = {k: v for k, v in fresh.ratings.items() if k in keys}
        changes = diff_ratings(current, moved, self._config.start)
        await self._ratings.set_mmrs(conn, {c.key: c.new for c in changes})
        stored = {s.match_id: s for s in steps}
        await self._matches.set_steps(conn, [s for s in fresh.steps if stored[s.match_id] != s])
        await self._ratings.recount(conn, match_keys(match))
        log.info("Match %s re-rated (%s): %d ratings moved", match.id, result, len(changes))
        return changes


def _entry_keys(entry: LogEntry) -> tuple[RatingKey, ...]:
    if isinstance(entry, LoggedAdjustment):
        return (entry.key,)
    return (entry[1], entry[2])
