"""Seasons, their archived standings, and ratings as full `RatingState`s.

The rating log's entries carry their season (set by a trigger, see migration 0010), so a
season's log is `WHERE season = ?` in log order. A (player, race)'s state lives in its
`ratings` row: `mmr` (shown), `rating`, `deviation`, `volatility` (NULL: as a new rating of
the system), `games` this season and `last_played_at`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from ladder.names import name_key
from ladder.rating import LoggedAdjustment, RatingKey
from ladder.rating_systems import RatingState, RatingSystem, TimedEntry, TimedMatch
from ladder.seasons import ArchivedEntry, Record, Season
from ladder.standings import to_micros
from storage.database import format_time, parse_time

type Conn = Any
"""The writer inside a transaction, or the read-only connection (both have `execute`)."""

type SeasonEndRow = tuple[RatingKey, int, int, RatingState]
"""A rating as its season ends: key, shown rating, games this season, state."""


def _season(row: sqlite3.Row) -> Season:
    pool = json.loads(row["map_pool"]) if row["map_pool"] else None
    started = parse_time(row["started_at"])
    assert started is not None
    return Season(
        number=row["number"],
        name=row["name"],
        started_at=started,
        ended_at=parse_time(row["ended_at"]),
        map_pool=tuple(pool) if pool else None,
        rating_system=row["rating_system"],
        soft_reset=row["soft_reset"],
        pull_fraction=row["pull_fraction"],
    )


def _archived(r: Any) -> ArchivedEntry:
    """An ArchivedEntry from a season_standings row."""
    return ArchivedEntry(
        r["discord_uid"],
        r["race"],
        RatingState(
            r["rating"], r["deviation"], r["volatility"], r["games"], _micros(r["last_played_at"])
        ),
        Record(r["games"], r["wins"], r["losses"], r["draws"], parse_time(r["last_played_at"])),
        r["place"],
        r["rank"],
        bool(r["provisional"]),
    )


def _micros(text: str | None) -> int | None:
    return None if text is None else to_micros(parse_time(text))


def _text(micros: int | None) -> str | None:
    if micros is None:
        return None
    return format_time(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros))


def state_of(row: Any, system: RatingSystem) -> RatingState:
    """The `RatingState` of a ratings (or archive) row; NULL columns take the system's new."""
    new = system.new()
    return RatingState(
        row["rating"] if row["rating"] is not None else row["mmr"],
        row["deviation"] if row["deviation"] is not None else new.deviation,
        row["volatility"] if row["volatility"] is not None else new.volatility,
        row["games"],
        _micros(row["last_played_at"]),
    )


def _columns(state: RatingState) -> tuple[int, float | None, float | None, float | None]:
    # Elo ratings are whole numbers: the exact rating column stays NULL (it is the mmr).
    exact = None if float(state.rating).is_integer() else state.rating
    deviation = state.deviation or None
    volatility = state.volatility or None
    return state.shown, exact, deviation, volatility


_BATCH = 20_000
_SEASON_LOG_SQL = (
    "SELECT l.match_id, l.discord_uid, l.race, l.adjustment, l.amount,"
    " m.player1_uid, m.player1_race, m.player2_uid, m.player2_race, m.result,"
    # ended_at is 'YYYY-MM-DD HH:MM:SS.mmm' UTC (storage.database.format_time): exact µs.
    " (CAST(strftime('%s', m.ended_at) AS INTEGER) * 1000"
    "  + CAST(substr(m.ended_at, 21, 3) AS INTEGER)) * 1000"
    " FROM rating_log AS l LEFT JOIN matches AS m ON m.id = l.match_id"
    " WHERE l.season = ? ORDER BY l.seq"
)


_SEASON_END_SQL = (
    "SELECT discord_uid, race, mmr, rating, deviation, volatility, games,"
    " (CAST(strftime('%s', last_played_at) AS INTEGER) * 1000"
    "  + CAST(substr(last_played_at, 21, 3) AS INTEGER)) * 1000 FROM ratings"
)

_STANDINGS_ROWS_SQL = (
    "SELECT discord_uid, race, mmr, games, wins, losses, draws, last_played_at, deviation,"
    " volatility FROM ratings"
)


class SeasonRepository:
    """The seasons, their archives, and rating states."""

    async def current(self, conn: Conn) -> Season:
        """Return the open season (migration 0010 makes one; a season start keeps one)."""
        rows = await _all(conn, "SELECT * FROM seasons WHERE ended_at IS NULL")
        if not rows:
            raise RuntimeError("no open season: the seasons table is broken")
        return _season(rows[0])

    async def get(self, conn: Conn, number: int) -> Season | None:
        rows = await _all(conn, "SELECT * FROM seasons WHERE number = ?", (number,))
        return _season(rows[0]) if rows else None

    async def all(self, conn: Conn) -> list[Season]:
        rows = await _all(conn, "SELECT * FROM seasons ORDER BY number")
        return [_season(r) for r in rows]

    async def open_next(
        self,
        conn: aiosqlite.Connection,
        name: str,
        now: datetime,
        map_pool: Sequence[str],
        system: str,
        soft_reset: str,
        pull_fraction: float,
        rating_config: Mapping[str, Any] | None = None,
    ) -> Season:
        """End the current season at `now` and open the next one; return it."""
        current = await self.current(conn)
        await conn.execute(
            "UPDATE seasons SET ended_at = ? WHERE number = ?", (format_time(now), current.number)
        )
        await conn.execute(
            "INSERT INTO seasons (number, name, started_at, map_pool, rating_system, soft_reset,"
            " pull_fraction, rating_config) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                current.number + 1,
                name,
                format_time(now),
                json.dumps(list(map_pool)),
                system,
                soft_reset,
                pull_fraction,
                json.dumps(rating_config, sort_keys=True) if rating_config else None,
            ),
        )
        season = await self.get(conn, current.number + 1)
        assert season is not None
        return season

    async def set_rating_system(self, conn: aiosqlite.Connection, system: str) -> None:
        """Record that every season's ratings are now computed with `system` (a replay)."""
        await conn.execute("UPDATE seasons SET rating_system = ?", (system,))

    # --- the archive -----------------------------------------------------------------

    async def write_archive(
        self, conn: aiosqlite.Connection, season: int, entries: Iterable[ArchivedEntry]
    ) -> None:
        """Replace a season's archived standings."""
        await conn.execute("DELETE FROM season_standings WHERE season = ?", (season,))
        await conn.executemany(
            "INSERT INTO season_standings (season, discord_uid, race, mmr, rating, deviation,"
            " volatility, games, wins, losses, draws, last_played_at, place, rank, provisional)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    season,
                    e.uid,
                    e.race,
                    e.mmr,
                    e.state.rating,
                    e.state.deviation,
                    e.state.volatility,
                    e.record.games,
                    e.record.wins,
                    e.record.losses,
                    e.record.draws,
                    _text(e.state.last_at),
                    e.place,
                    e.rank,
                    int(e.provisional),
                )
                for e in entries
            ],
        )

    async def archive_season(
        self,
        conn: aiosqlite.Connection,
        season: int,
        system: RatingSystem,
        places: Mapping[int, tuple[int, str]],
        provisional: Iterable[RatingKey],
    ) -> None:
        """Archive every `ratings` row as season `season` ends: one INSERT ... SELECT, so 100k
        ratings are copied by the database rather than passed through Python.

        A row is ranked when it played this season and its player is not banned; its place
        and letter are those of its shown rating (`places`, from `places_by_rating`: ties
        share both, so a few hundred distinct ratings cover 100k entries). `provisional`:
        the keys whose rating is provisional as the season ends.
        """
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS archive_places (mmr BIGINT PRIMARY KEY,"
            " place BIGINT NOT NULL, rank TEXT NOT NULL)"
        )
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS archive_provisional (discord_uid BIGINT,"
            " race TEXT, PRIMARY KEY (discord_uid, race))"
        )
        await conn.execute("DELETE FROM archive_places")
        await conn.execute("DELETE FROM archive_provisional")
        await conn.executemany(
            "INSERT INTO archive_places VALUES (?, ?, ?)",
            [(mmr, place, letter) for mmr, (place, letter) in places.items()],
        )
        await conn.executemany("INSERT INTO archive_provisional VALUES (?, ?)", list(provisional))
        await conn.execute("DELETE FROM season_standings WHERE season = ?", (season,))
        new = system.new()
        await conn.execute(
            "INSERT INTO season_standings (season, discord_uid, race, mmr, rating, deviation,"
            " volatility, games, wins, losses, draws, last_played_at, place, rank, provisional)"
            " SELECT :season, r.discord_uid, r.race, r.mmr, COALESCE(r.rating, r.mmr),"
            " COALESCE(r.deviation, :deviation), COALESCE(r.volatility, :volatility), r.games,"
            " r.wins, r.losses, r.draws, r.last_played_at,"
            " CASE WHEN r.games > 0 AND b.discord_uid IS NULL THEN p.place END,"
            " CASE WHEN r.games > 0 AND b.discord_uid IS NULL THEN p.rank END,"
            " CASE WHEN v.discord_uid IS NULL THEN 0 ELSE 1 END"
            " FROM ratings AS r"
            " LEFT JOIN archive_places AS p ON p.mmr = r.mmr"
            " LEFT JOIN archive_provisional AS v"
            "  ON v.discord_uid = r.discord_uid AND v.race = r.race"
            " LEFT JOIN players AS b ON b.discord_uid = r.discord_uid AND b.banned = 1"
            # In the archive's key order: each row goes at the end of its primary key (read in
            # the order of an MMR index, the same copy took three times as long).
            " ORDER BY r.discord_uid, r.race",
            {"season": season, "deviation": new.deviation, "volatility": new.volatility},
        )
        await conn.execute("DELETE FROM archive_places")
        await conn.execute("DELETE FROM archive_provisional")

    async def apply_soft_reset(
        self,
        conn: aiosqlite.Connection,
        system: RatingSystem,
        resets: Mapping[tuple[float, float, float], RatingState],
    ) -> None:
        """Give every rating whose (rating, deviation, volatility) is a key of `resets` that
        key's new rating (`ladder.seasons.soft_resets`): one UPDATE joined to a table of the
        distinct ratings, rather than one statement per (player, race). NULL columns read as
        a new rating of the system, as in `state_of`."""
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS season_resets (rating DOUBLE PRECISION,"
            " deviation DOUBLE PRECISION, volatility DOUBLE PRECISION, new_mmr BIGINT,"
            " new_rating DOUBLE PRECISION, new_deviation DOUBLE PRECISION,"
            " new_volatility DOUBLE PRECISION, PRIMARY KEY (rating, deviation, volatility))"
        )
        await conn.execute("DELETE FROM season_resets")
        await conn.executemany(
            "INSERT INTO season_resets VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (float(rating), float(deviation), float(volatility), *_columns(after))
                for (rating, deviation, volatility), after in resets.items()
            ],
        )
        new = system.new()
        await _rewrite_ratings(
            conn,
            "UPDATE ratings SET mmr = m.new_mmr, rating = m.new_rating,"
            " deviation = m.new_deviation, volatility = m.new_volatility"
            " FROM season_resets AS m"
            " WHERE m.rating = COALESCE(ratings.rating, ratings.mmr)"
            " AND m.deviation = COALESCE(ratings.deviation, :deviation)"
            " AND m.volatility = COALESCE(ratings.volatility, :volatility)",
            {"deviation": new.deviation, "volatility": new.volatility},
        )
        await conn.execute("DELETE FROM season_resets")

    async def reset_all(self, conn: aiosqlite.Connection, start: int) -> None:
        """Every rating back to a new one of the system (NULL columns read as new)."""
        await _rewrite_ratings(
            conn,
            "UPDATE ratings SET mmr = ?, rating = NULL, deviation = NULL, volatility = NULL",
            (start,),
        )

    async def archive(self, conn: Conn, season: int) -> list[ArchivedEntry]:
        """Return a season's archived standings, by place (unranked last)."""
        rows = await _all(
            conn,
            "SELECT * FROM season_standings WHERE season = ?"
            " ORDER BY place IS NULL, place, discord_uid, race",
            (season,),
        )
        return [_archived(r) for r in rows]

    async def archive_of_player(self, conn: Conn, season: int, uid: int) -> list[ArchivedEntry]:
        """Return one player's archived entries of a season, by place (unranked last)."""
        rows = await _all(
            conn,
            "SELECT * FROM season_standings WHERE season = ? AND discord_uid = ?"
            " ORDER BY place IS NULL, place, race",
            (season, uid),
        )
        return [_archived(r) for r in rows]

    async def ranked_page(
        self,
        conn: Conn,
        season: int,
        *,
        race: str | None = None,
        rank: str | None = None,
        search: str | None = None,
        offset: int = 0,
        limit: int = 25,
    ) -> tuple[list[tuple[ArchivedEntry, str]], int, int]:
        """Return one page of a season's ranked entries (by place) with their players' shown
        names, the number of ranked entries these filters keep, and of all ranked entries.
        `search`: the shown name contains it (ASCII case folded)."""
        where = " WHERE s.season = :season AND s.place IS NOT NULL"
        params: dict[str, Any] = {"season": season, "offset": offset, "limit": limit}
        if race is not None:
            where += " AND s.race = :race"
            params["race"] = race
        if rank is not None:
            where += " AND s.rank = :rank"
            params["rank"] = rank
        if search:
            where += " AND lower(COALESCE(p.player_name, p.discord_name)) LIKE :q ESCAPE '!'"
            escaped = search.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
            params["q"] = f"%{escaped}%"
        tables = " FROM season_standings AS s JOIN players AS p ON p.discord_uid = s.discord_uid"
        rows = await _all(
            conn,
            "SELECT s.*, COALESCE(p.player_name, p.discord_name) AS shown_name"
            f"{tables}{where} ORDER BY s.place, s.discord_uid, s.race"
            " LIMIT :limit OFFSET :offset",
            params,
        )
        matching = await _all(conn, f"SELECT COUNT(*){tables}{where}", params)
        ranked = await _all(
            conn,
            "SELECT COUNT(*) FROM season_standings WHERE season = ? AND place IS NOT NULL",
            (season,),
        )
        entries = [(_archived(r), r["shown_name"] or "") for r in rows]
        return entries, matching[0][0], ranked[0][0]

    async def player_named(self, conn: Conn, name: str) -> tuple[int, str, bool] | None:
        """Return (uid, shown name, banned) of the player whose main name is `name` (case and
        look-alikes folded, as the player pages find them), or None."""
        rows = await _all(
            conn,
            "SELECT p.discord_uid, COALESCE(p.player_name, p.discord_name), p.banned"
            " FROM player_names AS n JOIN players AS p ON p.discord_uid = n.discord_uid"
            " WHERE n.name_key = ? AND n.kind = 'main'",
            (name_key(name),),
        )
        return (rows[0][0], rows[0][1] or "", bool(rows[0][2])) if rows else None

    # --- ratings as states -------------------------------------------------------------

    async def states(self, conn: Conn, system: RatingSystem) -> dict[RatingKey, RatingState]:
        """Return every stored rating as a state."""
        rows = await _all(
            conn,
            "SELECT discord_uid, race, mmr, rating, deviation, volatility, games, last_played_at"
            " FROM ratings",
        )
        return {(r["discord_uid"], r["race"]): state_of(r, system) for r in rows}

    async def season_end(self, conn: Conn, system: RatingSystem) -> list[SeasonEndRow]:
        """Return every rating as the season ends: its key, shown rating (`mmr`), games this
        season and state; what a season change ranks, marks provisional and soft-resets (the
        archive itself is copied by the database, `archive_season`)."""
        out: list[SeasonEndRow] = []
        new = system.new()
        state = RatingState
        async with conn.execute(_SEASON_END_SQL) as cursor:
            if isinstance(cursor, aiosqlite.Cursor):
                cursor.row_factory = None
            while rows := await cursor.fetchmany(_BATCH):
                for uid, race, mmr, rating, dev, vol, games, last_us in rows:
                    out.append(
                        (
                            (uid, race),
                            mmr,
                            games,
                            state(
                                mmr if rating is None else rating,
                                new.deviation if dev is None else dev,
                                new.volatility if vol is None else vol,
                                games,
                                last_us,
                            ),
                        )
                    )
        return out

    async def standings_rows(self, conn: Conn) -> list[tuple[Any, ...]]:
        """Return every ratings row as `ladder.standings.Standings.apply` takes it: (uid, race,
        mmr, games, wins, losses, draws, last_played_at text, deviation, volatility). Plain
        tuples, the moment left as stored: after a season change every row moves, and
        building 100k RatingRows would cost more than the standings' own refresh."""
        out: list[tuple[Any, ...]] = []
        async with conn.execute(_STANDINGS_ROWS_SQL) as cursor:
            if isinstance(cursor, aiosqlite.Cursor):
                cursor.row_factory = None
            while rows := await cursor.fetchmany(_BATCH):
                out += map(tuple, rows)
        return out

    async def states_of(
        self, conn: Conn, system: RatingSystem, keys: Iterable[RatingKey]
    ) -> dict[RatingKey, RatingState]:
        """Return the stored states of these keys (keys without a row are left out)."""
        out = {}
        for uid, race in sorted(set(keys)):
            rows = await _all(
                conn,
                "SELECT mmr, rating, deviation, volatility, games, last_played_at FROM ratings"
                " WHERE discord_uid = ? AND race = ?",
                (uid, race),
            )
            if rows:
                out[(uid, race)] = state_of(rows[0], system)
        return out

    async def write_states(
        self, conn: aiosqlite.Connection, states: Mapping[RatingKey, RatingState]
    ) -> None:
        """Store these ratings (rating columns only; records are recounted separately)."""
        await conn.executemany(
            "INSERT INTO ratings (discord_uid, race, mmr, rating, deviation, volatility)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (discord_uid, race) DO UPDATE SET"
            " mmr = excluded.mmr, rating = excluded.rating, deviation = excluded.deviation,"
            " volatility = excluded.volatility",
            [(uid, race, *_columns(s)) for (uid, race), s in states.items()],
        )

    async def records(
        self, conn: Conn, season: int, keys: Iterable[RatingKey] | None = None
    ) -> dict[RatingKey, Record]:
        """Return each key's games, W/L/D and last game in a season, from its finished matches."""
        rows = await _all(
            conn,
            "SELECT uid, race, COUNT(*) AS games, SUM(win) AS wins, SUM(loss) AS losses,"
            " SUM(draw) AS draws, MAX(ended_at) AS last FROM ("
            "  SELECT player1_uid AS uid, player1_race AS race, result = 'p1_win' AS win,"
            "   result = 'p2_win' AS loss, result = 'draw' AS draw, ended_at FROM matches"
            "   WHERE season = :s AND status = 'finished'"
            "  UNION ALL"
            "  SELECT player2_uid, player2_race, result = 'p2_win', result = 'p1_win',"
            "   result = 'draw', ended_at FROM matches WHERE season = :s AND status = 'finished')"
            " AS mine"
            " GROUP BY uid, race",
            {"s": season},
        )
        wanted = None if keys is None else set(keys)
        return {
            (r["uid"], r["race"]): Record(
                r["games"], r["wins"], r["losses"], r["draws"], parse_time(r["last"])
            )
            for r in rows
            if wanted is None or (r["uid"], r["race"]) in wanted
        }

    async def write_records(
        self,
        conn: aiosqlite.Connection,
        records: Mapping[RatingKey, Record],
        clear_others: bool = False,
    ) -> None:
        """Store these season records in `ratings`; `last_played_at` is the key's last finished
        match of any season (None if it has none). With `clear_others`, every other row gets 0
        games and keeps its last game (a new season)."""
        if clear_others:
            await conn.execute("UPDATE ratings SET games = 0, wins = 0, losses = 0, draws = 0")
        await conn.executemany(
            "UPDATE ratings SET games = :games, wins = :wins, losses = :losses, draws = :draws,"
            " last_played_at = (SELECT MAX(ended_at) FROM matches WHERE status = 'finished' AND"
            "  ((player1_uid = :uid AND player1_race = :race)"
            "   OR (player2_uid = :uid AND player2_race = :race)))"
            " WHERE discord_uid = :uid AND race = :race",
            [
                {"games": r.games, "wins": r.wins, "losses": r.losses, "draws": r.draws,
                 "uid": uid, "race": race}
                for (uid, race), r in records.items()
            ],
        )  # fmt: skip

    async def season_log(self, conn: Conn, season: int) -> list[TimedEntry]:
        """Return a season's rating log in order, each match with the moment it was rated.

        Streamed in batches, with the moment computed by SQLite as exact integer µs (the
        stored text has milliseconds) and each (uid, race) key built once: a million-match
        season reads in seconds and holds one small tuple per match.
        """
        out: list[TimedEntry] = []
        keys: dict[RatingKey, RatingKey] = {}
        key = keys.setdefault
        timed = TimedMatch
        async with conn.execute(_SEASON_LOG_SQL, (season,)) as cursor:
            if isinstance(cursor, aiosqlite.Cursor):
                cursor.row_factory = None  # plain tuples: a third faster than sqlite3.Row
            while rows := await cursor.fetchmany(_BATCH):
                for r in rows:
                    if r[0] is None:
                        out.append(LoggedAdjustment((r[1], r[2]), r[3], r[4]))
                        continue
                    k1, k2 = (r[5], r[6]), (r[7], r[8])
                    out.append(timed(r[0], key(k1, k1), key(k2, k2), r[9], r[10]))
        return out

    async def season_of_match(self, conn: Conn, match_id: int) -> int | None:
        rows = await _all(conn, "SELECT season FROM matches WHERE id = ?", (match_id,))
        return rows[0][0] if rows else None

    async def set_steps(
        self, conn: aiosqlite.Connection, shown: Mapping[int, tuple[int, int, int, int]]
    ) -> None:
        """Store each match's shown ratings before it and player 1's shown gain."""
        await conn.executemany(
            "UPDATE matches SET player1_mmr = ?, player2_mmr = ?, mmr_change = ? WHERE id = ?"
            " AND (player1_mmr, player2_mmr, mmr_change) IS NOT (?, ?, ?)",
            [(b1, b2, a1 - b1, mid, b1, b2, a1 - b1) for mid, (b1, b2, a1, _) in shown.items()],
        )

    async def other_seasons_after(self, conn: Conn, seq: int, season: int) -> bool:
        """Return whether the log from `seq` on holds an entry of another season."""
        rows = await _all(
            conn, "SELECT 1 FROM rating_log WHERE seq >= ? AND season <> ? LIMIT 1", (seq, season)
        )
        return bool(rows)

    async def names(self, conn: Conn, uids: Iterable[int]) -> dict[int, str]:
        """Return the shown names of these players (their Discord name if they set none)."""
        wanted = sorted(set(uids))
        out: dict[int, str] = {}
        for lo in range(0, len(wanted), 500):
            batch = wanted[lo : lo + 500]
            rows = await _all(
                conn,
                "SELECT discord_uid, COALESCE(player_name, discord_name) FROM players"
                f" WHERE discord_uid IN ({', '.join('?' * len(batch))})",
                batch,
            )
            out.update({r[0]: r[1] or str(r[0]) for r in rows})
        return out

    async def banned(self, conn: Conn) -> list[int]:
        rows = await _all(conn, "SELECT discord_uid FROM players WHERE banned = 1")
        return [r[0] for r in rows]


async def _rewrite_ratings(
    conn: aiosqlite.Connection, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> None:
    """Run an UPDATE that sets `mmr` in (nearly) every ratings row: a season's soft reset.

    On SQLite the MMR indexes are dropped first and made again after, from their own stored
    definitions, all inside the caller's transaction: SQLite moves an index entry for every
    row whose indexed column is assigned, and rebuilding two indexes of 100k rows costs a
    fifth of that. A rollback or a crash restores them with everything else. On PostgreSQL
    the UPDATE runs as it is: dropping an index there would lock every reader of `ratings`
    out until the commit.
    """
    if not isinstance(conn, aiosqlite.Connection):
        await conn.execute(sql, params)
        return
    indexes = await _all(
        conn,
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ratings'"
        " AND sql IS NOT NULL AND sql LIKE '%mmr%' ORDER BY name",
    )
    for name, _ in indexes:
        await conn.execute(f'DROP INDEX "{name}"')
    await conn.execute(sql, params)
    for _, create in indexes:
        await conn.execute(create)


async def _all(conn: Conn, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
