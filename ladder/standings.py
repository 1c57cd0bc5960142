"""The leaderboard's read model: every ranked (player, race) entry, kept sorted as ratings change.

`Standings` is loaded once at start-up from all ratings rows (with each player's name, country
and ban flag) and then kept current: `update` after each rating change, `set_player` after a
profile change. Reading a page never rescans the ladder.

Order and ranks
    Entries are ordered by MMR (highest first), then Discord uid, then race in config order.
    Letters come from `ladder.ranks.rank_for` among all ranked entries of every race, by
    competition position (ties share a position and a letter). An entry is ranked when
    `ladder.ranks.is_ranked` says so (a game in the last `inactive_days`) and its player is
    not banned; unranked entries are in no list and do not count towards the letters.

Filters
    race (or all), country (or all), letter (or all) and "best race only": each player's
    highest-rated ranked entry only (the first one in the order above). The best-race
    restriction applies first, then the others: best race + race Zerg lists the players whose
    best race is Zerg. The position shown is the competition position within the filtered
    list (1 = first of this filter; ties share it).

Design
    Each entry's sort key is one int: `(MMR_BIAS - mmr) << 72 | uid << 8 | race index`, so
    ascending keys are the ladder order and comparisons are C-level int compares. One sorted
    Python list of keys is kept for each (best-only?, race or all, country or all) that has
    entries: an entry sits in 4 lists (8 if it is its player's best), so every filter is a
    ready list, and a letter is a key range within it (letters are monotonic in MMR), found
    by bisect. A page is O(log n) whatever the filter; an update is a few bisect + insort
    (O(log n) compares plus a memmove of at most the list's pointers). The numbers live in
    `array` columns, per player (uid, name, country, ban, a row of slots by race) and per
    slot (one (player, race): MMR, W/L/D, last played), so 100k players × 2 races take about
    55 MB (see bench/results/ladder.txt).
    Inactivity is lazy: a heap of (last played, slot) ints is popped up to `now - inactive`
    on each read, so a read never rescans the ladder. Time only moves forward: a read with a
    `now` earlier than one already seen is answered as of the latest one (an expired entry
    stays out until its next game); `rebuild(now)` recomputes everything for any `now`.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import EllipsisType
from typing import Any

from ladder.config import DEFAULT_RANK_SHARES
from ladder.ranks import Rank, Shares, is_ranked, rank_for

MMR_BIAS = 1 << 40  # MMRs must lie in (-2**40, 2**40]
_RACE_BITS = 8
_IDENT_BITS = 72  # 64 bits of uid, 8 of race index
_UID_LIMIT = 1 << 64
_MAX_RACES = 1 << _RACE_BITS
_IDENT_MASK = (1 << _IDENT_BITS) - 1
_SLOT_BITS = 32
_SLOT_MASK = (1 << _SLOT_BITS) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
_NEVER = -(1 << 62)  # last_played "none" in the int column
_BULK_ROWS = 1000  # `apply` rebuilds the lists once for at least this many rows (and 1/4)
_ALL_RACES = -1
_NOWHERE = ""  # the country of players who have not set one
_REGION_MARK = "@"  # a region's lists are keyed "@EU" where a country's are "DE"
_NO_SLOTS = array("i", [-1] * 64)
_PAGES_KEPT = 256  # pages read since the last change, kept until the next one (or this many)

type ProvisionalRule = Callable[[int, float | None, float | None, int], bool]
"""(games, deviation or None, volatility or None, last played µs) -> provisional? (see
`ladder.rating_systems.provisional_rule`)."""

type StandingsRow = Sequence[Any]
"""(discord_uid, race, mmr, games, wins, losses, draws, last_played_at, name, country, banned
[, region[, deviation, volatility]]): last_played_at is a datetime, the stored text or None;
country and region None if unset (a row without the region: none)."""


@dataclass(frozen=True, slots=True)
class LeaderboardFilters:
    """What the leaderboard shows: None means "all"; best_race_only keeps each player's best."""

    race: str | None = None
    country: str | None = None
    rank: str | None = None
    best_race_only: bool = False
    region: str | None = None

    @property
    def is_default(self) -> bool:
        """Return whether no filter is set."""
        return self == _NO_FILTERS


_NO_FILTERS = LeaderboardFilters()


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One line of a page: the position within the filtered list, the letter on the ladder."""

    position: int
    uid: int
    name: str
    race: str
    mmr: int
    rank: str
    country: str | None
    wins: int
    losses: int
    draws: int
    provisional: bool = False  # shown as "1523?": the rating system is not sure of it yet

    @property
    def games(self) -> int:
        """Return the number of games in this race (draws included)."""
        return self.wins + self.losses + self.draws

    @property
    def shown_mmr(self) -> str:
        """Return the rating as shown: with a question mark while it is provisional."""
        return f"{self.mmr}?" if self.provisional else str(self.mmr)


@dataclass(frozen=True, slots=True)
class LeaderboardPage:
    """A page of the filtered leaderboard; `page` is clamped to 1..total_pages."""

    filters: LeaderboardFilters
    page: int
    page_size: int
    total_pages: int
    total_entries: int  # entries matching the filters
    ranked_entries: int  # ranked entries on the whole ladder
    entries: tuple[LeaderboardEntry, ...]
    left_out: int = 0  # active entries the ladder's requirements leave out (provisional, few games)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.total_pages


def to_micros(moment: datetime | str | None) -> int:
    """Return a moment as integer microseconds since the epoch (naive means UTC); None → never."""
    if moment is None:
        return _NEVER
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        return (moment - _EPOCH_NAIVE) // _US
    return (moment - _EPOCH) // _US


def _from_micros(value: int) -> datetime | None:
    return None if value == _NEVER else _EPOCH + value * _US


def _groups_of(
    best: bool, race: int, country: str, region: str
) -> tuple[tuple[bool, int, str | None], ...]:
    """The lists an entry sits in: by race or all, by country, by region (if set) or all."""
    groups: tuple[tuple[bool, int, str | None], ...] = (
        (best, race, country),
        (best, race, None),
        (best, _ALL_RACES, country),
        (best, _ALL_RACES, None),
    )
    if region:
        groups += ((best, race, region), (best, _ALL_RACES, region))
    return groups


def _group_key(mmr: int) -> int:
    # The smallest key an entry with this MMR can have: bisect_left on it finds the first one.
    return (MMR_BIAS - mmr) << _IDENT_BITS


def _mmr_of(key: int) -> int:
    return MMR_BIAS - (key >> _IDENT_BITS)


class Standings:
    """The ranked (player, race) entries in ladder order, with a sorted list per filter."""

    def __init__(
        self,
        races: Iterable[str] = (),
        shares: Shares = DEFAULT_RANK_SHARES,
        inactive_days: int = 14,
        now: datetime | None = None,
        *,
        provisional: ProvisionalRule | None = None,
        require_settled: bool = False,
        min_games: int = 0,
    ) -> None:
        self._provisional_rule = provisional
        self._require_settled = require_settled
        self._min_games = min_games
        self._prov = bytearray()  # slot -> 1 while its rating is provisional
        self._held: set[int] = set()  # slots kept out by require_settled / min_games
        self._shares = tuple(shares)
        if not self._shares:
            raise ValueError("no rank shares given")
        self._letters = tuple(letter for letter, _ in self._shares)
        self._inactive_days = inactive_days
        self._inactive_us = inactive_days * 86_400_000_000
        self._race_codes: list[str] = []
        self._race_index: dict[str, int] = {}
        # Per-player columns, indexed by a player number p.
        self._pindex: dict[int, int] = {}  # uid -> p
        self._puid = array("Q")
        self._pname: list[str] = []
        self._pfolded: list[str] = []  # the names case-folded, for a name search
        self._pcountry: list[str] = []  # interned codes; _NOWHERE if unset
        self._pregion: list[str] = []  # interned list keys ("@" + code); _NOWHERE if unset
        self._pbanned = bytearray()
        self._stride = 1  # widened as races are interned
        self._pslots = array("i")  # p * stride + race index -> slot, -1 for none
        # Per-slot columns; a slot is one (player, race) ever seen.
        self._sp = array("i")  # slot -> p
        self._race = array("B")
        self._mmr = array("q")
        self._games = array("i")
        self._wins = array("i")
        self._losses = array("i")
        self._draws = array("i")
        self._last = array("q")  # microseconds since the epoch, _NEVER for none
        self._key: list[int | None] = []  # the key in the lists while ranked, else None
        self._best_key: list[int | None] = []  # the key in the best-only lists, else None
        self._countries: dict[str, str] = {}  # interned country codes
        self._unnamed: set[int] = set()  # players first seen in `update`: name = uid for now
        # (best only, race index or -1, country or None) -> ascending keys
        self._lists: dict[tuple[bool, int, str | None], list[int]] = {}
        self._heap: list[int] = []  # last played << 32 | slot, for expiry
        self._now_us = to_micros(now) if now is not None else _NEVER
        self._version = 0
        self._bounds: tuple[int, list[int]] | None = None  # (version, letter upper keys)
        self._country_counts: tuple[int, list[tuple[str, int]]] | None = None
        # (filters, page number, page size) -> the page as read at `_pages_version`, without
        # `left_out`, which moves with the clock and is counted at each read.
        self._pages: dict[tuple[LeaderboardFilters, int, int], LeaderboardPage] = {}
        self._pages_version = -1
        for race in races:
            self._intern_race(race)

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        rows: Iterable[StandingsRow],
        now: datetime,
        *,
        races: Iterable[str] = (),
        shares: Shares = DEFAULT_RANK_SHARES,
        inactive_days: int = 14,
        provisional: ProvisionalRule | None = None,
        require_settled: bool = False,
        min_games: int = 0,
    ) -> Standings:
        """Build the standings from every ratings row (see `StandingsRow`) as of `now`."""
        standings = cls(
            races,
            shares,
            inactive_days,
            now,
            provisional=provisional,
            require_settled=require_settled,
            min_games=min_games,
        )
        standings.add_rows(rows)
        standings.rebuild(now)
        return standings

    def add_rows(self, rows: Iterable[StandingsRow]) -> None:
        """Store rows without indexing them; call `rebuild` after the last batch.

        For loading in batches (so a start-up never holds every row at once); use `update`
        for a change to a loaded ladder.
        """
        pindex, race_index, slot_for = self._pindex, self._race_index, self._slot_for
        set_numbers = self._set_numbers
        for uid, race, mmr, games, wins, losses, draws, last, name, country, banned, *more in rows:
            if uid not in pindex:
                region = more[0] if more else None
                self._new_player(uid, name or str(uid), country, bool(banned), region)
            r = race_index.get(race)
            s = slot_for(uid, self._intern_race(race) if r is None else r)
            set_numbers(s, mmr, games, wins, losses, draws, to_micros(last))
            if self._provisional_rule is not None:
                deviation = more[1] if len(more) > 1 else None
                volatility = more[2] if len(more) > 2 else None
                self._set_provisional(s, deviation, volatility)

    def rebuild(self, now: datetime) -> None:
        """Recompute which entries are ranked at `now` and rebuild every list from scratch."""
        self._now_us = to_micros(now)
        cutoff = self._now_us - self._inactive_us
        held_back = self._held
        lists: dict[tuple[bool, int, str | None], list[int]] = {}
        heap: list[int] = []
        best: dict[int, int] = {}  # p -> the player's smallest key
        keys = self._key
        sp, races, mmrs, games, lasts = self._sp, self._race, self._mmr, self._games, self._last
        puid, pcountry, pregion, pbanned = self._puid, self._pcountry, self._pregion, self._pbanned
        for s in range(len(keys)):
            p = sp[s]
            last = lasts[s]
            if games[s] <= 0 or last == _NEVER or last < cutoff or pbanned[p] or s in held_back:
                keys[s] = None
                continue
            race = races[s]
            key = (MMR_BIAS - mmrs[s]) << _IDENT_BITS | puid[p] << _RACE_BITS | race
            keys[s] = key
            heap.append(last << _SLOT_BITS | s)
            for group in _groups_of(False, race, pcountry[p], pregion[p]):
                lists.setdefault(group, []).append(key)
            held = best.get(p)
            if held is None or key < held:
                best[p] = key
        best_keys: list[int | None] = [None] * len(keys)
        pslots, stride = self._pslots, self._stride
        for p, key in best.items():
            race = key & (_MAX_RACES - 1)
            best_keys[pslots[p * stride + race]] = key
            for group in _groups_of(True, race, pcountry[p], pregion[p]):
                lists.setdefault(group, []).append(key)
        for keys_of_group in lists.values():
            keys_of_group.sort()
        heapq.heapify(heap)
        self._lists = lists
        self._heap = heap
        self._best_key = best_keys
        self._changed()

    # --- changes ---------------------------------------------------------------------------

    def update(
        self,
        uid: int,
        race: str,
        mmr: int,
        games: int,
        last_played_at: datetime | str | None,
        *,
        wins: int | None = None,
        losses: int | None = None,
        draws: int | None = None,
        deviation: float | None = None,
        volatility: float | None = None,
    ) -> None:
        """Set one (player, race) entry after a rating change; W/L/D left out stay as they were.

        Whether the entry is ranked is judged at the latest `now` seen; later reads expire it.
        Whether it is provisional is judged now, from its games and deviation (a Glicko-2
        deviation also grows with time away, but an entry is unranked long before that).
        """
        s = self._store(
            uid, race, mmr, games, last_played_at, wins, losses, draws, deviation, volatility
        )
        self._reindex_slot(s)
        self._refresh_best(self._sp[s])
        self._changed()

    def _store(
        self,
        uid: int,
        race: str,
        mmr: int,
        games: int,
        last_played_at: datetime | str | None,
        wins: int | None,
        losses: int | None,
        draws: int | None,
        deviation: float | None,
        volatility: float | None,
    ) -> int:
        """Set one entry's numbers (not its place in the lists); return its slot."""
        if uid not in self._pindex:
            self._new_player(uid, str(uid), None, False)
            self._unnamed.add(uid)
        s = self._slot_for(uid, self._intern_race(race))
        self._set_numbers(
            s,
            mmr,
            games,
            self._wins[s] if wins is None else wins,
            self._losses[s] if losses is None else losses,
            self._draws[s] if draws is None else draws,
            to_micros(last_played_at),
        )
        if self._provisional_rule is not None:
            self._set_provisional(s, deviation, volatility)
        return s

    def apply(self, rows: Iterable[Any]) -> None:
        """`update` for each row: a (uid, race, mmr, games, wins, losses, draws, last_played_at
        [, deviation, volatility]) sequence, or an object with those attributes (such as
        ladder.records.RatingRow), so this can be the ladder service's `on_ratings_changed`
        callback as it is.

        Many rows at once (a season change moves every rating): each entry's numbers are set,
        then the lists are rebuilt once (`rebuild`), which is what the updates one by one
        would leave, in a fraction of their time.
        """
        rows = rows if isinstance(rows, Sequence) else list(rows)
        bulk = self._now_us != _NEVER and len(rows) >= max(_BULK_ROWS, len(self._key) // 4)
        for row in rows:
            deviation = volatility = None
            if hasattr(row, "uid"):
                uid, race, mmr, games = row.uid, row.race, row.mmr, row.games
                wins, losses, draws, last = row.wins, row.losses, row.draws, row.last_played_at
                deviation = getattr(row, "deviation", None)
                volatility = getattr(row, "volatility", None)
            else:
                uid, race, mmr, games, wins, losses, draws, last = row[:8]
                if len(row) > 8:
                    deviation, volatility = row[8:10]
            if bulk:
                self._store(uid, race, mmr, games, last, wins, losses, draws, deviation, volatility)
                continue
            self.update(
                uid,
                race,
                mmr,
                games,
                last,
                wins=wins,
                losses=losses,
                draws=draws,
                deviation=deviation,
                volatility=volatility,
            )
        if bulk:
            now = _from_micros(self._now_us)
            assert now is not None
            self.rebuild(now)

    def set_player(
        self,
        uid: int,
        name: str,
        country: str | None,
        *,
        banned: bool | None = None,
        region: str | EllipsisType | None = ...,
    ) -> None:
        """Record a player's shown name, country and (if given) ban flag and region after a
        change."""
        self._unnamed.discard(uid)
        p = self._pindex.get(uid)
        if p is None:
            self._new_player(uid, name, country, bool(banned), None if region is ... else region)
            return  # no entries yet: nothing is in any list
        self._pname[p] = name
        self._pfolded[p] = name.casefold()
        new_country = self._country(country)
        new_banned = self._pbanned[p] if banned is None else int(banned)
        new_region = self._pregion[p] if region is ... else self._region(region)
        if (new_country, new_banned, new_region) == (
            self._pcountry[p],
            self._pbanned[p],
            self._pregion[p],
        ):
            self._changed()  # only the name changed: in the lists' keys nothing moves
            return
        slots = self._slots_of(p)
        for s in slots:  # take the player out of every list under the old country ...
            self._unindex(s)
        self._pcountry[p] = new_country
        self._pregion[p] = new_region
        self._pbanned[p] = new_banned
        for s in slots:  # ... and back in under the new one (or not at all, if banned)
            self._reindex_slot(s)
        self._refresh_best(p)
        self._changed()

    # --- reads -----------------------------------------------------------------------------

    def unnamed(self) -> set[int]:
        """Return the uids first seen in `update` and not given to `set_player` since: they
        show their uid as their name and have no country until someone does."""
        return set(self._unnamed)

    @property
    def races(self) -> tuple[str, ...]:
        """Return the race codes known, in order (config order, then as first seen)."""
        return tuple(self._race_codes)

    @property
    def letters(self) -> tuple[str, ...]:
        """Return the rank letters, best first."""
        return self._letters

    @property
    def inactive_days(self) -> int:
        return self._inactive_days

    def ranked_count(self, now: datetime) -> int:
        """Return how many entries are ranked at `now`."""
        self._expire(now)
        return len(self._global())

    def rank(self, uid: int, race: str, now: datetime) -> Rank | None:
        """Return the entry's letter, position and the number ranked; None if unranked."""
        self._expire(now)
        s = self._find(uid, race)
        key = None if s is None else self._key[s]
        if key is None:
            return None
        return self._rank_of_key(key)

    def rank_of(self, uid: int, race: str, now: datetime) -> str | None:
        """Return the entry's letter at `now`, or None if it is unranked."""
        rank = self.rank(uid, race, now)
        return None if rank is None else rank.letter

    def countries(self, now: datetime, limit: int | None = None) -> list[tuple[str, int]]:
        """Return (country, ranked players) for countries with ranked players, most first."""
        self._expire(now)
        cached = self._country_counts
        if cached is None or cached[0] != self._version:
            counts = [
                (country, len(keys))
                for (best, race, country), keys in self._lists.items()
                if best
                and race == _ALL_RACES
                and country
                and keys
                and not country.startswith(_REGION_MARK)
            ]
            counts.sort(key=lambda item: (-item[1], item[0]))
            cached = self._country_counts = (self._version, counts)
        return cached[1][:limit] if limit is not None else list(cached[1])

    def page(
        self,
        filters: LeaderboardFilters,
        page_number: int,
        page_size: int = 10,
        *,
        now: datetime,
    ) -> LeaderboardPage:
        """Return one page of the filtered leaderboard at `now` (clamped to the pages there are)."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._expire(now)
        # The same page is read many times between two changes (every /leaderboard opens on
        # the first one): it is built once per version.
        if self._pages_version != self._version or len(self._pages) >= _PAGES_KEPT:
            self._pages.clear()
            self._pages_version = self._version
        asked = (filters, page_number, page_size)
        page = self._pages.get(asked)
        if page is None:
            keys, lo, hi = self._filtered(filters)
            page = self._pages[asked] = self._page_of(filters, keys, lo, hi, page_number, page_size)
        left_out = self.left_out(now) if self._held else 0
        return page if left_out == page.left_out else replace(page, left_out=left_out)

    def _page_of(
        self,
        filters: LeaderboardFilters,
        keys: list[int],
        lo: int,
        hi: int,
        page_number: int,
        page_size: int,
    ) -> LeaderboardPage:
        """Page `page_number` (clamped) of keys[lo:hi], without `left_out`."""
        total = hi - lo
        total_pages = max(1, -(-total // page_size))
        page_number = min(max(1, page_number), total_pages)
        start = lo + (page_number - 1) * page_size
        return LeaderboardPage(
            filters=filters,
            page=page_number,
            page_size=page_size,
            total_pages=total_pages,
            total_entries=total,
            ranked_entries=len(self._global()),
            entries=self._entries(keys, lo, hi, start, min(hi, start + page_size)),
        )

    def page_among(
        self,
        uids: Iterable[int],
        filters: LeaderboardFilters,
        page_number: int,
        page_size: int = 10,
        *,
        now: datetime,
    ) -> LeaderboardPage:
        """`page`, among these players' entries only (a region's players, a name search's).

        The same lists and filters as `page`; positions count within the players given.
        Costs O(m log n) for m players given, not a scan of the ladder.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._expire(now)
        keys, lo, hi = self._filtered(filters)
        held = self._best_key if filters.best_race_only else self._key
        found = []
        stride = self._stride
        for uid in uids:
            p = self._pindex.get(uid)
            if p is None:
                continue
            for s in self._pslots[p * stride : (p + 1) * stride]:
                key = held[s] if s >= 0 else None
                if key is None:
                    continue
                i = bisect_left(keys, key, lo, hi)
                if i < hi and keys[i] == key:
                    found.append(key)
        found.sort()
        page = self._page_of(filters, found, 0, len(found), page_number, page_size)
        return replace(page, left_out=self.left_out(now)) if self._held else page

    def _entries(
        self, keys: list[int], lo: int, hi: int, start: int, stop: int
    ) -> tuple[LeaderboardEntry, ...]:
        """The entries of keys[start:stop]; positions count within keys[lo:hi]."""
        entries = []
        ladder = self._global()
        ranked = len(ladder)
        codes, shares, stride = self._race_codes, self._shares, self._stride
        for key in keys[start:stop]:
            mmr = _mmr_of(key)
            ident = key & _IDENT_MASK
            uid = ident >> _RACE_BITS
            race = ident & (_MAX_RACES - 1)
            p = self._pindex[uid]
            s = self._pslots[p * stride + race]
            country = self._pcountry[p]
            group = _group_key(mmr)
            entries.append(
                LeaderboardEntry(
                    position=bisect_left(keys, group, lo, hi) - lo + 1,
                    uid=uid,
                    name=self._pname[p],
                    race=codes[race],
                    mmr=mmr,
                    rank=rank_for(bisect_left(ladder, group) + 1, ranked, shares),
                    country=country or None,
                    wins=self._wins[s],
                    losses=self._losses[s],
                    draws=self._draws[s],
                    provisional=bool(self._prov[s]),
                )
            )
        return tuple(entries)

    def players_named(self, text: str) -> list[int]:
        """Return the uids of the players whose name contains `text`, case-insensitively
        (Unicode case folding), in the order they were first seen; for `page_among`."""
        needle = text.casefold()
        if not needle:
            return []
        puid = self._puid
        return [puid[p] for p, name in enumerate(self._pfolded) if needle in name]

    def last_played(self, uid: int, race: str) -> datetime | None:
        """Return when the entry last played, as stored (ranked or not); None if unknown."""
        s = self._find(uid, race)
        return None if s is None else _from_micros(self._last[s])

    def __len__(self) -> int:
        """Return the number of (player, race) entries held, ranked or not."""
        return len(self._key)

    # --- internals -------------------------------------------------------------------------

    def _intern_race(self, race: str) -> int:
        r = self._race_index.get(race)
        if r is None:
            if len(self._race_codes) >= _MAX_RACES:
                raise ValueError(f"more than {_MAX_RACES} races")
            r = self._race_index[race] = len(self._race_codes)
            self._race_codes.append(race)
            if len(self._race_codes) > self._stride:
                self._restride(len(self._race_codes))
        return r

    def _restride(self, stride: int) -> None:
        # A race first seen after players were stored: widen each player's row of slots.
        old, old_stride = self._pslots, self._stride
        new = array("i", [-1]) * (len(self._puid) * stride)
        for p in range(len(self._puid)):
            new[p * stride : p * stride + old_stride] = old[p * old_stride : (p + 1) * old_stride]
        self._pslots, self._stride = new, stride

    def _country(self, country: str | None) -> str:
        if not country:
            return _NOWHERE
        return self._countries.setdefault(country, country)

    def _region(self, region: str | None) -> str:
        if not region:
            return _NOWHERE
        key = _REGION_MARK + region
        return self._countries.setdefault(key, key)

    def _new_player(
        self, uid: int, name: str, country: str | None, banned: bool, region: str | None = None
    ) -> int:
        if not 0 <= uid < _UID_LIMIT:
            raise ValueError(f"uid {uid} is not a 64-bit Discord id")
        p = self._pindex[uid] = len(self._puid)
        self._puid.append(uid)
        self._pname.append(name)
        self._pfolded.append(name.casefold())
        self._pcountry.append(self._country(country))
        self._pregion.append(self._region(region))
        self._pbanned.append(int(banned))
        self._pslots.extend(
            _NO_SLOTS[: self._stride] if self._stride <= 64 else [-1] * self._stride
        )
        return p

    def _find(self, uid: int, race: str) -> int | None:
        """Return the slot of (uid, race), or None if there is none."""
        p = self._pindex.get(uid)
        r = self._race_index.get(race)
        if p is None or r is None:
            return None
        s = self._pslots[p * self._stride + r]
        return None if s < 0 else s

    def _slot_for(self, uid: int, race: int) -> int:
        """Return the slot of (uid, race index), adding it; the player must exist."""
        p = self._pindex[uid]
        s = self._pslots[p * self._stride + race]
        if s < 0:
            s = self._pslots[p * self._stride + race] = len(self._key)
            self._sp.append(p)
            self._race.append(race)
            for column in (self._mmr, self._games, self._wins, self._losses, self._draws):
                column.append(0)
            self._last.append(_NEVER)
            self._prov.append(0)
            self._key.append(None)
            self._best_key.append(None)
        return s

    def _slots_of(self, p: int) -> list[int]:
        row = self._pslots[p * self._stride : (p + 1) * self._stride]
        return [s for s in row if s >= 0]

    def _set_numbers(
        self, s: int, mmr: int, games: int, wins: int, losses: int, draws: int, last: int
    ) -> None:
        if not -MMR_BIAS < mmr <= MMR_BIAS:
            raise ValueError(f"MMR {mmr} is out of range")
        self._mmr[s] = mmr
        self._games[s] = games
        self._wins[s] = wins
        self._losses[s] = losses
        self._draws[s] = draws
        self._last[s] = last

    def _set_provisional(self, s: int, deviation: float | None, volatility: float | None) -> None:
        rule = self._provisional_rule
        assert rule is not None
        prov = rule(self._games[s], deviation, volatility, self._last[s])
        self._prov[s] = int(prov)
        if self._games[s] < self._min_games or (self._require_settled and prov):
            self._held.add(s)
        else:
            self._held.discard(s)

    def left_out(self, now: datetime) -> int:
        """Return how many active entries the ladder's requirements (a settled rating, a
        minimum of games) leave out of the lists at `now`."""
        cutoff = to_micros(now) - self._inactive_us
        last, games, banned, sp = self._last, self._games, self._pbanned, self._sp
        return sum(
            1
            for s in self._held
            if games[s] > 0 and last[s] != _NEVER and last[s] >= cutoff and not banned[sp[s]]
        )

    def _is_ranked_now(self, s: int) -> bool:
        last = self._last[s]
        if last == _NEVER or self._pbanned[self._sp[s]] or s in self._held:
            return False
        if self._now_us == _NEVER:  # no `now` seen yet: judged by the first read
            return self._games[s] > 0
        now = _from_micros(self._now_us)
        assert now is not None
        return is_ranked(self._games[s], _from_micros(last), now, self._inactive_days)

    def _groups(self, s: int, best: bool) -> tuple[tuple[bool, int, str | None], ...]:
        p = self._sp[s]
        return _groups_of(best, self._race[s], self._pcountry[p], self._pregion[p])

    def _insert(self, s: int, key: int, best: bool) -> None:
        for group in self._groups(s, best):
            insort(self._lists.setdefault(group, []), key)

    def _remove(self, s: int, key: int, best: bool) -> None:
        for group in self._groups(s, best):
            keys = self._lists[group]
            i = bisect_left(keys, key)
            if i == len(keys) or keys[i] != key:
                raise RuntimeError(f"standings out of sync: key of slot {s} missing")
            del keys[i]

    def _unindex(self, s: int) -> None:
        key = self._key[s]
        if key is not None:
            self._remove(s, key, best=False)
            self._key[s] = None
        best = self._best_key[s]
        if best is not None:
            self._remove(s, best, best=True)
            self._best_key[s] = None

    def _reindex_slot(self, s: int) -> None:
        """Put the slot in the lists it belongs to now (the best-only lists: `_refresh_best`)."""
        old = self._key[s]
        new = None
        if self._is_ranked_now(s):
            uid = self._puid[self._sp[s]]
            new = (MMR_BIAS - self._mmr[s]) << _IDENT_BITS | uid << _RACE_BITS | self._race[s]
        if old != new:
            if old is not None:
                self._remove(s, old, best=False)
            if new is not None:
                self._insert(s, new, best=False)
            self._key[s] = new
        if new is not None:
            self._push(s)

    def _refresh_best(self, p: int) -> None:
        slots = self._slots_of(p)
        ranked = [(self._key[s], s) for s in slots if self._key[s] is not None]
        best_key, best_slot = min(ranked) if ranked else (None, None)
        for s in slots:
            held = self._best_key[s]
            if held is not None and (s != best_slot or held != best_key):
                self._remove(s, held, best=True)
                self._best_key[s] = None
        if best_slot is not None and self._best_key[best_slot] is None:
            assert best_key is not None
            self._insert(best_slot, best_key, best=True)
            self._best_key[best_slot] = best_key

    def _push(self, s: int) -> None:
        heapq.heappush(self._heap, self._last[s] << _SLOT_BITS | s)
        if len(self._heap) > 2 * len(self._key) + 64:  # mostly stale items: start afresh
            self._heap = [
                self._last[t] << _SLOT_BITS | t
                for t in range(len(self._key))
                if self._key[t] is not None
            ]
            heapq.heapify(self._heap)

    def _expire(self, now: datetime) -> None:
        now_us = to_micros(now)
        if now_us <= self._now_us:
            # Not later than a read already answered (a command that took its `now` before an
            # await, or the clock stepping back): answered as of that read, so nothing expired
            # comes back and nothing is rebuilt.
            return
        self._now_us = now_us
        cutoff = now_us - self._inactive_us
        heap = self._heap
        changed = set()
        while heap and heap[0] >> _SLOT_BITS < cutoff:
            item = heapq.heappop(heap)
            s = item & _SLOT_MASK
            if self._key[s] is not None and self._last[s] == item >> _SLOT_BITS:
                self._remove(s, self._key[s], best=False)  # type: ignore[arg-type]
                self._key[s] = None
                changed.add(self._sp[s])
        for p in changed:
            self._refresh_best(p)
        if changed:
            self._changed()

    @property
    def version(self) -> int:
        """A number that changes whenever a read may answer differently, except for what moves
        with the clock alone (`left_out`): read it after the read it is to describe."""
        return self._version

    def _changed(self) -> None:
        self._version += 1

    def _global(self) -> list[int]:
        return self._lists.get((False, _ALL_RACES, None), [])

    def _rank_of_key(self, key: int) -> Rank:
        ladder = self._global()
        position = bisect_left(ladder, _group_key(_mmr_of(key))) + 1
        return Rank(rank_for(position, len(ladder), self._shares), position, len(ladder))

    def _letter_bounds(self) -> list[int]:
        """For each letter, the smallest key past it: letter j is keys in [bound[j-1], bound[j])."""
        cached = self._bounds
        if cached is not None and cached[0] == self._version:
            return cached[1]
        ladder = self._global()
        total = len(ladder)
        bounds = []
        for j in range(len(self._letters)):
            # The largest `ahead` (entries with a higher MMR) that still gets letter j or better:
            # letters only get worse as `ahead` grows, so a binary search over ahead finds it.
            lo, hi = 0, total  # answer in [lo - 1, hi - 1]
            while lo < hi:
                mid = (lo + hi) // 2
                if self._letter_index(mid, total) <= j:
                    lo = mid + 1
                else:
                    hi = mid
            last_ahead = lo - 1
            if last_ahead < 0:
                bounds.append(-1)  # nobody reaches letter j: an empty prefix
            else:
                # Entries with an MMR at least that of the entry at index `last_ahead` have at
                # most `last_ahead` entries above them; every other one has more.
                bounds.append(_group_key(_mmr_of(ladder[last_ahead]) - 1))
        self._bounds = (self._version, bounds)
        return bounds

    def _letter_index(self, ahead: int, total: int) -> int:
        return self._letters.index(rank_for(ahead + 1, total, self._shares))

    def _filtered(self, filters: LeaderboardFilters) -> tuple[list[int], int, int]:
        """Return the list for these filters and the index range the letter filter keeps."""
        race = _ALL_RACES
        if filters.race is not None:
            r = self._race_index.get(filters.race)
            if r is None:
                return [], 0, 0
            race = r
        country = filters.country or None
        region = _REGION_MARK + filters.region if filters.region else None
        if region is not None and country is None:
            country, region = region, None  # a region has its own lists, as a country does
        keys = self._lists.get((filters.best_race_only, race, country), [])
        if region is not None:  # a country and a region: the country's entries in the region
            uids, pindex, pregion = _IDENT_MASK, self._pindex, self._pregion
            keys = [k for k in keys if pregion[pindex[(k & uids) >> _RACE_BITS]] == region]
        if filters.rank is None:
            return keys, 0, len(keys)
        try:
            j = self._letters.index(filters.rank)
        except ValueError:
            raise ValueError(f"unknown rank letter {filters.rank!r}") from None
        bounds = self._letter_bounds()
        low = bisect_left(keys, bounds[j - 1]) if j > 0 else 0
        high = bisect_left(keys, bounds[j])
        return keys, low, max(low, high)
