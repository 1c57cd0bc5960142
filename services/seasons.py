"""Seasons: start the next one (archive, soft reset) in one transaction, and read past ones.

`start` ends the current season and opens the next in ONE write transaction: the season's
final standings are archived (as `ladder.seasons.final_standings` makes them), every rating
is carried into the new season by the configured soft reset, every record (games, W/L/D)
starts from zero, and the admin action is logged. A crash or restart before the commit leaves
the old season untouched; after it, everything has moved. Queued players stay queued; a match
still being played belongs to the old season (it was created there), and its result,
whenever it comes, corrects that season's archive (`services.ratings.RatingLedger.replay_from`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from i18n import N_
from ladder.config import LadderConfig
from ladder.errors import ValidationError
from ladder.rating_systems import SeasonBreak
from ladder.seasons import (
    ArchivedEntry,
    Season,
    places_by_rating,
    soft_resets,
    valid_season_name,
)
from ladder.standings import to_micros
from services.ladder_core import LadderCore
from storage.admin import AdminActionRepository
from storage.seasons import SeasonRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeasonStatus:
    """The current season and how many matches of it are still open."""

    season: Season
    map_pool: tuple[str, ...]
    rated_matches: int
    open_matches: int
    players: int
    ended: tuple[Season, ...]


@dataclass(frozen=True, slots=True)
class SeasonStarted:
    """What `start` did: the season that ended, the one that began, the archive's size."""

    ended: Season
    started: Season
    archived: int
    ranked: int
    open_matches: int


ARCHIVE_PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One page of an ended season's final standings: the ranked entries (by place) that
    the filters keep, each with its player's shown name."""

    season: Season
    entries: tuple[tuple[ArchivedEntry, str], ...]
    page: int
    page_size: int
    total_entries: int  # ranked entries the filters keep
    ranked_entries: int  # ranked entries of the season

    @property
    def total_pages(self) -> int:
        return max(1, -(-self.total_entries // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.total_pages


@dataclass(frozen=True, slots=True)
class ArchivedPlayer:
    """A player's entries in an ended season's final standings (none if banned now)."""

    season: Season
    name: str
    banned: bool
    entries: tuple[ArchivedEntry, ...]


class SeasonService:
    """Season use cases on the ladder's shared core.

    `on_season_changed` gets every ratings row after a season start has committed, as
    `ladder.standings.Standings.apply` takes them (plain tuples: see
    `SeasonRepository.standings_rows`).
    """

    def __init__(
        self,
        core: LadderCore,
        *,
        on_season_changed: Callable[[list[tuple[Any, ...]]], None] | None = None,
        next_map_pool: tuple[str, ...] | None = None,
    ) -> None:
        self._core = core
        self._next_map_pool = next_map_pool
        self._seasons = SeasonRepository()
        self._admin = AdminActionRepository()
        self.on_season_changed = on_season_changed
        self.page_size = ARCHIVE_PAGE_SIZE  # an archive page's entries (the website's)

    @property
    def config(self) -> LadderConfig:
        return self._core.config

    async def current(self) -> Season:
        """Return the current season (read from the last committed state)."""
        return await self._seasons.current(self._core.reader)

    async def map_pool(self) -> tuple[str, ...]:
        """Return the current season's map pool (season 1's is the one in the settings)."""
        season = await self.current()
        return season.map_pool or self.config.map_pool

    async def use_current_map_pool(self) -> tuple[str, ...]:
        """Make the ladder play the current season's map pool (at start-up); return it."""
        pool = await self.map_pool()
        self._core.use_map_pool(pool)
        return pool

    async def all(self) -> list[Season]:
        return await self._seasons.all(self._core.reader)

    async def get(self, number: int) -> Season:
        """Return season `number`, or a ValidationError naming the seasons there are."""
        season = await self._seasons.get(self._core.reader, number)
        if season is None:
            current = await self.current()
            raise ValidationError(
                "season",
                N_("There is no season {number}: seasons run from 1 to {last}."),
                number=number,
                last=current.number,
            )
        return season

    async def archive(self, number: int) -> list[ArchivedEntry]:
        """Return an ended season's final standings (ValidationError for the current one)."""
        season = await self.get(number)
        if season.is_current:
            raise ValidationError(
                "season",
                N_("Season {number} is the current season: it has no final standings yet."),
                number=number,
            )
        return await self._seasons.archive(self._core.reader, number)

    async def standings_of(
        self, number: int, *, top: int = 20, uid: int | None = None
    ) -> tuple[Season, list[ArchivedEntry], dict[int, str]]:
        """Return an ended season, its `top` ranked entries (and `uid`'s, wherever they are)
        and the names of the players in them."""
        season = await self.ended(number)
        reader = self._core.reader
        # Only the rows shown are read: a 100k-entry archive read whole took longer than
        # Discord's 3 seconds for a first answer on a busy machine.
        shown: list[ArchivedEntry] = []
        if top > 0:
            page, _, _ = await self._seasons.ranked_page(reader, number, offset=0, limit=top)
            shown = [e for e, _ in page]
        if uid is not None:
            mine = await self._seasons.archive_of_player(reader, number, uid)
            shown += [e for e in mine if e not in shown]
        names = await self._seasons.names(reader, {e.uid for e in shown})
        return season, shown, names

    async def ended(self, number: int) -> Season:
        """Return ended season `number`; ValidationError if there is none or it is current."""
        season = await self.get(number)
        if season.is_current:
            raise ValidationError(
                "season",
                N_("Season {number} is the current season: it has no final standings yet."),
                number=number,
            )
        return season

    async def archive_page(
        self,
        number: int,
        *,
        race: str | None = None,
        rank: str | None = None,
        search: str | None = None,
        page: int = 1,
        page_size: int | None = None,
    ) -> ArchivePage:
        """One page of an ended season's ranked entries, filtered by race, rank letter and a
        part of the name; a page past the end shows the last one, a page below 1 the first."""
        season = await self.ended(number)
        page_size = page_size or self.page_size
        page = max(page, 1)
        while True:
            entries, total, ranked = await self._seasons.ranked_page(
                self._core.reader,
                number,
                race=race,
                rank=rank,
                search=search,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
            last = max(1, -(-total // page_size))
            if page <= last:
                break
            page = last  # past the end: the last page (read again)
        return ArchivePage(season, tuple(entries), page, page_size, total, ranked)

    async def archived_player(self, number: int, name: str) -> ArchivedPlayer | None:
        """A player's entries in ended season `number` by their name (any case), or None if
        nobody has that name; a player banned now shows none."""
        season = await self.ended(number)
        reader = self._core.reader
        found = await self._seasons.player_named(reader, name)
        if found is None:
            return None
        uid, shown, banned = found
        if banned:
            return ArchivedPlayer(season, shown, True, ())
        entries = await self._seasons.archive_of_player(reader, number, uid)
        return ArchivedPlayer(season, shown, False, tuple(entries))

    async def status(self) -> SeasonStatus:
        reader = self._core.reader
        season = await self._seasons.current(reader)
        rows = await _all(
            reader,
            "SELECT COUNT(*) FILTER (WHERE status = 'finished'),"
            " COUNT(*) FILTER (WHERE status IN ('awaiting_confirmation', 'in_progress',"
            " 'disputed')) FROM matches WHERE season = ?",
            (season.number,),
        )
        players = await _all(
            reader, "SELECT COUNT(DISTINCT discord_uid) FROM ratings WHERE games > 0"
        )
        ended = tuple(s for s in await self._seasons.all(reader) if not s.is_current)
        return SeasonStatus(
            season,
            season.map_pool or self.config.map_pool,
            rows[0][0],
            rows[0][1],
            players[0][0],
            ended,
        )

    async def start(self, admin_uid: int, name: str | None) -> SeasonStarted:
        """End the current season and open the next one named `name`, in one transaction."""
        name = valid_season_name(name)
        core = self._core
        system = core.ledger.system
        config = self.config
        async with core.write() as conn:
            now = core.now()
            now_us = to_micros(now)
            current = await self._seasons.current(conn)
            ending = await self._seasons.season_end(conn, system)
            banned = set(await self._seasons.banned(conn))
            # The final standings: a ranked entry's place and letter follow from its shown
            # rating alone (`places_by_rating`), so the database copies every row into the
            # archive and joins the few hundred distinct places (`archive_season`).
            ranked_ratings = [m for (uid, _), m, games, _ in ending if games and uid not in banned]
            places = places_by_rating(ranked_ratings, config.ranks.shares)
            provisional = [k for k, _, _, state in ending if system.provisional(state, now_us)]
            await self._seasons.archive_season(conn, current.number, system, places, provisional)
            mode, fraction = config.season.soft_reset, config.season.pull_fraction
            started = await self._seasons.open_next(
                conn,
                name,
                now,
                self._next_map_pool or config.map_pool,
                system.name,
                mode,
                fraction,
                asdict(config.rating),
            )
            if mode == "reset":
                await self._seasons.reset_all(conn, system.start)
            elif mode == "pull":
                resets = soft_resets(system, (e[3] for e in ending), SeasonBreak(mode, fraction))
                await self._seasons.apply_soft_reset(conn, system, resets)
            # "keep": the ratings stay as they are; only the records start again (below).
            await self._seasons.write_records(conn, {}, clear_others=True)
            open_rows = await _all(
                conn,
                "SELECT COUNT(*) FROM matches WHERE season = ? AND status IN"
                " ('awaiting_confirmation', 'in_progress', 'disputed')",
                (current.number,),
            )
            archived, ranked = len(ending), len(ranked_ratings)
            await self._admin.record(
                conn,
                admin_uid,
                "season_start",
                f"season:{started.number}",
                {
                    "ended": current.number,
                    "started": started.number,
                    "name": name,
                    "soft_reset": mode,
                    "pull_fraction": fraction,
                    "archived": archived,
                    "ranked": ranked,
                },
                None,
                now,
            )
        # Committed: the next wave draws from the new season's pool. No await since the
        # commit, so no wave can run between the two.
        core.use_map_pool(started.map_pool or config.map_pool)
        ended = await self._seasons.get(core.reader, current.number)
        assert ended is not None
        log.info(
            "Season %s (%s) ended, %d entries archived; season %s (%s) began with %s",
            current.number, current.name, archived, started.number, name, mode,
        )  # fmt: skip
        if self.on_season_changed is not None:
            try:
                # After the commit, from the reader: the standings take every new rating.
                self.on_season_changed(await self._seasons.standings_rows(core.reader))
            except Exception:  # committed; the standings reload at the next start anyway
                log.exception("on_season_changed failed")
        return SeasonStarted(ended, started, archived, ranked, open_rows[0][0])


async def _all(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
