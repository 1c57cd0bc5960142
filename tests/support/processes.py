"""A bot process on PostgreSQL without Discord: the ladder services, the in-memory standings and
what follows other processes' writes, wired as bot.py wires them. Two of them on one database
stand for two bot processes (each with its own pool, listening connection and leader lock)."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from cache.players import PlayerCache
from ladder.config import LadderConfig, MatchConfig
from ladder.players import ProfileDraft
from ladder.records import MatchRecord
from ladder.standings import LeaderboardEntry, LeaderboardFilters, Standings
from services.admin import AdminService
from services.elsewhere import ChangesElsewhere
from services.ladder_core import LadderCore
from services.matches import MatchService
from services.players import PlayerChanges, PlayerService
from services.queue import QueueService
from storage.leader import Leadership
from storage.leaderboard import LeaderboardRepository
from storage.players import PLAYERS_CHANNEL, PlayerRepository
from storage.postgres import Listener, PostgresDatabase
from storage.queue import QueueRepository
from storage.ratings import RATINGS_CHANNEL

MAPS = ("Fighting Spirit", "Circuit Breaker", "Polypoid", "Eclipse", "Vermeer")
CONFIG = LadderConfig(map_pool=MAPS, max_vetoes=2, matches=MatchConfig(aborts_per_month=3))
WITHIN = 10.0


async def until(condition: Callable[[], bool], what: str, within: float = WITHIN) -> None:
    """Wait (polling) until `condition()` holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.01)


class LadderProcess:
    """One process: `open` it on a URL, `close` it at the end."""

    db: PostgresDatabase
    repository: PlayerRepository
    players: PlayerService
    standings: Standings
    core: LadderCore
    queue: QueueService
    matches: MatchService
    admin: AdminService
    elsewhere: ChangesElsewhere
    listener: Listener
    leadership: Leadership | None = None

    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []  # (channel, payload) as they arrived

    @classmethod
    async def open(cls, url: str, *, listen_retry: float = 0.2) -> LadderProcess:
        p = cls()
        p.db = await PostgresDatabase.open(url)
        p.repository = PlayerRepository(p.db, PlayerCache())
        leaderboard = LeaderboardRepository(p.db)
        p.standings = await leaderboard.load_standings(datetime.now(UTC), races=CONFIG.race_codes)
        changes = PlayerChanges()
        standings = p.standings
        changes.subscribe(
            lambda pl: standings.set_player(
                pl.discord_uid, pl.display_name, pl.country, banned=pl.banned, region=pl.region
            )
        )
        p.players = PlayerService(p.db, p.repository, QueueRepository(), changes)
        p.core = LadderCore(
            p.db, p.repository, CONFIG, on_ratings_changed=standings.apply, player_changes=changes
        )
        p.queue = QueueService(p.core, rng=random.Random(7))
        p.matches = MatchService(p.core)
        p.admin = AdminService(p.core)
        refresh = functools.partial(leaderboard.refresh_players, standings)
        p.elsewhere = ChangesElsewhere(p.db, p.players, standings.apply, refresh)

        def heard(channel: str, handle: Callable[[str], None]) -> Callable[[str], None]:
            def on_message(payload: str) -> None:
                p.heard.append((channel, payload))
                handle(payload)

            return on_message

        p.listener = p.db.listener(
            {
                PLAYERS_CHANNEL: heard(PLAYERS_CHANNEL, p.elsewhere.player_changed),
                RATINGS_CHANNEL: heard(RATINGS_CHANNEL, p.elsewhere.ratings_changed),
            },
            p.elsewhere.missed,
            retry_seconds=listen_retry,
        )
        p.elsewhere.start()
        await p.listener.start()
        assert p.listener.listening.is_set()
        return p

    async def lead(self, retry_seconds: float = 0.2) -> Leadership:
        """Take part in the leader election, with the wave's fence, as bot.py does."""

        async def deposed() -> None:
            return None

        self.leadership = Leadership(
            self.db.url, lambda: None, deposed, retry_seconds=retry_seconds
        )
        self.queue.fence = self.leadership.fence
        await self.leadership.start()
        return self.leadership

    async def close(self) -> None:
        if self.leadership is not None:
            await self.leadership.close()
        await self.listener.close()
        await self.elsewhere.close()
        await self.db.close()

    async def add_players(self, *uids: int) -> None:
        """Players who accepted the terms and finished /setup, as /queue requires."""
        for uid in uids:
            await self.players.record_terms(uid, f"user{uid}", accepted=True)
            draft = ProfileDraft(f"user{uid}", f"User{uid}#1234", (), "US", "na")
            await self.players.save_profile(uid, f"user{uid}", draft)

    async def play(self, a: int, b: int, winner: int, race: str = "bw_terran") -> MatchRecord:
        """Queue a and b, pair them, confirm and report: a rated match; return it."""
        await self.queue.join_queue(a, [race], [])
        await self.queue.join_queue(b, [race], [])
        made: list[MatchRecord] = []
        for _ in range(30):  # windows widen with every wave
            made = await self.queue.run_wave()
            if made:
                break
        assert len(made) == 1
        match = made[0]
        await self.matches.confirm(match.id, a)
        await self.matches.confirm(match.id, b)
        loser = b if winner == a else a
        await self.matches.report(match.id, winner, "win")
        return (await self.matches.report(match.id, loser, "loss")).match

    def shown(self) -> dict[tuple[int, str], LeaderboardEntry]:
        """Every entry the leaderboard shows now, by (uid, race)."""
        page = self.standings.page(LeaderboardFilters(), 1, 10_000, now=datetime.now(UTC))
        return {(e.uid, e.race): e for e in page.entries}

    def mmr(self, uid: int, race: str = "bw_terran") -> int | None:
        entry = self.shown().get((uid, race))
        return None if entry is None else entry.mmr
