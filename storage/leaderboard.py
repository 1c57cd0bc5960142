"""Read-only queries for the leaderboard and /profile, straight from SQLite.

`LeaderboardRepository` writes nothing. It loads what `ladder.standings.Standings` needs at
start-up (one query, read in batches), re-reads a player's ratings rows to keep the standings
current, and gathers a player's /profile numbers: ratings per race, W/L/D overall and over the
last 14/30/90 days (finished matches, by when they ended), recent matches and aborts left.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from cache.profiles import ProfileCache
from ladder.config import DEFAULT_RANK_SHARES
from ladder.ranks import Shares
from ladder.records import Aborts, Profile, ProfileRating, RecentMatch, Record
from ladder.standings import ProvisionalRule, Standings
from storage.database import CHANGED_FUNCTION as _CHANGED
from storage.database import Database, format_time, parse_time

RECORD_WINDOWS = (14, 30, 90)  # days
LOAD_BATCH = 5000

# Everything Standings.load needs, one row per (player, race); see ladder.standings.StandingsRow.
STANDINGS_SQL = """
SELECT r.discord_uid, r.race, r.mmr, r.games, r.wins, r.losses, r.draws, r.last_played_at,
       COALESCE(p.player_name, p.discord_name), p.country, p.banned, p.region,
       r.deviation, r.volatility
  FROM ratings AS r JOIN players AS p ON p.discord_uid = r.discord_uid
"""

# The ratings rows of some players, to feed rating changes into Standings.apply.
RATINGS_OF_SQL = """
SELECT discord_uid, race, mmr, games, wins, losses, draws, last_played_at
  FROM ratings WHERE discord_uid IN ({marks})
"""

# Some players' names, countries, ban flags and regions, for Standings.set_player.
PLAYERS_SQL = """
SELECT discord_uid, COALESCE(player_name, discord_name) AS name, country, banned, region
  FROM players WHERE discord_uid IN ({marks})
"""

# One player's rating in each race they have one for.
RATINGS_SQL = """
SELECT race, mmr, games, wins, losses, draws, last_played_at, deviation, volatility
  FROM ratings WHERE discord_uid = ? ORDER BY race
"""

# The player's finished matches seen from their side (each side reads its own index), read
# once: the latest :limit of them, with the opponent's shown name, each row also carrying the
# player's totals over all of them (one plain aggregate, joined to every row): W/L/D overall,
# then W/L/D with ended_at >= :since_<days> for each window. No finished match, no row.
# (Window functions, `SUM(...) OVER ()`, gave the same rows in 180 us instead of 131.)
_MATCHES_SQL = """
WITH mine AS (
    SELECT id, ended_at, player1_race AS race, player2_uid AS opponent,
           player2_race AS opponent_race, map,
           CASE result WHEN 'p1_win' THEN 'win' WHEN 'p2_win' THEN 'loss' WHEN 'draw' THEN 'draw'
           END AS outcome,
           player1_mmr AS mmr_before, mmr_change AS change
      FROM matches WHERE player1_uid = :uid AND status = 'finished'
    UNION ALL
    SELECT id, ended_at, player2_race, player1_uid, player1_race, map,
           CASE result WHEN 'p2_win' THEN 'win' WHEN 'p1_win' THEN 'loss' WHEN 'draw' THEN 'draw'
           END,
           player2_mmr, -mmr_change
      FROM matches WHERE player2_uid = :uid AND status = 'finished'
),
totals AS (SELECT {totals} FROM mine),
latest AS (SELECT * FROM mine ORDER BY ended_at DESC, id DESC LIMIT :limit)
SELECT latest.*, totals.*, COALESCE(p.player_name, p.discord_name) AS opponent_name
  FROM latest CROSS JOIN totals LEFT JOIN players AS p ON p.discord_uid = latest.opponent
 ORDER BY ended_at DESC, id DESC
"""


def _matches_sql(windows: Sequence[int]) -> str:
    totals = []
    for since in ["TRUE"] + [f"ended_at >= :since_{days}" for days in windows]:
        for outcome in ("win", "loss", "draw"):
            totals.append(f"SUM(outcome = '{outcome}' AND {since})")
    columns = [f"{total} AS total_{i}" for i, total in enumerate(totals)]
    # The oldest match in each window: the clock takes it out at ended_at + days.
    columns += [
        f"MIN(CASE WHEN ended_at >= :since_{days} THEN ended_at END) AS oldest_{days}"
        for days in windows
    ]
    return _MATCHES_SQL.format(totals=", ".join(columns))


def _follow(table: str, uids: tuple[str, ...], row_filter: str = "") -> list[str]:
    """AFTER INSERT, UPDATE and DELETE triggers on `table` naming the players in its `uids`
    columns, of the row before and after; only for rows passing `row_filter` (on `{row}`)."""
    triggers = []
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        when = " OR ".join(row_filter.format(row=row) for row in rows) if row_filter else "1"
        calls = ", ".join(f"{_CHANGED}({row}.{column})" for row in rows for column in uids)
        triggers.append(
            f"CREATE TEMP TRIGGER IF NOT EXISTS profile_{table}_{event.lower()} AFTER {event}"
            f" ON main.{table} WHEN {when} BEGIN SELECT {calls}; END"
        )
    return triggers


# What a profile is made of, followed on the writer (Database.follow_player_changes): a player's
# ratings, finished matches (either side; a match leaving 'finished' too) and aborts, and any
# player's shown name (an opponent's in others' recent matches: every profile is dropped).
# A new player changes none: every match names existing players (foreign keys).
PROFILE_TRIGGERS = (
    *_follow("ratings", ("discord_uid",)),
    *_follow("matches", ("player1_uid", "player2_uid"), "{row}.status = 'finished'"),
    *_follow("aborts", ("discord_uid",)),
    "CREATE TEMP TRIGGER IF NOT EXISTS profile_names_update AFTER UPDATE ON main.players"
    " WHEN OLD.player_name IS NOT NEW.player_name OR OLD.discord_name IS NOT NEW.discord_name"
    f" BEGIN SELECT {_CHANGED}(NULL); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS profile_names_delete AFTER DELETE ON main.players"
    f" BEGIN SELECT {_CHANGED}(NULL); END",
)


# Aborts the player has spent in one UTC calendar month.
ABORTS_SQL = "SELECT used FROM aborts WHERE discord_uid = ? AND month = ?"


def month_of(now: datetime) -> str:
    """Return the UTC calendar month 'YYYY-MM' the aborts table keys on."""
    return format_time(now)[:7]


def next_month(now: datetime) -> datetime:
    """The first moment of the UTC calendar month after `now`'s."""
    now = now.astimezone(UTC)
    year, month = divmod(now.year * 12 + now.month, 12)  # month is 0-based here
    return datetime(year, month + 1, 1, tzinfo=UTC)


class LeaderboardRepository:
    """Read-only: loads the standings and gathers /profile data."""

    def __init__(
        self,
        db: Database,
        *,
        aborts_per_month: int = 3,
        windows: Sequence[int] = RECORD_WINDOWS,
        recent_limit: int = 5,
        cache: ProfileCache | None = None,
    ) -> None:
        self._db = db
        self.aborts_per_month = aborts_per_month
        self.windows = tuple(windows)
        self.recent_limit = recent_limit
        self._matches_sql = _matches_sql(self.windows)
        self.cache = cache if cache is not None else ProfileCache()

    async def follow_changes(self) -> bool:
        """Keep profiles between their changes, where every write can be followed (SQLite);
        return whether it can. Called once, at start-up."""
        self.cache.enabled = await self._db.follow_player_changes(
            PROFILE_TRIGGERS, self.cache.changed
        )
        return self.cache.enabled

    # --- the standings ---------------------------------------------------------------------

    async def load_standings(
        self,
        now: datetime,
        *,
        races: Iterable[str] = (),
        shares: Shares = DEFAULT_RANK_SHARES,
        inactive_days: int = 14,
        provisional: ProvisionalRule | None = None,
        require_settled: bool = False,
        min_games: int = 0,
    ) -> Standings:
        """Build the Standings from every ratings row, read in batches (one query)."""
        standings = Standings(
            races,
            shares,
            inactive_days,
            now,
            provisional=provisional,
            require_settled=require_settled,
            min_games=min_games,
        )
        # Streamed at start-up, before anything else reads: 100k rows never sit in one list.
        async with self._db.reader.raw.execute(STANDINGS_SQL) as cursor:
            while rows := await cursor.fetchmany(LOAD_BATCH):
                standings.add_rows(rows)
        standings.rebuild(now)
        return standings

    async def refresh_players(self, standings: Standings, uids: Iterable[int]) -> None:
        """Re-read these players' names, countries and ban flags into the standings."""
        wanted = sorted(set(uids))
        for lo in range(0, len(wanted), 500):  # SQLite allows 32766 parameters; stay modest
            batch = wanted[lo : lo + 500]
            sql = PLAYERS_SQL.format(marks=", ".join("?" * len(batch)))
            for row in await self._rows(sql, batch):
                standings.set_player(
                    row["discord_uid"],
                    row["name"],
                    row["country"],
                    banned=bool(row["banned"]),
                    region=row["region"],
                )

    async def name_new_players(self, standings: Standings) -> None:
        """Fill in the players the standings met in a rating change but know no name of."""
        unnamed = standings.unnamed()
        if unnamed:
            await self.refresh_players(standings, unnamed)

    # --- /profile --------------------------------------------------------------------------

    async def profile(self, uid: int, now: datetime) -> Profile:
        """Gather the player's ratings, records, recent matches and aborts as of `now`."""
        cached = self.cache.get(uid, now)
        if cached is not None:
            return cached
        generation = self.cache.generation
        # One after the other: each is an index lookup that runs inline (storage/database.py).
        ratings = await self.ratings(uid)
        overall, windows, recent, until = await self._matches(uid, now, self.recent_limit)
        aborts = await self.aborts(uid, now)
        played = [r.last_played_at for r in ratings if r.last_played_at is not None]
        profile = Profile(
            uid=uid,
            ratings=ratings,
            overall=overall,
            windows=windows,
            last_played_at=max(played, default=None),
            recent=recent,
            aborts=aborts,
        )
        self.cache.put(uid, profile, now, min(until, next_month(now)), generation)
        return profile

    async def ratings(self, uid: int) -> tuple[ProfileRating, ...]:
        """Return the player's rating in each race they have one for, by race code."""
        rows = await self._rows(RATINGS_SQL, (uid,))
        return tuple(
            ProfileRating(
                race=row["race"],
                mmr=row["mmr"],
                games=row["games"],
                record=Record(row["wins"], row["losses"], row["draws"]),
                last_played_at=parse_time(row["last_played_at"]),
                deviation=row["deviation"],
                volatility=row["volatility"],
            )
            for row in rows
        )

    async def matches(
        self, uid: int, now: datetime, limit: int
    ) -> tuple[Record, tuple[tuple[int, Record], ...], tuple[RecentMatch, ...]]:
        """Return W/L/D over all finished matches, over each window ending at `now`, and the
        latest `limit` finished matches (newest first), from one scan of the player's matches."""
        overall, windows, recent, _ = await self._matches(uid, now, limit)
        return overall, windows, recent

    async def _matches(
        self, uid: int, now: datetime, limit: int
    ) -> tuple[Record, tuple[tuple[int, Record], ...], tuple[RecentMatch, ...], datetime]:
        """`matches`, and the moment the clock alone changes its windows' totals: when the
        oldest match in a window leaves it (a window counts ended_at >= the millisecond
        `days` before now; datetime.max if no window holds a match)."""
        params: dict[str, object] = {"uid": uid, "limit": max(1, limit)}
        for days in self.windows:
            params[f"since_{days}"] = format_time(now - timedelta(days=days))
        rows = await self._rows(self._matches_sql, params)
        n = 3 * (1 + len(self.windows))
        totals = [rows[0][f"total_{i}"] or 0 for i in range(n)] if rows else [0] * n
        overall = Record(*totals[:3])
        windows = tuple(
            (days, Record(*totals[3 + 3 * i : 6 + 3 * i])) for i, days in enumerate(self.windows)
        )
        recent = tuple(
            RecentMatch(
                match_id=row["id"],
                ended_at=parse_time(row["ended_at"]),
                race=row["race"],
                opponent_uid=row["opponent"],
                opponent_name=row["opponent_name"],
                opponent_race=row["opponent_race"],
                map=row["map"],
                result=row["outcome"],
                mmr_before=row["mmr_before"],
                mmr_change=row["change"],
            )
            for row in rows[:limit]
        )
        until = datetime.max.replace(tzinfo=UTC)
        for days in self.windows if rows else ():
            oldest = rows[0][f"oldest_{days}"]
            if oldest is not None:
                until = min(until, parse_time(oldest) + timedelta(days=days, milliseconds=1))
        return overall, windows, recent, until

    async def aborts(self, uid: int, now: datetime) -> Aborts:
        """Return the aborts the player spent in `now`'s UTC month and the allowance."""
        month = month_of(now)
        rows = await self._rows(ABORTS_SQL, (uid, month))
        return Aborts(month, rows[0]["used"] if rows else 0, self.aborts_per_month)

    async def _rows(self, sql: str, params: Sequence[object] | dict) -> list[sqlite3.Row]:
        # One trip to the connection's thread (execute + fetchall), not three as with a cursor.
        return list(await self._db.reader.execute_fetchall(sql, params))
