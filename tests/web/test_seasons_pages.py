"""Past seasons' pages through aiohttp's test client, on a copy of the seeded ladder file whose
first season was ended through the seasons service (as `/admin season start` ends it)."""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cache.players import PlayerCache
from services.ladder_core import LadderCore
from services.seasons import SeasonService
from storage.players import PlayerRepository
from tests.web.seed import ADMIN_UID, IMG_NAME, SCRIPT_NAME, TERRAN, ZERG, Seeded, open_site
from web.app import create_app

HOSTILE_SEASON = "Spring <b>2027</b> & <script>x()</script>"


@dataclass
class SeasonSite:
    client: TestClient
    seasons: SeasonService
    seeded: Seeded


@pytest.fixture
async def season_site(seeded: Seeded) -> AsyncIterator[SeasonSite]:
    """Season 1 (the seed's matches) ended, season 2 (hostile name, no games) ended, 3 open."""
    site = await open_site(seeded.path)
    try:
        core = LadderCore(site.db, PlayerRepository(site.db, PlayerCache()), seeded.config)
        seasons = SeasonService(core)
        await seasons.start(ADMIN_UID, HOSTILE_SEASON)
        await seasons.start(ADMIN_UID, "Summer")
        services = replace(site.services, seasons=seasons)
        async with TestClient(TestServer(create_app(services))) as client:
            yield SeasonSite(client, seasons, seeded)
    finally:
        await site.close()


async def get(client: TestClient, path: str, status: int = 200) -> str:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, (path, text[:500])
    return text


def table_rows(page: str) -> list[list[str]]:
    """The cells of the page's table body, HTML-unescaped and without tags."""
    if "<tbody>" not in page:
        return []
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]*>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)


def race_name(seeded: Seeded, code: str) -> str:
    return next(r.name for r in seeded.config.races if r.code == code)


def assert_escaped(page: str) -> None:
    for raw in (SCRIPT_NAME, IMG_NAME, "<script>x()</script>", "<b>2027</b>"):
        assert raw not in page


async def test_seasons_list_links_the_ended_ones(season_site: SeasonSite) -> None:
    page = await get(season_site.client, "/seasons")
    assert [r[0] for r in table_rows(page)] == ["3", "2", "1"]
    assert 'href="/seasons/1"' in page and 'href="/seasons/2"' in page
    assert 'href="/seasons/3"' not in page  # the current season is the live leaderboard
    assert html.escape(HOSTILE_SEASON, quote=False) in page
    assert_escaped(page)


async def test_an_ended_season_shows_its_archive_in_place_order(season_site: SeasonSite) -> None:
    _, shown, names = await season_site.seasons.standings_of(1, top=1000)
    ranked = [e for e in shown if e.place is not None]
    page = await get(season_site.client, "/seasons/1")
    rows = table_rows(page)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (str(e.place), names[e.uid], f"{e.mmr}{'?' if e.provisional else ''}") for e in ranked
    ]
    assert "Mallory" not in page  # banned when the season ended: unranked
    assert f'href="/seasons/1/players/{quote(SCRIPT_NAME, safe="")}"' in page
    assert_escaped(page)
    for uid in season_site.seeded.all_ids:
        assert str(uid) not in page
    # The archive is the season's end: season 3's live leaderboard is empty meanwhile.
    assert "Final standings — Season 1" in page


async def test_filters_and_clamped_pages(season_site: SeasonSite) -> None:
    client = season_site.client
    everyone = table_rows(await get(client, "/seasons/1"))
    zerg = table_rows(await get(client, f"/seasons/1?race={ZERG}"))
    assert zerg and all(r[2] == race_name(season_site.seeded, ZERG) for r in zerg)
    assert len(zerg) < len(everyone)
    alice = table_rows(await get(client, "/seasons/1?q=ALI"))
    assert {r[1] for r in alice} == {"Alice"}
    top = table_rows(await get(client, "/seasons/1?rank=s"))
    assert top and all(r[4] == "S" for r in top)
    # Unknown filters mean "all"; a LIKE wildcard is a plain character.
    assert table_rows(await get(client, "/seasons/1?race=nope&rank=Z")) == everyone
    nothing = await get(client, "/seasons/1?q=%25")
    assert table_rows(nothing) == [] and "No ranked players match" in nothing
    season_site.seasons.page_size = 2
    first = await get(client, f"/seasons/1?race={TERRAN}")
    assert len(table_rows(first)) == 2 and 'rel="next"' in first and 'rel="prev"' not in first
    assert f'href="/seasons/1?race={TERRAN}&amp;page=2"' in first
    last = await get(client, f"/seasons/1?race={TERRAN}&page=999999999999999")
    pages = re.search(r"Page ([\d,]+) of ([\d,]+)", last)
    assert pages and pages.group(1) == pages.group(2)  # past the end: the last page
    assert table_rows(last) and 'rel="next"' not in last
    for bad in ("0", "-1", "abc", "１"):
        assert "Page 1 of" in await get(client, f"/seasons/1?page={quote(bad)}")


async def test_unknown_and_current_seasons_are_404(season_site: SeasonSite) -> None:
    client = season_site.client
    assert "There is no season 99" in await get(client, "/seasons/99", 404)
    assert "current season" in await get(client, "/seasons/3", 404)
    for path in ("/seasons/abc", "/seasons/-1", "/seasons/1234567890123", "/seasons/%EF%BC%91"):
        await get(client, path, 404)
    assert "no player by that name" in await get(client, "/seasons/1/players/Nobody", 404)
    assert "There is no season 99" in await get(client, "/seasons/99/players/Alice", 404)
    assert "current season" in await get(client, "/seasons/3/players/Alice", 404)


async def test_a_player_s_archived_rows(season_site: SeasonSite) -> None:
    client, seasons, seeded = season_site.client, season_site.seasons, season_site.seeded
    mine = [e for e in await seasons.archive(1) if e.uid == seeded.uids["Alice"] and e.record.games]
    page = await get(client, "/seasons/1/players/aLiCe")
    rows = table_rows(page)
    assert [(r[0], r[1], r[3], r[4:7]) for r in rows] == [
        (
            race_name(seeded, e.race),
            str(e.place),
            f"{e.mmr}{'?' if e.provisional else ''}",
            [str(e.record.wins), str(e.record.losses), str(e.record.draws)],
        )
        for e in mine
    ]
    hostile = await get(client, "/seasons/1/players/" + quote(SCRIPT_NAME, safe=""))
    assert table_rows(hostile) and html.escape(SCRIPT_NAME) in hostile
    assert_escaped(hostile)
    # Banned now: the page says so and nothing else; nobody played in season 2.
    banned = await get(client, "/seasons/1/players/Mallory")
    assert "banned" in banned and table_rows(banned) == []
    quiet = await get(client, "/seasons/2/players/Alice")
    assert "No rated games in this season" in quiet
    assert "Nobody played a rated game" in await get(client, "/seasons/2")


async def test_the_leaderboard_links_past_seasons_and_pages_write_nothing(
    season_site: SeasonSite,
) -> None:
    path = season_site.seeded.path

    def counts() -> list[int]:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return [
                conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("seasons", "season_standings", "ratings", "players", "matches")
            ]

    before = counts()
    assert 'href="/seasons"' in await get(season_site.client, "/")
    for p in ("/seasons", "/seasons/1", "/seasons/1/players/Alice", "/seasons/9"):
        await season_site.client.get(p)
    assert counts() == before


async def test_without_the_seasons_service_there_are_no_season_pages(client) -> None:
    assert 'href="/seasons"' not in await get(client, "/")
    await get(client, "/seasons", 404)
    await get(client, "/seasons/1", 404)
