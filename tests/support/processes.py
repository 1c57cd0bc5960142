"""A bot process on PostgreSQL without Discord: the ladder services, the in-memory standings and
what follows other processes' writes, wired as bot.py wires them. Two of them on one database
stand for two bot processes (each with its own pool, listening connection and leader lock)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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


async def _first(*waits: Awaitable[object]) -> None:
    """Return when the first of `waits` is done (the others are cancelled)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


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
        # Set by everything that moves this process's state from outside: a notification
        # heard, ratings or players applied to the standings, a reload, a lost LISTEN.
        self.changed = asyncio.Event()

    async def until(self, condition: Callable[[], bool], what: str, within: float = WITHIN) -> None:
        """Wait until `condition()` holds, checking it again whenever this process's state may
        have moved (`changed`, or the reader of others' changes going idle, or LISTEN coming
        back); fail after `within` seconds."""
        try:
            async with asyncio.timeout(within):
                while not condition():
                    self.changed.clear()
                    waits: list[Awaitable[object]] = [self.changed.wait()]
                    if not self.elsewhere.idle.is_set():
                        waits.append(self.elsewhere.idle.wait())
                    if not self.listener.listening.is_set():
                        waits.append(self.listener.listening.wait())
                    await _first(*waits)
        except TimeoutError:
            raise AssertionError(f"not within {within} s: {what}") from None

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
        changes.subscribe(lambda _player: p.changed.set())

        def apply(*args: Any, **kwargs: Any) -> None:
            standings.apply(*args, **kwargs)
            p.changed.set()

        async def refresh(*args: Any, **kwargs: Any) -> None:
            await leaderboard.refresh_players(standings, *args, **kwargs)
            p.changed.set()
        p.players = PlayerService(p.db, p.repository, QueueRepository(), changes)
        p.core = LadderCore(
            p.db, p.repository, CONFIG, on_ratings_changed=standings.apply, player_changes=changes
        )
        p.queue = QueueService(p.core, rng=random.Random(7))
        p.matches = MatchService(p.core)
        p.admin = AdminService(p.core)
        p.elsewhere = ChangesElsewhere(p.db, p.players, apply, refresh)

        def heard(channel: str, handle: Callable[[str], None]) -> Callable[[str], None]:
            def on_message(payload: str) -> None:
                p.heard.append((channel, payload))
                handle(payload)
                p.changed.set()

            return on_message

        def missed() -> None:
            p.elsewhere.missed()
            p.changed.set()

        p.listener = p.db.listener(
            {
                PLAYERS_CHANNEL: heard(PLAYERS_CHANNEL, p.elsewhere.player_changed),
                RATINGS_CHANNEL: heard(RATINGS_CHANNEL, p.elsewhere.ratings_changed),
            },
            missed,
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
