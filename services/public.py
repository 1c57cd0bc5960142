"""What the public website shows: the leaderboard, players, matches and activity.

Read-only use cases for web/. The leaderboard comes from the same in-memory `Standings` as
/leaderboard (the same order, letters and filters, the region included; `Standings.page_among`
for a name search), a player's ratings and record from the same `LeaderboardService.profile` as
/profile. What only the site shows (rating history, a match's page, when people play) is read
by `storage.history` on the read-only connection, so a page never waits behind a write or the
command log writer.

Public means what players already see in Discord: names, countries, ratings, matches. Nothing
here returns a Discord id to show (uids stay inside, as keys), and a banned player is only
"banned".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from ladder.config import LadderConfig
from ladder.countries import country_name
from ladder.history import MatchLine, MatchStory, PublicPlayer, RatingPoint
from ladder.ranks import Rank
from ladder.records import ProfileRating, Record
from ladder.standings import LeaderboardFilters, LeaderboardPage, Standings
from services.leaderboard import LeaderboardService
from services.replays import ReplayService
from storage.history import HistoryRepository

PAGE_SIZE = 25
SEARCH_MAX = 32  # characters of a name search; longer ones are cut
ACTIVITY_CACHE_SECONDS = 60.0  # the activity counts, read again at most this often
MATCHES_SHOWN = 20  # a player's latest matches on their page
NO_GAMES = Record(0, 0, 0)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """One view of the leaderboard; every field comes from the URL and is checked."""

    race: str | None = None
    region: str | None = None
    country: str | None = None
    rank: str | None = None
    best_race_only: bool = False
    search: str | None = None
    page: int = 1

    @property
    def filters(self) -> LeaderboardFilters:
        return LeaderboardFilters(
            self.race, self.country, self.rank, self.best_race_only, self.region
        )


@dataclass(frozen=True, slots=True)
class RaceRating:
    """A player's rating in one race, with their place on the ladder (None: unranked)."""

    race: str
    mmr: int
    games: int
    record: Record
    last_played_at: datetime | None
    rank: Rank | None


@dataclass(frozen=True, slots=True)
class PlayerPage:
    """A player's page. A banned player's has their name and nothing else."""

    player: PublicPlayer
    ratings: tuple[RaceRating, ...] = ()
    overall: Record = NO_GAMES
    windows: tuple[tuple[int, Record], ...] = ()
    last_played_at: datetime | None = None
    history: dict[str, list[RatingPoint]] | None = None  # race -> points, oldest first
    matches: tuple[MatchLine, ...] = ()
    inactive_days: int = 14


@dataclass(frozen=True, slots=True)
class Activity:
    """Matches made and queue joins per weekday (Monday first) and hour, in one time zone."""

    zone: str
    matches: tuple[tuple[int, ...], ...]  # [weekday][hour]
    queue_joins: tuple[tuple[int, ...], ...]

    @property
    def busiest(self) -> int:
        return max((n for grid in (self.matches, self.queue_joins) for row in grid for n in row),
                   default=0)


@dataclass(frozen=True, slots=True)
class Board:
    """A leaderboard page and the choices its filter form offers."""

    query: BoardQuery
    page: LeaderboardPage
    inactive_days: int


class PublicLadder:
    """The website's reads, over the standings, the leaderboard service and the history."""

    def __init__(
        self,
        config: LadderConfig,
        standings: Standings,
        leaderboard: LeaderboardService,
        history: HistoryRepository,
        *,
        clock: Callable[[], datetime] = utc_now,
        page_size: int = PAGE_SIZE,
        replays: ReplayService | None = None,
    ) -> None:
        self.config = config
        self._replays = replays  # a match's replays on its page (None: not shown)
        self.standings = standings
        self._leaderboard = leaderboard
        self._history = history
        self._clock = clock
        self.page_size = page_size
        self.race_names: Mapping[str, str] = config.race_names  # in the current language
        self.region_names: Mapping[str, str] = config.region_names
        # Matches per UTC hour so far (only newer matches are read again), and queue joins.
        self._match_hours: dict[int, int] = {}
        self._last_match_id = 0
        self._join_hours: dict[int, int] = {}
        self._activity_read_at: float | None = None
        self._activity: dict[tuple[str, int | None], Activity] = {}
        self._activity_lock = asyncio.Lock()

    async def open_reads(self) -> None:
        """Give the site's history reads a read-only connection of their own (web/app.py calls
        this when the site starts): a slow page query then never queues ahead of the bot's."""
        await self._history.open_own_reader()

    async def close_reads(self) -> None:
        await self._history.close()

    # --- the leaderboard --------------------------------------------------------------------

    def parse_query(self, params: Mapping[str, str]) -> BoardQuery:
        """Read a leaderboard view from URL parameters; anything unknown means "all"."""

        def get(name: str) -> str:
            return str(params.get(name, "") or "").strip()

        race = get("race") if get("race") in self.race_names else None
        region = get("region").upper() if get("region").upper() in self.region_names else None
        code = get("country").upper()
        country = code if len(code) == 2 and country_name(code) != code else None
        rank = get("rank").upper() if get("rank").upper() in self.standings.letters else None
        best = get("best") in ("1", "on", "true", "yes")
        search = get("q")[:SEARCH_MAX] or None
        return BoardQuery(race, region, country, rank, best, search, page_number(get("page")))

    async def board(self, query: BoardQuery) -> Board:
        """One page of the leaderboard as /leaderboard would show it (the region is one more
        filter of the same standings), narrowed to a name search's players if asked; a page
        past the end shows the last one."""
        now = self._clock()
        await self._leaderboard.name_new_players()
        if query.search is None:
            page = self.standings.page(query.filters, query.page, self.page_size, now=now)
        else:
            uids = self.standings.players_named(query.search)
            page = self.standings.page_among(
                uids, query.filters, query.page, self.page_size, now=now
            )
        return Board(query, page, self.standings.inactive_days)

    def countries(self) -> list[tuple[str, str]]:
        """(code, name) of the countries with ranked players, most players first."""
        return [(code, country_name(code)) for code, _ in self.standings.countries(self._clock())]

    # --- players and matches ----------------------------------------------------------------

    async def player(self, name: str) -> PlayerPage | None:
        """A player's page by their name (any case), or None if nobody has that name."""
        player = await self._history.player(name)
        if player is None:
            return None
        if player.banned:
            return PlayerPage(player)
        now = self._clock()
        # Queued together: the read-only connection's thread runs them back to back.
        profile, points, matches = await asyncio.gather(
            self._leaderboard.profile(player.uid, now),
            self._history.rating_history(player.uid),
            self._history.matches_of(player.uid, MATCHES_SHOWN),
        )
        history: dict[str, list[RatingPoint]] = {}
        for point in points:
            history.setdefault(point.race, []).append(point)
        return PlayerPage(
            player=player,
            ratings=tuple(self._race_rating(player.uid, r, now) for r in profile.ratings),
            overall=profile.overall,
            windows=profile.windows,
            last_played_at=profile.last_played_at,
            history=history,
            matches=tuple(matches),
            inactive_days=self.standings.inactive_days,
        )

    def _race_rating(self, uid: int, rating: ProfileRating, now: datetime) -> RaceRating:
        return RaceRating(
            rating.race,
            rating.mmr,
            rating.games,
            rating.record,
            rating.last_played_at,
            self.standings.rank(uid, rating.race, now),
        )

    async def match(self, match_id: int) -> MatchStory | None:
        """Everything public about a match, or None if there is no such match."""
        if not 0 < match_id < 1 << 63:
            return None
        story = await self._history.match(match_id)
        if story is not None and self._replays is not None:
            story = replace(story, replays=tuple(await self._replays.of_match(match_id)))
        return story

    # --- activity ---------------------------------------------------------------------------

    async def _read_activity(self) -> None:
        """Add the matches made since the last read, a chunk at a time, and read the queue
        joins again."""
        while True:
            new, last, seen = await self._history.match_hours(self._last_match_id)
            for hour, n in new.items():
                self._match_hours[hour] = self._match_hours.get(hour, 0) + n
            self._last_match_id = last
            if seen == 0:
                break
        self._join_hours = await self._history.queue_join_hours()
        self._activity_read_at = time.monotonic()
        self._activity.clear()

    async def activity(self, zone: str | None, weeks: int | None = None) -> Activity:
        """Matches made and queue joins per weekday × hour in `zone` (an IANA name; UTC if
        unknown), over the last `weeks` weeks (None: all time); the counts are read again at
        most once a minute."""
        zone = zone if zone is not None and zone in time_zones() else "UTC"
        read_at = self._activity_read_at
        if read_at is None or time.monotonic() - read_at >= ACTIVITY_CACHE_SECONDS:
            async with self._activity_lock:  # one reader at a time: counts are added once
                if self._activity_read_at == read_at:
                    await self._read_activity()
        key = (zone, weeks)
        cached = self._activity.get(key)
        if cached is None:
            tz = ZoneInfo(zone)
            since = None if weeks is None else int(time.time()) // 3600 - weeks * 7 * 24
            cached = self._activity[key] = Activity(
                zone, _grid(self._match_hours, tz, since), _grid(self._join_hours, tz, since)
            )
        return cached


def page_number(text: str) -> int:
    """A page number from the URL: anything that is not a positive number is page 1, and a
    huge one is cut to a size the standings clamp to their last page."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        return 1
    return max(1, min(int(digits[:12]), 10**12))


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names this machine knows."""
    return frozenset(available_timezones() | {"UTC"})


def _grid(
    hours: dict[int, int], tz: ZoneInfo, since: int | None = None
) -> tuple[tuple[int, ...], ...]:
    """Counts per UTC hour (hours since the epoch; from hour `since` on, if given) →
    [weekday][hour] in `tz`, with each hour's own UTC offset (daylight saving time included)."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    for hour, n in hours.items():
        if since is not None and hour < since:
            continue
        local = datetime.fromtimestamp(hour * 3600, tz)
        grid[local.weekday()][local.hour] += n
    return tuple(tuple(row) for row in grid)
