"""An ended season's archive read a page at a time (what the website shows): place order,
filters, clamped pages, a player found by name; on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from ladder.errors import ValidationError

from .conftest import CONFIG, Clock, SeasonLadder


async def test_archive_pages_filters_and_players(tmp_path: Path, clock: Clock) -> None:
    lad = SeasonLadder(tmp_path / "ladder.db", clock, CONFIG)
    await lad.open()
    try:
        await lad.add_players(1, 2, 3, 4)
        await lad.play(1, 2, 1)
        await lad.play(3, 4, 3)
        await lad.play(1, 3, 1)
        await lad.seasons.start(9, "Two")
        ranked = [e for e in await lad.seasons.archive(1) if e.place is not None]
        everything = await lad.seasons.archive_page(1, page_size=100)
        assert [e for e, _ in everything.entries] == ranked
        assert {name for _, name in everything.entries} == {"user1", "user2", "user3", "user4"}
        assert everything.ranked_entries == everything.total_entries == len(ranked)
        pages = [await lad.seasons.archive_page(1, page=p, page_size=3) for p in (1, 2)]
        assert [e for p in pages for e, _ in p.entries] == ranked
        assert (pages[0].has_next, pages[1].has_next, pages[1].total_pages) == (True, False, 2)
        assert (await lad.seasons.archive_page(1, page=10**12, page_size=3)).page == 2
        assert (await lad.seasons.archive_page(1, page=-5, page_size=3)).page == 1
        found = await lad.seasons.archive_page(1, search="SER1")
        assert [n for _, n in found.entries] == ["user1"] and found.ranked_entries == len(ranked)
        assert (await lad.seasons.archive_page(1, search="%")).entries == ()
        assert (await lad.seasons.archive_page(1, race="bw_zerg")).total_entries == 0
        top = await lad.seasons.archive_page(1, rank=ranked[0].rank)
        assert top.entries and all(e.rank == ranked[0].rank for e, _ in top.entries)
        player = await lad.seasons.archived_player(1, "USER1")
        assert player is not None and [e.uid for e in player.entries] == [1]
        assert await lad.seasons.archived_player(1, "nobody") is None
        with pytest.raises(ValidationError, match="current season"):
            await lad.seasons.archive_page(2)
        with pytest.raises(ValidationError, match="no season 3"):
            await lad.seasons.archived_player(3, "user1")
    finally:
        await lad.close()
