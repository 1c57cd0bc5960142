"""Fixtures for the ladder services: a real SQLite file, a clock the test moves, a seeded RNG."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cache.players import PlayerCache
from ladder.config import LadderConfig, MatchConfig
from ladder.players import ProfileDraft
from ladder.rating import diff_ratings, replay_log
from ladder.rating_systems import SeasonBreak, replay_seasons
from ladder.records import QueueStatus
from services.admin import AdminService
from services.ladder_core import LadderCore
from services.matches import MatchService
from services.queue import QueueService
from services.seasons import SeasonService
from storage.database import Database, parse_time
from storage.players import PlayerRepository
from storage.queue import QueueRepository
from storage.ratings import RatingRepository
from storage.seasons import SeasonRepository
from tests.support.backends import backend, backends_for, postgres_server

__all__ = ["backend", "postgres_server"]

# Every test here that opens a database runs on SQLite and on PostgreSQL (tests/support).
# Tests about the SQLite file itself, and what does not pass on PostgreSQL yet (strict xfail):
SQLITE_ONLY = frozenset(
    {
        # They write or read the SQLite file with sqlite3 directly.
        "test_analytics.py::test_calls_per_day_add_up_to_the_stats_report",
        "test_analytics.py::test_live_counters_are_the_writer_s_and_the_cache_s",
        "test_web_login.py::test_only_the_hash_is_stored",
        "test_web_login.py::test_old_links_are_removed_when_a_new_one_is_made",
    }
)
POSTGRES_GAPS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _backend(backend: str) -> str:
    return backend


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends_for(metafunc, SQLITE_ONLY, POSTGRES_GAPS)


MAPS = ("Fighting Spirit", "Circuit Breaker", "Polypoid", "Eclipse", "Vermeer")
CONFIG = LadderConfig(map_pool=MAPS, max_vetoes=2, matches=MatchConfig(aborts_per_month=3))
T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test advances by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass(frozen=True)
class Services:
    """The ladder's three services on one core, as bot.py builds them."""

    queue: QueueService
    matches: MatchService
    admin: AdminService
    core: LadderCore


class Ladder:
    """One open database with the services on it, reopenable like a restarted bot."""

    def __init__(self, path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self.changed: list = []
        self.db: Database | None = None

    async def open(self) -> Services:
        self.db = await Database.open(self.path)
        self.players = PlayerRepository(self.db, PlayerCache())
        core = LadderCore(
            self.db, self.players, CONFIG, clock=self.clock, on_ratings_changed=self.changed.append
        )
        self.service = Services(
            QueueService(core, rng=random.Random(7)), MatchService(core), AdminService(core), core
        )
        return self.service

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()
            self.db = None

    async def add_players(self, *uids: int) -> None:
        """Players who accepted the terms and finished /setup, as /queue requires."""
        for uid in uids:
            await self.players.record_terms(uid, f"user{uid}", accepted=True)
            draft = ProfileDraft(f"user{uid}", f"User{uid}#1234", (), "US", "na")
            await self.players.save_profile(uid, f"user{uid}", draft)

    async def rows(self, sql: str, params=()) -> list[tuple]:
        return [tuple(r) for r in await self.db.fetchall(sql, params)]

    async def queue(self) -> list[QueueStatus]:
        """Everyone in the queue, as a wave reads it."""
        return await QueueRepository().all(self.db.conn)

    async def assert_ratings_replay(self) -> None:
        """The stored ratings are what the rating log replays to: every MMR and every rated
        match's step; and each rating's W/L/D and last game are its finished matches'."""
        rating = CONFIG.rating
        entries, steps = await RatingRepository().log_from(self.db.conn, 0)
        fresh = replay_log(entries, rating.start, rating.k_factor, rating.divisor)
        assert list(fresh.steps) == steps
        stored = await RatingRepository().all(self.db.conn)
        assert diff_ratings({r.key: r.mmr for r in stored}, fresh.ratings, rating.start) == []
        counted: dict[tuple[int, str], list] = {}
        finished = await self.rows(
            "SELECT player1_uid, player1_race, player2_uid, player2_race, result, ended_at"
            " FROM matches WHERE status = 'finished'"
        )
        for p1, r1, p2, r2, result, ended in finished:
            for key, won in (((p1, r1), "p1_win"), ((p2, r2), "p2_win")):
                record = counted.setdefault(key, [0, 0, 0, 0, None])  # games, W, L, D, last
                record[0] += 1
                record[1 if result == won else 3 if result == "draw" else 2] += 1
                record[4] = max(record[4] or ended, ended)
        for row in stored:
            games, wins, losses, draws, last = counted.get(row.key, [0, 0, 0, 0, None])
            assert (row.games, row.wins, row.losses, row.draws) == (games, wins, losses, draws)
            assert row.last_played_at == (parse_time(last) if last else None), row.key

    async def match_between(self, a: int, b: int, race: str = "bw_terran", *, confirm=True):
        """Queue a and b, run a wave, and (by default) confirm both; return the match."""
        svc = self.service
        await svc.queue.join_queue(a, [race], [])
        await svc.queue.join_queue(b, [race], [])
        made = []
        for _ in range(30):  # windows widen with every wave, so far-apart ratings meet too
            made = await svc.queue.run_wave()
            if made:
                break
        assert len(made) == 1
        match = made[0]
        if confirm:
            await svc.matches.confirm(match.id, a)
            match = (await svc.matches.confirm(match.id, b)).match
        return match

    async def play(self, a: int, b: int, winner: int | None, race: str = "bw_terran"):
        """Play one agreed match between a and b (winner None = draw); return the update."""
        match = await self.match_between(a, b, race)
        if winner is None:
            await self.service.matches.report(match.id, a, "draw")
            return await self.service.matches.report(match.id, b, "draw")
        loser = b if winner == a else a
        await self.service.matches.report(match.id, winner, "win")
        return await self.service.matches.report(match.id, loser, "loss")


class SeasonLadder(Ladder):
    """The conftest's ladder with a chosen config and the season service."""

    def __init__(self, path: Path, clock: Clock, config: LadderConfig) -> None:
        super().__init__(path, clock)
        self.config = config

    async def open(self) -> Services:
        from cache.players import PlayerCache
        from storage.players import PlayerRepository

        self.db = await Database.open(self.path)
        self.players = PlayerRepository(self.db, PlayerCache())
        core = LadderCore(
            self.db,
            self.players,
            self.config,
            clock=self.clock,
            on_ratings_changed=self.changed.append,
        )
        self.service = Services(
            QueueService(core, rng=random.Random(7)), MatchService(core), AdminService(core), core
        )
        self.seasons = SeasonService(core)
        return self.service

    async def assert_replays(self) -> None:
        """Replaying the log season by season gives every archive and the current ratings."""
        repo = SeasonRepository()
        conn = self.db.conn
        system = self.service.core.ledger.system
        seasons = await repo.all(conn)
        plan = []
        for i, s in enumerate(seasons):
            nxt = seasons[i + 1] if i + 1 < len(seasons) else None
            brk = SeasonBreak(nxt.soft_reset, nxt.pull_fraction) if nxt else None
            plan.append((await repo.season_log(conn, s.number), brk))
        replayed = replay_seasons(system, plan)
        new = system.new()
        for s, out in zip(seasons, replayed, strict=True):
            if s.is_current:
                stored = await repo.states(conn, system)
            else:
                stored = {e.key: e.state for e in await repo.archive(conn, s.number)}
            for k in stored.keys() | out.states.keys():
                assert stored.get(k, new) == out.states.get(k, new), (s.number, k)
            for match_id, (b1, b2, a1, _) in out.shown.items():
                row = await self.rows(
                    "SELECT player1_mmr, player2_mmr, mmr_change FROM matches WHERE id = ?",
                    (match_id,),
                )
                assert row == [(b1, b2, a1 - b1)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def ladder(tmp_path, clock):
    lad = Ladder(tmp_path / "ladder.db", clock)
    await lad.open()
    await lad.add_players(1, 2, 3, 4)
    yield lad
    await lad.close()


@pytest.fixture
def svc(ladder) -> Services:
    return ladder.service
