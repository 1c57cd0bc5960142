"""The region filter, the name search and `page_among`: the same lists and rules as the other
filters, checked against a brute-force filter of the same rows."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ladder.standings import LeaderboardFilters, Standings

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
RACES = ("bw_terran", "bw_zerg")
COUNTRIES = ("DE", "FR", "US", None)
REGIONS = ("EU", "NA", None)


def ladder(seed: int = 1, players: int = 120):
    """Standings from random rows (12 fields: the region last), and the rows themselves."""
    rng = random.Random(seed)
    rows = []
    for uid in range(1, players + 1):
        country, region = rng.choice(COUNTRIES), rng.choice(REGIONS)
        for race in rng.sample(RACES, rng.randint(1, 2)):
            last = NOW - timedelta(days=rng.choice((1, 3, 30)))  # 30: unranked
            rows.append(
                (uid, race, rng.randint(900, 2100), 5, 3, 2, 0, last, f"p{uid}", country,
                 uid % 17 == 0, region)
            )
    return Standings.load(rows, NOW, races=RACES), rows


def expected(rows, filters: LeaderboardFilters, uids=None) -> list[tuple[int, str]]:
    """(uid, race) of every ranked entry the filters keep, in ladder order, by brute force."""
    ranked = [
        r for r in rows
        if not r[10] and r[7] >= NOW - timedelta(days=14) and (uids is None or r[0] in uids)
    ]
    if filters.best_race_only:
        best: dict[int, tuple] = {}
        for r in sorted(ranked, key=lambda r: (-r[2], r[0], RACES.index(r[1]))):
            best.setdefault(r[0], r)
        ranked = list(best.values())
    kept = [
        r for r in ranked
        if (filters.race is None or r[1] == filters.race)
        and (filters.country is None or r[9] == filters.country)
        and (filters.region is None or r[11] == filters.region)
    ]
    kept.sort(key=lambda r: (-r[2], r[0], RACES.index(r[1])))
    return [(r[0], r[1]) for r in kept]


def shown(standings: Standings, filters: LeaderboardFilters, uids=None) -> list[tuple[int, str]]:
    if uids is None:
        page = standings.page(filters, 1, 10_000, now=NOW)
    else:
        page = standings.page_among(uids, filters, 1, 10_000, now=NOW)
    return [(e.uid, e.race) for e in page.entries]


FILTERS = [
    LeaderboardFilters(region="EU"),
    LeaderboardFilters(region="NA", race="bw_zerg"),
    LeaderboardFilters(region="EU", country="DE"),
    LeaderboardFilters(region="NA", country="FR", best_race_only=True),
    LeaderboardFilters(region="EU", best_race_only=True),
    LeaderboardFilters(country="US"),
    LeaderboardFilters(),
]


@pytest.mark.parametrize("filters", FILTERS)
def test_region_filter_keeps_what_a_brute_force_filter_keeps(filters):
    standings, rows = ladder()
    assert shown(standings, filters) == expected(rows, filters)
    assert expected(rows, filters) or filters.country  # the seed has entries to show


@pytest.mark.parametrize("filters", FILTERS)
def test_page_among_is_the_page_of_those_players(filters):
    standings, rows = ladder(seed=2)
    uids = set(random.Random(3).sample(range(1, 121), 40)) | {999_999}  # one unknown uid
    got = shown(standings, filters, uids)
    assert got == expected(rows, filters, uids)
    page = standings.page_among(uids, filters, 1, 10_000, now=NOW)
    assert [e.position for e in page.entries][:1] in ([], [1])


def test_positions_and_paging_within_a_region():
    standings, rows = ladder(seed=4)
    filters = LeaderboardFilters(region="EU")
    want = expected(rows, filters)
    pages = [standings.page(filters, n, 7, now=NOW) for n in (1, 2, 99)]
    assert [(e.uid, e.race) for e in pages[0].entries] == want[:7]
    assert [(e.uid, e.race) for e in pages[1].entries] == want[7:14]
    assert pages[2].page == pages[2].total_pages == -(-len(want) // 7)  # clamped to the last


def test_a_region_change_moves_the_players_entries():
    standings, rows = ladder(seed=5)
    uid = next(r[0] for r in rows if r[11] == "EU" and not r[10] and r[7] > NOW - timedelta(2))
    eu = LeaderboardFilters(region="EU")
    na = LeaderboardFilters(region="NA")
    assert uid in {u for u, _ in shown(standings, eu)}
    standings.set_player(uid, "moved", None, region="NA")
    assert uid not in {u for u, _ in shown(standings, eu)}
    assert uid in {u for u, _ in shown(standings, na)}
    standings.set_player(uid, "renamed", None)  # region left out: kept
    assert uid in {u for u, _ in shown(standings, na)}
    standings.set_player(uid, "nowhere", None, region=None)
    assert uid not in {u for u, _ in shown(standings, na)}
    assert uid in {u for u, _ in shown(standings, LeaderboardFilters())}


def test_regions_are_not_countries():
    standings, _ = ladder()
    assert {code for code, _ in standings.countries(NOW)} <= {"DE", "FR", "US"}


def test_rows_without_a_region_load_as_before():
    rows = [(1, "bw_terran", 1500, 1, 1, 0, 0, NOW - timedelta(days=1), "a", "DE", False)]
    standings = Standings.load(rows, NOW, races=RACES)
    assert shown(standings, LeaderboardFilters()) == [(1, "bw_terran")]
    assert shown(standings, LeaderboardFilters(region="EU")) == []


def test_name_search_folds_case_and_follows_renames():
    rows = [
        (1, "bw_terran", 1500, 1, 1, 0, 0, NOW - timedelta(days=1), "Ålice", "DE", False),
        (2, "bw_terran", 1400, 1, 1, 0, 0, NOW - timedelta(days=1), "MALICE", "DE", False),
        (3, "bw_terran", 1300, 1, 1, 0, 0, NOW - timedelta(days=1), "Bob", "DE", False),
    ]
    standings = Standings.load(rows, NOW, races=RACES)
    assert standings.players_named("ålIcE") == [1]
    assert standings.players_named("lice") == [1, 2]
    assert standings.players_named("") == [] and standings.players_named("%") == []
    standings.set_player(3, "Bobalice", "DE")
    assert standings.players_named("ALICE") == [2, 3]  # Å is not A
    page = standings.page_among(standings.players_named("lice"), LeaderboardFilters(), 1, 10,
                                now=NOW)
    assert [(e.position, e.name) for e in page.entries] == [
        (1, "Ålice"), (2, "MALICE"), (3, "Bobalice")
    ]
