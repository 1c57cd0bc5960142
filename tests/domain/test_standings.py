"""Tests for ladder.standings: pages equal a brute-force sort and filter of the same data."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.ranks import Rank, is_ranked, rank_for
from ladder.standings import (
    LeaderboardEntry,
    LeaderboardFilters,
    Standings,
    to_micros,
)

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
RACES = ("bw_terran", "bw_zerg", "sc2_protoss")
LETTERS = ("S", "A", "B", "C", "D", "E", "F")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def row(
    uid,
    race,
    mmr,
    games=1,
    last=NOW - timedelta(days=1),
    *,
    wins=None,
    losses=0,
    draws=0,
    name=None,
    country="FR",
    banned=False,
):
    """A load row; by default one game (a win) played a day ago."""
    return (
        uid,
        race,
        mmr,
        games,
        games if wins is None else wins,
        losses,
        draws,
        last,
        name or f"p{uid}",
        country,
        banned,
    )


# --- the brute-force model -------------------------------------------------------------------


@dataclass
class Model:
    """The same data kept naively: every read sorts and filters everything again."""

    entries: dict[tuple[int, str], tuple] = field(default_factory=dict)
    players: dict[int, tuple[str, str | None, bool]] = field(default_factory=dict)
    race_order: tuple[str, ...] = RACES  # ties on MMR and uid: by race, in this order

    def load(self, rows) -> None:
        for uid, race, mmr, games, w, losses, d, last, name, country, banned in rows:
            self.players.setdefault(uid, (name, country, banned))
            self.entries[uid, race] = (mmr, games, w, losses, d, last)

    def ranked(self, now: datetime) -> list[tuple]:
        out = []
        for (uid, race), (mmr, games, w, losses, d, last) in self.entries.items():
            name, country, banned = self.players[uid]
            if not banned and is_ranked(games, last, now):
                out.append((uid, race, mmr, w, losses, d, name, country))
        out.sort(key=lambda e: (-e[2], e[0], self.race_order.index(e[1])))
        return out

    def page(self, filters: LeaderboardFilters, number: int, size: int, now: datetime):
        ladder = self.ranked(now)
        total = len(ladder)

        def letter(mmr: int) -> str:
            return rank_for(1 + sum(1 for e in ladder if e[2] > mmr), total)

        chosen = ladder
        if filters.best_race_only:
            seen: set[int] = set()
            chosen = []
            for e in ladder:  # already in ladder order: a player's first entry is the best
                if e[0] not in seen:
                    seen.add(e[0])
                    chosen.append(e)
        chosen = [
            e
            for e in chosen
            if filters.race in (None, e[1])
            and filters.country in (None, e[7])
            and filters.rank in (None, letter(e[2]))
        ]
        pages = max(1, -(-len(chosen) // size))
        number = min(max(1, number), pages)
        entries = tuple(
            LeaderboardEntry(
                position=1 + sum(1 for f in chosen if f[2] > e[2]),
                uid=e[0],
                name=e[6],
                race=e[1],
                mmr=e[2],
                rank=letter(e[2]),
                country=e[7],
                wins=e[3],
                losses=e[4],
                draws=e[5],
            )
            for e in chosen[(number - 1) * size : number * size]
        )
        return number, pages, len(chosen), total, entries

    def rank_of(self, uid: int, race: str, now: datetime) -> str | None:
        ladder = self.ranked(now)
        for e in ladder:
            if (e[0], e[1]) == (uid, race):
                return rank_for(1 + sum(1 for f in ladder if f[2] > e[2]), len(ladder))
        return None


def assert_same(standings: Standings, model: Model, filters, number, size, now) -> None:
    page = standings.page(filters, number, size, now=now)
    want_number, pages, total, ranked, entries = model.page(filters, number, size, now)
    assert (page.page, page.total_pages, page.total_entries, page.ranked_entries) == (
        want_number,
        pages,
        total,
        ranked,
    )
    assert page.entries == entries


# --- hypothesis: random loads, updates, profile changes and time ----------------------------

uids = st.integers(min_value=1, max_value=12)
races = st.sampled_from(RACES)
mmrs = st.integers(min_value=1480, max_value=1520)  # narrow: plenty of ties
countries = st.sampled_from(["FR", "DE", "KR", None])
lasts = st.one_of(st.none(), st.integers(min_value=-3, max_value=40).map(ago))
rows = st.builds(
    lambda uid, race, mmr, games, last, country, banned: row(
        uid, race, mmr, games, last, country=country, banned=banned
    ),
    uids,
    races,
    mmrs,
    st.integers(min_value=0, max_value=3),
    lasts,
    countries,
    st.just(False),  # bans come later, through set_player
)
updates = st.tuples(
    st.just("update"),
    uids,
    races,
    mmrs,
    st.integers(0, 5),
    lasts,
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 2),
)
player_changes = st.tuples(
    st.just("player"), uids, st.text("abc", min_size=1, max_size=3), countries, st.booleans()
)
time_steps = st.tuples(st.just("time"), st.integers(min_value=0, max_value=6 * 24))
filters = st.builds(
    LeaderboardFilters,
    race=st.one_of(st.none(), races),
    country=st.one_of(st.none(), st.sampled_from(["FR", "DE", "KR"])),
    rank=st.one_of(st.none(), st.sampled_from(LETTERS)),
    best_race_only=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    initial=st.lists(rows, max_size=20),
    steps=st.lists(st.one_of(updates, player_changes, time_steps), max_size=25),
    checks=st.lists(
        st.tuples(filters, st.integers(0, 6), st.integers(1, 4)), min_size=1, max_size=6
    ),
    known=st.booleans(),
)
def test_pages_equal_brute_force_after_random_changes(initial, steps, checks, known) -> None:
    # Races given up front (config order) or only as they turn up (widening each player's row).
    standings = Standings.load(initial, NOW, races=RACES if known else ())
    model = Model()
    model.load(initial)
    now = NOW
    for step in steps:
        if step[0] == "update":
            _, uid, race, mmr, games, last, w, losses, d = step
            standings.update(uid, race, mmr, games, last, wins=w, losses=losses, draws=d)
            name, country, banned = model.players.get(uid, (str(uid), None, False))
            model.players[uid] = (name, country, banned)
            model.entries[uid, race] = (mmr, games, w, losses, d, last)
        elif step[0] == "player":
            _, uid, name, country, banned = step
            standings.set_player(uid, name, country, banned=banned)
            model.players[uid] = (name, country, banned)
        else:
            now += timedelta(hours=step[1])
        # Read after every step, so expiry and updates interleave, and the pages a change
        # must not leave stale were read (and kept) before it.
        standings.ranked_count(now)
        for flt, number, size in checks:
            standings.page(flt, number, size, now=now)
    model.race_order = standings.races
    for flt, number, size in checks:
        assert_same(standings, model, flt, number, size, now)
    for uid, race in model.entries:
        assert standings.rank_of(uid, race, now) == model.rank_of(uid, race, now)


@settings(max_examples=60, deadline=None)
@given(initial=st.lists(rows, max_size=30), back=st.integers(0, 30 * 24), flt=filters)
def test_time_never_goes_back_but_rebuild_does(initial, back, flt) -> None:
    standings = Standings.load(initial, NOW, races=RACES)
    model = Model()
    model.load(initial)
    earlier = NOW - timedelta(hours=back)
    # A read with an earlier `now` is answered as of the latest one seen ...
    assert standings.page(flt, 1, 50, now=earlier) == standings.page(flt, 1, 50, now=NOW)
    assert_same(standings, model, flt, 1, 50, NOW)
    # ... and a rebuild goes back for real.
    standings.rebuild(earlier)
    assert_same(standings, model, flt, 1, 50, earlier)


# --- ranks at the boundaries --------------------------------------------------------------


def hundred() -> Standings:
    """100 ranked entries with distinct MMRs 1001..1100 (uid = 101 - place)."""
    return Standings.load([row(uid, "bw_zerg", 1100 - uid + 1) for uid in range(1, 101)], NOW)


def test_hundred_entries_get_the_exact_shares() -> None:
    standings = hundred()
    counts = {
        letter: standings.page(LeaderboardFilters(rank=letter), 1, 100, now=NOW).total_entries
        for letter in LETTERS
    }
    assert counts == {"S": 1, "A": 7, "B": 21, "C": 21, "D": 21, "E": 21, "F": 8}
    assert [
        standings.rank_of(uid, "bw_zerg", NOW) for uid in (1, 2, 8, 9, 29, 30, 92, 93, 100)
    ] == ["S", "A", "A", "B", "B", "C", "E", "F", "F"]


def test_ties_share_position_and_letter() -> None:
    # Ten entries, the first three tied: all S (position 1), then B, B, C, C, D, D, D.
    standings = Standings.load(
        [row(uid, "bw_zerg", 1500 if uid <= 3 else 1500 - uid) for uid in range(1, 11)], NOW
    )
    page = standings.page(LeaderboardFilters(), 1, 10, now=NOW)
    assert [(e.position, e.rank) for e in page.entries] == [
        (1, "S"),
        (1, "S"),
        (1, "S"),
        (4, "C"),
        (5, "C"),
        (6, "D"),
        (7, "D"),
        (8, "D"),
        (9, "E"),
        (10, "E"),
    ]
    assert [e.uid for e in page.entries[:3]] == [1, 2, 3]  # ties: by uid
    assert standings.page(LeaderboardFilters(rank="S"), 1, 10, now=NOW).total_entries == 3
    assert standings.page(LeaderboardFilters(rank="A"), 1, 10, now=NOW).total_entries == 0


def test_a_lone_player_is_s() -> None:
    standings = Standings.load([row(1, "bw_zerg", 900)], NOW)
    assert standings.rank_of(1, "bw_zerg", NOW) == "S"
    rank = standings.rank(1, "bw_zerg", NOW)
    assert rank is not None and (rank.position, rank.total) == (1, 1)


def test_custom_shares() -> None:
    standings = Standings.load(
        [row(uid, "bw_zerg", 2000 - uid) for uid in range(1, 5)],
        NOW,
        shares=(("Gold", 50), ("Silver", 50)),
    )
    assert standings.letters == ("Gold", "Silver")
    assert [standings.rank_of(u, "bw_zerg", NOW) for u in range(1, 5)] == [
        "Gold",
        "Gold",
        "Silver",
        "Silver",
    ]
    with pytest.raises(ValueError, match="unknown rank letter"):
        standings.page(LeaderboardFilters(rank="S"), 1, now=NOW)


# --- who is ranked ----------------------------------------------------------------------------


def test_unranked_entries_are_excluded_and_not_counted() -> None:
    standings = Standings.load(
        [
            row(1, "bw_zerg", 1600),
            row(2, "bw_zerg", 1700, games=0),  # never played
            row(3, "bw_zerg", 1800, last=ago(30)),  # inactive
            row(4, "bw_zerg", 1900, banned=True),
            row(5, "bw_zerg", 1550, last=None),
        ],
        NOW,
    )
    page = standings.page(LeaderboardFilters(), 1, now=NOW)
    assert [e.uid for e in page.entries] == [1]
    assert page.ranked_entries == 1
    assert [standings.rank_of(uid, "bw_zerg", NOW) for uid in range(1, 6)] == [
        "S",
        None,
        None,
        None,
        None,
    ]
    assert standings.rank_of(1, "sc2_zerg", NOW) is None
    assert standings.rank_of(99, "bw_zerg", NOW) is None


def test_inactivity_boundary_is_inclusive_and_lazy() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600, last=NOW), row(2, "bw_zerg", 1500)], NOW)
    exactly = NOW + timedelta(days=14)
    assert standings.rank_of(1, "bw_zerg", exactly) == "S"  # a game exactly 14 days ago counts
    assert standings.ranked_count(exactly) == 1  # player 2 played a day before NOW
    later = exactly + timedelta(microseconds=1)
    assert standings.rank_of(1, "bw_zerg", later) is None
    assert standings.page(LeaderboardFilters(), 1, now=later).total_entries == 0
    # A new game ranks the entry again.
    standings.update(1, "bw_zerg", 1610, 2, later, wins=2)
    assert standings.rank_of(1, "bw_zerg", later) == "S"


def test_update_of_a_long_inactive_entry_stays_unranked() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600)], NOW)
    standings.update(2, "bw_zerg", 1500, 3, ago(20))
    assert standings.rank_of(2, "bw_zerg", NOW) is None
    standings.update(2, "bw_zerg", 1500, 4, NOW)
    assert standings.rank_of(2, "bw_zerg", NOW) == "D"


def test_best_race_only_keeps_each_players_best_ranked_race() -> None:
    standings = Standings.load(
        [
            row(1, "bw_terran", 1500),
            row(1, "bw_zerg", 1700),
            row(1, "sc2_protoss", 1900, last=ago(20)),  # better, but inactive
            row(2, "bw_terran", 1600),
            row(2, "bw_zerg", 1600),  # tie with their own terran: race order decides
        ],
        NOW,
        races=RACES,
    )
    best = LeaderboardFilters(best_race_only=True)
    page = standings.page(best, 1, now=NOW)
    assert [(e.uid, e.race) for e in page.entries] == [(1, "bw_zerg"), (2, "bw_terran")]
    assert (
        standings.page(
            LeaderboardFilters(race="bw_zerg", best_race_only=True), 1, now=NOW
        ).total_entries
        == 1
    )
    standings.update(1, "bw_terran", 1800, 2, NOW)
    assert [(e.uid, e.race) for e in standings.page(best, 1, now=NOW).entries] == [
        (1, "bw_terran"),
        (2, "bw_terran"),
    ]


def test_country_change_and_ban_move_the_player() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600), row(2, "bw_zerg", 1500)], NOW)
    fr = LeaderboardFilters(country="FR")
    assert standings.page(fr, 1, now=NOW).total_entries == 2
    standings.set_player(1, "Neo", "DE")
    assert standings.page(fr, 1, now=NOW).total_entries == 1
    (entry,) = standings.page(LeaderboardFilters(country="DE"), 1, now=NOW).entries
    assert (entry.name, entry.country) == ("Neo", "DE")
    assert standings.countries(NOW) == [("DE", 1), ("FR", 1)]
    standings.set_player(1, "Neo", "DE", banned=True)
    assert standings.page(LeaderboardFilters(), 1, now=NOW).total_entries == 1
    assert standings.rank_of(1, "bw_zerg", NOW) is None
    standings.set_player(1, "Neo", "DE")  # the ban flag stays as it was
    assert standings.rank_of(1, "bw_zerg", NOW) is None
    standings.set_player(1, "Neo", "DE", banned=False)
    assert standings.rank_of(1, "bw_zerg", NOW) == "S"


def test_countries_top_n_by_ranked_players() -> None:
    data = [
        row(u, "bw_zerg", 1500 + u, country=c)
        for u, c in enumerate(["FR", "FR", "DE", "KR", "KR", "KR", None], start=1)
    ]
    data.append(row(1, "bw_terran", 1400, country="FR"))  # a second race: still one player
    standings = Standings.load(data, NOW)
    assert standings.countries(NOW) == [("KR", 3), ("FR", 2), ("DE", 1)]
    assert standings.countries(NOW, limit=2) == [("KR", 3), ("FR", 2)]


# --- pages ------------------------------------------------------------------------------------


def test_paging_has_no_cap_and_clamps() -> None:
    standings = Standings.load([row(uid, "bw_zerg", 1000 + uid) for uid in range(1, 2501)], NOW)
    page = standings.page(LeaderboardFilters(), 250, now=NOW)
    assert (page.page, page.total_pages, page.has_next, page.has_previous) == (
        250,
        250,
        False,
        True,
    )
    assert [e.position for e in page.entries] == list(range(2491, 2501))
    assert standings.page(LeaderboardFilters(), 9999, now=NOW).page == 250
    assert standings.page(LeaderboardFilters(), -3, now=NOW).page == 1
    empty = standings.page(LeaderboardFilters(race="sc2_zerg"), 5, now=NOW)
    assert (empty.page, empty.total_pages, empty.entries) == (1, 1, ())


def test_entries_carry_what_a_line_shows() -> None:
    standings = Standings.load(
        [row(7, "bw_zerg", 1650, games=10, wins=6, losses=3, draws=1, name="Neo", country="KR")],
        NOW,
    )
    (entry,) = standings.page(LeaderboardFilters(), 1, now=NOW).entries
    assert entry == LeaderboardEntry(1, 7, "Neo", "bw_zerg", 1650, "S", "KR", 6, 3, 1)
    assert entry.games == 10
    standings.update(7, "bw_zerg", 1660, 11, NOW, wins=7)  # W/L/D left out are kept
    (entry,) = standings.page(LeaderboardFilters(), 1, now=NOW).entries
    assert (entry.mmr, entry.wins, entry.losses, entry.draws) == (1660, 7, 3, 1)


def test_stored_text_times_and_apply() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600, last="2025-03-14 10:00:00.000")], NOW)
    assert standings.last_played(1, "bw_zerg") == datetime(2025, 3, 14, 10, tzinfo=UTC)
    standings.apply([(2, "bw_zerg", 1700, 1, 1, 0, 0, "2025-03-15 11:00:00.000")])
    assert [e.uid for e in standings.page(LeaderboardFilters(), 1, now=NOW).entries] == [2, 1]


@dataclass(frozen=True)
class RatingRow:
    """The shape the ladder service hands its on_ratings_changed callback."""

    uid: int
    race: str
    mmr: int
    games: int = 0
    wins: int = 0
    losses: int = 0
    draws: int = 0
    last_played_at: datetime | None = None


def test_apply_takes_rating_rows_as_the_service_sends_them() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600)], NOW)
    standings.apply(
        [
            RatingRow(2, "bw_zerg", 1700, 3, 2, 1, 0, NOW),
            RatingRow(1, "bw_zerg", 1550, 2, 1, 1, 0, NOW),
        ]
    )
    entries = standings.page(LeaderboardFilters(), 1, now=NOW).entries
    assert [(e.uid, e.mmr, e.wins, e.losses) for e in entries] == [(2, 1700, 2, 1), (1, 1550, 1, 1)]


def test_players_first_met_in_an_update_are_unnamed_until_set() -> None:
    standings = Standings.load([row(1, "bw_zerg", 1600)], NOW)
    standings.update(2, "bw_zerg", 1700, 1, NOW)
    standings.set_player(3, "Later", "KR")  # no entries yet: kept for when they come
    standings.update(3, "bw_zerg", 1650, 1, NOW)
    assert standings.unnamed() == {2}
    first = standings.page(LeaderboardFilters(), 1, now=NOW).entries[0]
    assert (first.name, first.country) == ("2", None)
    standings.set_player(2, "Neo", "FR")
    assert standings.unnamed() == set()
    names = [(e.name, e.country) for e in standings.page(LeaderboardFilters(), 1, now=NOW).entries]
    assert names == [("Neo", "FR"), ("Later", "KR"), ("p1", "FR")]


def test_times() -> None:
    assert to_micros(None) < to_micros(datetime(1900, 1, 1, tzinfo=UTC))
    naive = datetime(2025, 3, 15, 12)
    assert to_micros(naive) == to_micros(NOW) == to_micros("2025-03-15 12:00:00.000")


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        Standings.load([row(-1, "bw_zerg", 1500)], NOW)
    with pytest.raises(ValueError):
        Standings.load([row(1, "bw_zerg", 1 << 41)], NOW)
    with pytest.raises(ValueError):
        Standings.load([], NOW).page(LeaderboardFilters(), 1, 0, now=NOW)


def test_many_updates_keep_the_expiry_heap_small_and_ranks_right() -> None:
    rng = random.Random(5)
    standings = Standings(RACES, now=NOW)
    mmrs: dict[int, int] = {}
    for step in range(3000):
        uid = rng.randrange(300)
        mmrs[uid] = rng.randint(1000, 2000)
        standings.update(uid, RACES[0], mmrs[uid], 1, NOW)
        if step % 499 == 0:
            for u, m in mmrs.items():
                position = 1 + sum(1 for other in mmrs.values() if other > m)
                rank = standings.rank(u, RACES[0], NOW)
                assert rank == Rank(rank_for(position, len(mmrs)), position, len(mmrs))
    assert len(standings._heap) <= 2 * len(mmrs) + 64  # replaced items are dropped
