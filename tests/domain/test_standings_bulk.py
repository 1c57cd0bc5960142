"""`Standings.apply` with many rows at once (a season change moves every rating): it sets each
entry and rebuilds the lists once, and must leave exactly what `update` row by row leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

import ladder.standings
from ladder.rating_systems import Glicko2System, provisional_rule
from ladder.standings import LeaderboardFilters, Standings

NOW = datetime(2025, 3, 15, 12, tzinfo=UTC)
RACES = ("bw_terran", "bw_zerg")

uids = st.integers(1, 10)
lasts = st.one_of(st.none(), st.integers(-2, 30).map(lambda d: NOW - timedelta(days=d)))
deviations = st.one_of(st.none(), st.floats(40, 350))
loads = st.builds(
    lambda uid, race, mmr, games, last, country, dev: (
        uid, race, mmr, games, games, 0, 0, last, f"p{uid}", country, 0, None, dev, 0.06
    ),
    uids, st.sampled_from(RACES), st.integers(1490, 1510), st.integers(0, 3), lasts,
    st.sampled_from(["FR", "KR", None]), deviations,
)  # fmt: skip
# What a season change hands over: (uid, race, mmr, games, W, L, D, last [text], deviation,
# volatility); some uids are new to the standings (met first in this change).
changes = st.builds(
    lambda uid, race, mmr, games, last, dev: (
        uid, race, mmr, games, games, 0, 0,
        None if last is None else last.strftime("%Y-%m-%d %H:%M:%S.000"), dev, 0.06,
    ),
    st.integers(1, 14), st.sampled_from(RACES), st.integers(1490, 1510), st.integers(0, 2),
    lasts, deviations,
)  # fmt: skip
FILTERS = [
    LeaderboardFilters(),
    LeaderboardFilters(race="bw_zerg"),
    LeaderboardFilters(country="FR"),
    LeaderboardFilters(best_race_only=True),
    LeaderboardFilters(rank="A"),
]


def _load(rows: list[tuple], settled: bool) -> Standings:
    return Standings.load(
        rows,
        NOW,
        races=RACES,
        provisional=provisional_rule(Glicko2System()),
        require_settled=settled,
        min_games=1 if settled else 0,
    )


def _seen(standings: Standings, keys: set[tuple[int, str]]) -> tuple:
    pages = tuple(standings.page(f, 1, 100, now=NOW) for f in FILTERS)
    ranks = tuple(standings.rank_of(uid, race, NOW) for uid, race in sorted(keys))
    return pages, ranks, standings.left_out(NOW), standings.unnamed(), len(standings)


@settings(max_examples=120, deadline=None)
@given(st.lists(loads, max_size=16), st.lists(changes, min_size=4, max_size=30), st.booleans())
def test_many_rows_at_once_equal_the_same_rows_one_by_one(
    initial: list[tuple], rows: list[tuple], settled: bool
) -> None:
    bulk, one_by_one = _load(initial, settled), _load(initial, settled)
    # At most 16 entries before, at least 4 rows: past a quarter, so the lists are rebuilt.
    with (
        mock.patch.object(ladder.standings, "_BULK_ROWS", 1),
        mock.patch.object(Standings, "rebuild", wraps=bulk.rebuild) as rebuild,
    ):
        bulk.apply(rows)
    rebuild.assert_called_once()
    for uid, race, mmr, games, w, lo, d, last, dev, vol in rows:
        one_by_one.update(
            uid, race, mmr, games, last, wins=w, losses=lo, draws=d, deviation=dev, volatility=vol
        )
    keys = {(r[0], r[1]) for r in initial} | {(r[0], r[1]) for r in rows}
    assert _seen(bulk, keys) == _seen(one_by_one, keys)


def test_a_season_sized_apply_takes_the_bulk_path() -> None:
    rows = [(uid, "bw_terran", 1500, 1, 1, 0, 0, NOW, f"p{uid}", None, 0) for uid in range(3000)]
    standings = Standings.load(rows, NOW)
    new = [(uid, "bw_terran", 1500 + uid % 7, 0, 0, 0, 0, NOW) for uid in range(3000)]
    with mock.patch.object(Standings, "rebuild", wraps=standings.rebuild) as rebuild:
        standings.apply(new)
    rebuild.assert_called_once_with(NOW)
    assert standings.ranked_count(NOW) == 0  # a new season: nobody has played yet
    with mock.patch.object(Standings, "rebuild", wraps=standings.rebuild) as rebuild:
        standings.apply(new[:10])  # a match's two rows: one by one
    rebuild.assert_not_called()
