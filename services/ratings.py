"""The rating ledger: keeps `ratings`, the rating log, the season archives and matches' stored
steps in agreement, under the configured rating system (`ladder.rating_systems`).

Invariant after every commit: replaying the rating log season by season
(`ladder.rating_systems.replay_seasons`, each season starting from the soft reset of the last
one's final ratings) gives exactly the `ratings` states of the current season and the archived
states of every past season; every rated match stores the two shown ratings before it and
player 1's shown gain; games and W/L/D are the counts of the season's finished matches.

Rating a new match of the current season is one step of the system. A correction or
invalidation in the current season under today's Elo rewinds to the match's place in the log
and replays from there (the fast path it always had); any other correction, and any match of
a past season (a ruling, or a match that was still being played when its season ended),
replays the match's season and every later one (`replay_from`). All methods run inside the
caller's transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

import aiosqlite

from i18n import N_
from ladder.config import DEFAULT_RANK_SHARES, RatingConfig
from ladder.errors import ConflictError
from ladder.ranks import Shares
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
    score_of,
)
from ladder.rating_systems import (
    EloSystem,
    RatingState,
    RatingSystem,
    SeasonBreak,
    rating_system,
    replay_season,
    soft_reset_all,
)
from ladder.records import MatchRecord
from ladder.seasons import Record, final_standings
from ladder.standings import to_micros
from storage.matches import MatchRepository
from storage.ratings import RatingRepository
from storage.seasons import SeasonRepository

log = logging.getLogger(__name__)


def match_keys(match: MatchRecord) -> tuple[RatingKey, RatingKey]:
    """Return both (uid, race) rating keys of a match, player 1's first."""
    return (match.player1_uid, match.player1_race), (match.player2_uid, match.player2_race)


class RatingLedger:
    """Rates matches, replays corrections and recomputes, through the two repositories."""

    def __init__(
        self,
        ratings: RatingRepository,
        matches: MatchRepository,
        config: RatingConfig,
        *,
        seasons: SeasonRepository | None = None,
        shares: Shares = DEFAULT_RANK_SHARES,
    ) -> None:
        self._ratings = ratings
        self._matches = matches
        self._config = config
        self._seasons = seasons or SeasonRepository()
        self._shares = shares
        self.system: RatingSystem = rating_system(config)

    @property
    def _plain(self) -> bool:
        # Today's Elo: integer steps that a correction can rewind exactly.
        return isinstance(self.system, EloSystem) and self.system.plain

    def _replay(
        self, entries: Sequence[LogEntry], initial: Mapping[RatingKey, int] | None = None
    ) -> Replay:
        c = self._config
        return replay_log(entries, c.start, c.k_factor, c.divisor, initial=initial)

    async def rate(
        self, conn: aiosqlite.Connection, match: MatchRecord, result: Result, now: datetime
    ) -> list[RatingChange]:
        """Append a newly finalised match to the log and apply its change to both ratings."""
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
            raise ConflictError(N_("Match #{match} was already rated."), match=match.id) from exc
        season = await self._seasons.season_of_match(conn, match.id)
        now_season = (await self._seasons.current(conn)).number
        if season is not None and season != now_season:
            # Created in a season that has ended since: it counts in that season's archive.
            log.info("Match %s of season %s rated in season %s", match.id, season, now_season)
            changes = await self.replay_from(conn, season)
            return [ch for ch in changes if ch.key in (key1, key2)]
        if not self._plain:
            return await self._rate_one(conn, match, result, now)
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
        season = await self._seasons.season_of_match(conn, match.id)
        now_season = (await self._seasons.current(conn)).number
        if (
            not self._plain
            or season != now_season
            or await self._seasons.other_seasons_after(conn, seq, now_season)
        ):
            if result is None:
                await self._ratings.unlog_match(conn, match.id)
                await self._matches.clear_rating(conn, match.id)
            changes = await self.replay_from(conn, season or now_season)
            log.info("Match %s re-rated (%s): %d ratings moved", match.id, result, len(changes))
            return changes
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
        await self._recount(conn, now_season, match_keys(match))
        log.info("Match %s re-rated (%s): %d ratings moved", match.id, result, len(changes))
        return changes

    async def _recount(
        self, conn: aiosqlite.Connection, season: int, keys: Sequence[RatingKey]
    ) -> None:
        records = await self._seasons.records(conn, season, keys)
        await self._seasons.write_records(conn, {k: records.get(k, Record()) for k in keys})

    async def _rate_one(
        self, conn: aiosqlite.Connection, match: MatchRecord, result: Result, now: datetime
    ) -> list[RatingChange]:
        # One step of a system other than today's Elo, on the full stored states.
        key1, key2 = match_keys(match)
        states = await self._seasons.states_of(conn, self.system, (key1, key2))
        a, b = states[key1], states[key2]
        na, nb = self.system.game(a, b, score_of(result), to_micros(now))
        await self._ratings.record_game(conn, key1, key2, na.shown, nb.shown, result, now)
        await self._seasons.write_states(conn, {key1: na, key2: nb})
        await self._seasons.set_steps(conn, {match.id: (a.shown, b.shown, na.shown, nb.shown)})
        return [RatingChange(key1, a.shown, na.shown), RatingChange(key2, b.shown, nb.shown)]

    async def replay_from(self, conn: aiosqlite.Connection, first: int) -> list[RatingChange]:
        """Replay season `first` and every later one from the log; rewrite the archives of
        the past ones and the current ratings; return the current ratings that moved."""
        seasons = await self._seasons.all(conn)
        by_number = {s.number: s for s in seasons}
        initial: dict[RatingKey, RatingState] = {}
        if first > 1:
            previous = await self._seasons.archive(conn, first - 1)
            opening = by_number[first]
            initial = soft_reset_all(
                self.system,
                {e.key: e.state for e in previous},
                SeasonBreak(opening.soft_reset, opening.pull_fraction),
            )
        banned = await self._seasons.banned(conn)
        changes: list[RatingChange] = []
        for season in seasons:
            if season.number < first:
                continue
            done = replay_season(
                self.system, await self._seasons.season_log(conn, season.number), initial
            )
            await self._seasons.set_steps(conn, done.shown)
            records = await self._seasons.records(conn, season.number)
            if season.ended_at is not None:
                archive = final_standings(
                    self.system,
                    done.states,
                    records,
                    banned,
                    to_micros(season.ended_at),
                    self._shares,
                )
                await self._seasons.write_archive(conn, season.number, archive)
                following = by_number[season.number + 1]
                initial = soft_reset_all(
                    self.system,
                    done.states,
                    SeasonBreak(following.soft_reset, following.pull_fraction),
                )
                continue
            stored = await self._seasons.states(conn, self.system)
            fresh = {k: done.states.get(k, self.system.new()) for k in stored.keys() | done.states}
            moved = {k: s for k, s in fresh.items() if stored.get(k) != s}
            await self._seasons.write_states(conn, moved)
            # Keys that lost their last game of the season (an invalidation) are recounted too.
            lost = {k: Record() for k, s in stored.items() if s.games and k not in records}
            moved_records = {k: records.get(k, Record()) for k in moved}
            await self._seasons.write_records(conn, {**lost, **moved_records, **records})
            changes = diff_ratings(
                {k: s.shown for k, s in stored.items()},
                {k: s.shown for k, s in fresh.items()},
                self._config.start,
            )
        return changes


def _entry_keys(entry: LogEntry) -> tuple[RatingKey, ...]:
    if isinstance(entry, LoggedAdjustment):
        return (entry.key,)
    return (entry[1], entry[2])
