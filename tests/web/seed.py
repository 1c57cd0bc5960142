"""A small real ladder in a SQLite file, made through the real migrations and services, and the
website's services opened on it as bot.py opens them.

Shared by the handler tests (tests/web/) and the browser tests: `await seed_ladder(path)` once,
then `await open_site(path)` for a `WebServices` to hand to `web.app.create_app`.

What is in it (`Seeded` names every piece): eight players with set-up profiles in two regions,
two of them with hostile names; agreed matches one hour apart over the last days; a disputed
match with evidence (a hostile note, a `javascript:` URL and an https one) that an admin ruled;
an earlier match re-ruled later (a correction); a banned player with matches; queue joins.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cache.players import PlayerCache
from ladder.config import LadderConfig, load_ladder_config
from ladder.players import ProfileDraft
from services.admin import AdminService
from services.ladder_core import LadderCore
from services.leaderboard import LeaderboardService
from services.matches import MatchService
from services.public import PublicLadder
from services.queue import QueueService
from storage.database import Database
from storage.history import HistoryRepository
from storage.leaderboard import LeaderboardRepository
from storage.matches import DisputeRepository
from storage.players import PlayerRepository
from web.app import WebServices

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = REPO_ROOT / "data" / "ladder.toml"

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(1)>'
HOSTILE_NOTE = "<b>bold</b> & <script>alert('note')</script>"
JS_URL = "javascript:alert(document.cookie)"
SAFE_URL = "https://replays.example.org/r/1?a=1&b=<2>"
ADMIN_UID = 900_000_000_000_000_001  # an admin who is not a player
TERRAN, ZERG = "bw_terran", "bw_zerg"

# (uid, name, country, region): Discord-sized ids, so a test can look for them in the output.
PLAYERS = (
    (310_000_000_000_000_001, "Alice", "DE", "EU"),
    (310_000_000_000_000_002, "Bob", "FR", "EU"),
    (310_000_000_000_000_003, "Carol", "US", "NA"),
    (310_000_000_000_000_004, "Dave", "CA", "NA"),
    (310_000_000_000_000_005, SCRIPT_NAME, "SE", "EU"),
    (310_000_000_000_000_006, IMG_NAME, "BR", "SA"),
    (310_000_000_000_000_007, "Mallory", "GB", "EU"),
    (310_000_000_000_000_008, "Erin", "KR", "KR"),
)


@dataclass
class Seeded:
    """What the seed made, for the tests to look up."""

    path: Path
    config: LadderConfig
    uids: dict[str, int]  # name -> Discord id
    played: list[int] = field(default_factory=list)  # agreed matches, in order
    disputed: int = 0  # the disputed match an admin ruled
    corrected: int = 0  # a finished match re-ruled later
    banned: str = "Mallory"
    banned_match: int = 0  # a match the banned player played
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def all_ids(self) -> list[int]:
        """Every Discord id in the seed: none may show on a public page."""
        return [*self.uids.values(), ADMIN_UID]


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _ladder_services(db: Database, players: PlayerRepository, config: LadderConfig, clock):
    """(queue, matches, admin): the ladder's services as bot.py builds them."""
    core = LadderCore(db, players, config, clock=clock)
    return QueueService(core, rng=random.Random(7)), MatchService(core), AdminService(core)


async def seed_ladder(path: Path, *, now: datetime | None = None) -> Seeded:
    """Write the seed ladder to a new SQLite file at `path`; matches end before `now`."""
    now = now or datetime.now(UTC)
    config = load_ladder_config(CONFIG_PATH)
    clock = _Clock(now - timedelta(days=3))
    seeded = Seeded(path, config, {name: uid for uid, name, _, _ in PLAYERS}, started_at=now)
    db = await Database.open(path)
    try:
        players = PlayerRepository(db, PlayerCache())
        for uid, name, country, region in PLAYERS:
            await players.record_terms(uid, f"discord_{uid % 1000}", accepted=True)
            draft = ProfileDraft(name, f"Tag{uid % 1000}#1234", (), country, region)
            await players.save_profile(uid, f"discord_{uid % 1000}", draft)
        queue, matches, admin = _ladder_services(db, players, config, clock)
        u = seeded.uids

        async def play(a: str, b: str, race: str, report_a: str, report_b: str) -> int:
            clock.now += timedelta(hours=1, minutes=7)
            await queue.join_queue(u[a], [race], [])
            await queue.join_queue(u[b], [race], [])
            made = []
            for _ in range(30):  # the window widens each wave until they meet
                made = await queue.run_wave()
                if made:
                    break
            assert len(made) == 1, "the seed's two players were not paired"
            match_id = made[0].id
            await matches.confirm(match_id, u[a])
            await matches.confirm(match_id, u[b])
            clock.now += timedelta(minutes=20)
            await matches.report(match_id, u[a], report_a)
            await matches.report(match_id, u[b], report_b)
            return match_id

        games: list[tuple[str, str, str, str, str]] = [
            ("Alice", "Bob", TERRAN, "win", "loss"),
            ("Carol", "Dave", TERRAN, "win", "loss"),
            ("Alice", "Carol", TERRAN, "win", "loss"),
            ("Bob", "Dave", TERRAN, "draw", "draw"),
            ("Alice", SCRIPT_NAME, ZERG, "loss", "win"),
            (IMG_NAME, "Erin", TERRAN, "win", "loss"),
            ("Mallory", "Bob", TERRAN, "win", "loss"),
            ("Alice", "Dave", TERRAN, "win", "loss"),
            ("Erin", "Carol", ZERG, "win", "loss"),
            (SCRIPT_NAME, "Bob", ZERG, "loss", "win"),
            ("Alice", "Bob", TERRAN, "loss", "win"),
        ]
        for game in games:
            seeded.played.append(await play(*game))
        seeded.banned_match = seeded.played[6]

        # A dispute: both claim the win, both bring evidence, an admin rules for Alice.
        seeded.disputed = await play("Alice", "Carol", TERRAN, "win", "win")
        await matches.add_evidence(seeded.disputed, u["Alice"], HOSTILE_NOTE, SAFE_URL)
        await matches.add_evidence(seeded.disputed, u["Carol"], "my replay", "https://x.example/")
        # A link /dispute refuses today, as an older ladderbot stored it: straight through the
        # repository. The page must show it as text and never link it.
        async with db.transaction() as conn:
            dispute = await DisputeRepository().of_match(conn, seeded.disputed)
            assert dispute is not None
            await DisputeRepository().add_evidence(
                conn, dispute.id, u["Carol"], None, JS_URL, clock.now
            )
        clock.now += timedelta(hours=2)
        await admin.resolve_match(ADMIN_UID, seeded.disputed, "p1_win", "replay shows <Alice>")

        # A correction: the first Alice–Bob match is ruled a draw afterwards.
        clock.now += timedelta(hours=1)
        seeded.corrected = seeded.played[0]
        await admin.resolve_match(ADMIN_UID, seeded.corrected, "draw", "wrong report")

        # Queue joins that never became matches.
        for name in ("Dave", "Erin"):
            clock.now += timedelta(minutes=30)
            await queue.join_queue(u[name], [TERRAN], [])
        await admin.ban(ADMIN_UID, u["Mallory"], "cheating")
    finally:
        await db.close()
    return seeded


@dataclass
class Site:
    """The website's services on an open database; `close()` when done."""

    db: Database
    services: WebServices
    standings_loaded_at: datetime

    async def close(self) -> None:
        await self.db.close()


async def open_site(
    path: Path,
    *,
    clock: Callable[[], datetime] | None = None,
    page_size: int | None = None,
    base_url: str | None = None,
) -> Site:
    """Open the database and build the website's services as bot.py does."""
    config = load_ladder_config(CONFIG_PATH)
    db = await Database.open(path)
    now = (clock or (lambda: datetime.now(UTC)))()
    repository = LeaderboardRepository(db, aborts_per_month=config.matches.aborts_per_month)
    standings = await repository.load_standings(
        now,
        races=config.race_codes,
        shares=config.ranks.shares,
        inactive_days=config.ranks.inactive_days,
    )
    extra: dict[str, Any] = {} if page_size is None else {"page_size": page_size}
    if clock:
        extra["clock"] = clock
    public = PublicLadder(
        config,
        standings,
        LeaderboardService(repository, standings),
        HistoryRepository(db),
        **extra,
    )
    return Site(db, WebServices(public=public, base_url=base_url), now)
