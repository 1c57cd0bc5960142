"""The public pages in a real browser, as a player uses them: the leaderboard, its filters,
paging and search, a player's page with a rating chart, a match, a disputed match's ruling."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.web.seed import SCRIPT_NAME, TERRAN, ZERG

pytestmark = pytest.mark.asyncio(loop_scope="module")

ZERG_NAME = "BW Zerg"


def rated_matches(served, name: str, race: str) -> set[int]:
    """The player's finished matches with a result in that race, read from the file."""
    uid = served.seeded.uids[name]
    with closing(sqlite3.connect(f"file:{served.seeded.path}?mode=ro", uri=True)) as conn:
        rows = conn.execute(
            "SELECT id FROM matches WHERE status = 'finished' AND result IS NOT NULL AND"
            " ((player1_uid = ? AND player1_race = ?) OR (player2_uid = ? AND player2_race = ?))",
            (uid, race, uid, race),
        ).fetchall()
    return {row[0] for row in rows}


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


async def board_rows(page) -> list[list[str]]:
    return await page.locator("table.board tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.innerText.trim()))"
    )


async def test_the_leaderboard_its_race_filter_and_page_two(served, tab):
    page = tab.page
    await page.goto(served.url + "/")
    assert len(await board_rows(page)) == 3  # one page of three
    # The seed's hostile names are on these pages as text, never run: a dialog or a console
    # error fails the test.
    await tab.shot("leaderboard")

    await page.select_option("select[name=race]", ZERG)
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**/?*race=" + ZERG + "*")
    rows = await board_rows(page)
    assert rows and all(row[3] == ZERG_NAME for row in rows), rows
    await tab.shot("leaderboard-zerg")

    await page.goto(served.url + "/")
    first_page = await board_rows(page)
    await page.click("nav.pages a[rel=next]")
    await page.wait_for_url("**page=2*")
    assert query(page.url)["page"] == ["2"]
    assert "Page 2 of" in await page.text_content("nav.pages")
    second_page = await board_rows(page)
    assert len(second_page) == 3
    # The next players (by name and race), ranked at or below the last of page 1 (ties share).
    assert not {(r[1], r[3]) for r in second_page} & {(r[1], r[3]) for r in first_page}
    assert int(second_page[0][0]) >= int(first_page[-1][0])
    await tab.shot("leaderboard-page-2")


async def test_a_name_search_then_a_player_with_one_point_per_rated_match(served, tab):
    page = tab.page
    await page.goto(served.url + "/")
    await page.fill("input[name=q]", "ali")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**q=ali*")
    rows = await board_rows(page)
    assert rows and {row[1] for row in rows} == {"Alice"}, rows
    await tab.shot("search")

    await page.click("table.board a:text-is('Alice')")
    await page.wait_for_url("**/players/Alice")
    assert await page.text_content("h1") == "Alice"
    for race in (TERRAN, ZERG):
        expected = rated_matches(served, "Alice", race)
        points = page.locator(f"#history-{race} svg.rating-chart circle.point")
        assert await points.count() == len(expected), race
        shown = await points.evaluate_all("ps => ps.map(p => Number(p.dataset.match))")
        assert set(shown) == expected, race
    await tab.shot("player")

    # A match from the history.
    link = page.locator("table.matches a[href^='/matches/']").first
    href = await link.get_attribute("href")
    await link.click()
    await page.wait_for_url("**" + href)
    assert await page.text_content("h1") == f"Match #{href.rsplit('/', 1)[1]}"
    assert "Alice" in await page.text_content("table.sides")
    await tab.shot("match")


async def test_a_disputed_match_shows_its_ruling(served, tab):
    page = tab.page
    await page.goto(f"{served.url}/matches/{served.seeded.disputed}")
    ruling = page.locator("p.ruling")
    assert await ruling.is_visible()
    text = await ruling.inner_text()
    assert "Ruling:" in text and "replay shows <Alice>" in text, text
    assert await page.locator("ul.evidence li").count() == 3
    # The hostile note is text on the page, not markup.
    assert "<script>alert('note')</script>" in await page.locator("ul.evidence").inner_text()
    await tab.shot("disputed-match")


async def test_a_hostile_name_s_page_renders_as_text(served, tab):
    page = tab.page
    await page.goto(served.url + "/")
    await page.fill("input[name=q]", "script")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**q=script*")
    await page.click(f"table.board a:text-is('{SCRIPT_NAME}')")
    await page.wait_for_load_state("load")
    assert await page.text_content("h1") == SCRIPT_NAME
    await tab.shot("hostile-player")
