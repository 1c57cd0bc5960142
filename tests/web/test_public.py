"""The public pages and the API through aiohttp's test client, on the seeded ladder file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer

from services.public import _grid
from storage.history import HistoryRepository
from tests.web.seed import (
    HOSTILE_NOTE,
    IMG_NAME,
    JS_URL,
    SAFE_URL,
    SCRIPT_NAME,
    TERRAN,
    ZERG,
    open_site,
)
from web.app import create_app

RANKED = ("Alice", "Bob", "Carol", "Dave", "Erin", SCRIPT_NAME, IMG_NAME)


def rows(seeded, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(f"file:{seeded.path}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def board_names(page: str) -> list[str]:
    """The player names of the leaderboard table, in order (HTML-unescaped)."""
    import html

    body = page[page.index("<tbody>") : page.index("</tbody>")] if "<tbody>" in page else ""
    return [html.unescape(n) for n in re.findall(r'<a href="/players/[^"]*">([^<]*)</a>', body)]


def player_path(name: str) -> str:
    return "/players/" + quote(name, safe="")


async def get(client, path: str, status: int = 200) -> str:
    response = await client.get(path)
    text = await response.text()
    assert response.status == status, (path, text[:500])
    return text


@pytest.fixture
async def small_pages(site):
    """The same site with two entries a page, to see paging."""
    site.services.public.page_size = 2
    async with TestClient(TestServer(create_app(site.services))) as test_client:
        yield test_client


# --- the leaderboard ------------------------------------------------------------------------


async def test_leaderboard_lists_every_ranked_player_but_not_the_banned(client, seeded):
    page = await get(client, "/")
    names = board_names(page)
    assert set(names) == set(RANKED)
    assert "Mallory" not in page
    api = await (await client.get("/api/leaderboard")).json()
    entries = api["entries"]
    assert [e["name"] for e in entries] == names
    # MMR order, positions from 1, a rank letter and W/L/D on each line.
    assert [e["mmr"] for e in entries] == sorted((e["mmr"] for e in entries), reverse=True)
    assert entries[0]["position"] == 1
    assert all(e["rank"] in "SABCDEF" for e in entries)
    assert all(e["provisional"] is False for e in entries) and api["left_out"] == 0
    alice_t = next(e for e in entries if e["name"] == "Alice" and e["race"] == TERRAN)
    stored = rows(
        seeded,
        "SELECT wins, losses, draws, mmr FROM ratings WHERE discord_uid = ? AND race = ?",
        (seeded.uids["Alice"], TERRAN),
    )[0]
    assert (alice_t["wins"], alice_t["losses"], alice_t["draws"], alice_t["mmr"]) == stored
    assert f">{alice_t['rank']}</td>" in page


async def test_filters_race_region_country_rank_and_search(client):
    zerg = await (await client.get(f"/api/leaderboard?race={ZERG}")).json()
    assert {e["race"] for e in zerg["entries"]} == {ZERG}
    assert {e["name"] for e in zerg["entries"]} == {"Alice", "Bob", "Carol", "Erin", SCRIPT_NAME}

    eu = await (await client.get("/api/leaderboard?region=eu")).json()
    assert {e["name"] for e in eu["entries"]} == {"Alice", "Bob", SCRIPT_NAME}
    assert eu["filters"]["region"] == "EU"

    germany = await (await client.get("/api/leaderboard?country=de")).json()
    assert {e["name"] for e in germany["entries"]} == {"Alice"}

    letter = (await (await client.get("/api/leaderboard")).json())["entries"][0]["rank"]
    ranked = await (await client.get(f"/api/leaderboard?rank={letter}")).json()
    assert ranked["entries"] and {e["rank"] for e in ranked["entries"]} == {letter}

    found = await (await client.get("/api/leaderboard?q=ALI")).json()
    assert {e["name"] for e in found["entries"]} == {"Alice"}
    assert [e["position"] for e in found["entries"]] == list(range(1, 3))[: len(found["entries"])]
    nobody = await (await client.get("/api/leaderboard?q=zzz&region=EU")).json()
    assert nobody["entries"] == [] and nobody["total_entries"] == 0
    both = await (await client.get(f"/api/leaderboard?q=a&region=NA&race={TERRAN}")).json()
    assert {e["name"] for e in both["entries"]} == {"Carol", "Dave"}

    best = await (await client.get("/api/leaderboard?best=1")).json()
    assert sorted(e["name"] for e in best["entries"]) == sorted(RANKED)


async def test_search_wildcards_are_text(client):
    assert (await (await client.get("/api/leaderboard?q=%25")).json())["entries"] == []
    assert (await (await client.get("/api/leaderboard?q=_")).json())["entries"] == []


async def test_filters_show_in_the_form_and_the_page_links_keep_them(small_pages):
    page = await get(small_pages, f"/?race={TERRAN}&region=EU&q=b")
    assert f'<option value="{TERRAN}" selected>' in page
    assert '<option value="EU" selected>' in page
    assert 'value="b"' in page
    page = await get(small_pages, f"/?race={TERRAN}")
    assert f'href="/?race={TERRAN}&amp;page=2"' in page
    second = await get(small_pages, f"/?race={TERRAN}&page=2")
    assert f'href="/?race={TERRAN}"' in second  # back to page 1: the short URL
    assert board_names(second) and board_names(second) != board_names(page)


@pytest.mark.parametrize(
    "page", ["-5", "0", "abc", "1e9", "99999999999999999999999999", "٣", "", "3"]
)
async def test_page_numbers_are_clamped(small_pages, page):
    api = await (await small_pages.get(f"/api/leaderboard?page={page}")).json()
    total_pages = api["total_pages"]
    assert api["total_entries"] == 11  # 6 Terran entries, 5 Zerg ones
    assert total_pages == 6  # two a page
    expected = {"3": 3, "99999999999999999999999999": total_pages}.get(page, 1)
    assert api["page"] == expected
    assert len(api["entries"]) == (1 if expected == total_pages else 2)  # 11 = 5 × 2 + 1
    html_page = await get(small_pages, f"/?page={page}")
    assert f"Page {expected} of {total_pages}" in html_page


async def test_unknown_filter_values_mean_all(client):
    everything = await (await client.get("/api/leaderboard")).json()
    odd = await (
        await client.get("/api/leaderboard?race=nope&region=XX&country=ZZ&rank=Q&best=maybe")
    ).json()
    assert odd["entries"] == everything["entries"]


# --- players --------------------------------------------------------------------------------


async def test_player_page(client, seeded):
    page = await get(client, "/players/Alice")
    assert "<h1 class=\"player-name\">Alice</h1>" in page
    assert "BW Terran" in page and "BW Zerg" in page
    # One chart per race, one point per rated match in that race.
    for race in (TERRAN, ZERG):
        expected = rows(
            seeded,
            "SELECT count(*) FROM matches WHERE status = 'finished' AND mmr_change IS NOT NULL"
            " AND ((player1_uid = :u AND player1_race = :r)"
            " OR (player2_uid = :u AND player2_race = :r))",
            {"u": seeded.uids["Alice"], "r": race},
        )[0][0]
        section = page[page.index(f'id="history-{race}"') :]
        section = section[: section.index("</section>")]
        assert section.count('<circle class="point"') == expected > 0
    # Recent matches: opponents, maps and rating changes, linked.
    assert f'href="/matches/{seeded.disputed}"' in page
    api = await (await client.get("/api/players/Alice")).json()
    assert 'href="/players/Bob"' in page
    for m in api["matches"]:
        assert f'href="/matches/{m["match"]}"' in page and m["map"] in page
    terran = next(r for r in api["ratings"] if r["race"] == TERRAN)
    stored = rows(
        seeded,
        "SELECT mmr, wins, losses, draws FROM ratings WHERE discord_uid = ? AND race = ?",
        (seeded.uids["Alice"], TERRAN),
    )[0]
    assert (terran["mmr"], terran["wins"], terran["losses"], terran["draws"]) == stored
    assert terran["history"][-1]["mmr"] == terran["mmr"]  # the last point is the rating now
    assert terran["rank"] in "SABCDEF" and terran["position"] >= 1
    first = api["matches"][0]
    assert set(first) >= {"match", "opponent", "map", "result", "mmr_change", "race"}


async def test_player_names_are_found_in_any_case(client):
    assert "Alice" in await get(client, "/players/ALICE")
    assert (await (await client.get("/api/players/alice")).json())["name"] == "Alice"


async def test_unknown_player_is_a_404(client):
    page = await get(client, "/players/Nobody", 404)
    assert "There is no player by that name." in page
    assert await (await client.get("/api/players/Nobody")).json() == {
        "error": "There is no player by that name."
    }


async def test_a_banned_player_is_only_banned(client, seeded):
    page = await get(client, "/players/Mallory")
    assert "This player is banned." in page
    assert "Ratings" not in page and "MMR" not in page and "/matches/" not in page
    assert await (await client.get("/api/players/Mallory")).json() == {
        "name": "Mallory",
        "banned": True,
    }
    bob = await get(client, "/players/Bob")
    assert "Mallory <span class=\"banned\">banned</span>" in bob
    assert 'href="/players/Mallory"' not in bob


# --- matches --------------------------------------------------------------------------------


async def test_disputed_match_shows_reports_evidence_and_the_ruling(client, seeded):
    page = await get(client, f"/matches/{seeded.disputed}")
    assert "<h2>Dispute</h2>" in page
    assert page.count("Win <span") == 2  # both reported a win
    assert "by an admin" in page and "replay shows &lt;Alice&gt;" in page
    assert "Ruling: <strong>Alice won</strong>" in page
    # Evidence: the note as text; the https link as text and as a nofollow link; the
    # javascript: URL as text only.
    assert "&lt;script&gt;alert(&#39;note&#39;)&lt;/script&gt;" in page
    assert 'rel="nofollow noopener"' in page
    assert 'href="https://replays.example.org/r/1?a=1&amp;b=&lt;2&gt;"' in page
    assert "<code>javascript:alert(document.cookie)</code>" in page
    main = page[page.index("<main>") : page.index("</main>")]
    hrefs = re.findall(r'href="([^"]*)"', main)
    assert not [h for h in hrefs if not h.startswith(("/", "https://", "http://"))]
    api = await (await client.get(f"/api/matches/{seeded.disputed}")).json()
    assert api["dispute"]["ruling"] == "p1_win" and api["dispute"]["ruled_by"] == "an admin"
    assert [e["url"] for e in api["dispute"]["evidence"]] == [
        SAFE_URL,
        "https://x.example/",
        JS_URL,
    ]
    assert api["dispute"]["evidence"][0]["note"] == HOSTILE_NOTE
    assert {api["player1"]["report"], api["player2"]["report"]} == {"win"}


async def test_a_corrected_match_shows_the_correction(client, seeded):
    api = await (await client.get(f"/api/matches/{seeded.corrected}")).json()
    assert api["result"] == "draw" and api["decided_by"] == "admin"
    (ruling,) = api["rulings"]
    assert ruling["before"] == "finished p1_win" and ruling["after"] == "finished draw"
    assert {c["player"] for c in ruling["rating_changes"]} >= {"Alice", "Bob"}
    assert api["player1"]["mmr_change"] == -api["player2"]["mmr_change"]
    page = await get(client, f"/matches/{seeded.corrected}")
    assert "Rulings and corrections" in page and "wrong report" in page


@pytest.mark.parametrize("match_id", ["999999", "0", "-1", "abc", "1e3", "99999999999999999999"])
async def test_unknown_match_is_a_404(client, match_id):
    page = await get(client, f"/matches/{match_id}", 404)
    assert "There is no match with that number." in page
    assert (await client.get(f"/api/matches/{match_id}")).status == 404


# --- activity -------------------------------------------------------------------------------


def heat_total(page: str, label: str) -> int:
    table = page[page.index(f'aria-label="{label}"') :]
    table = table[: table.index("</table>")]
    return sum(int(n) for n in re.findall(r'<td class="h\d">(\d+)</td>', table))


async def test_activity_counts_every_match_in_the_chosen_zone(client, seeded):
    (matches,) = rows(seeded, "SELECT count(*) FROM matches")[0]
    utc = await get(client, "/activity")
    assert heat_total(utc, "Matches per weekday and hour") == matches
    # Each match's two players joined the queue, and two more joined at the end.
    assert heat_total(utc, "Queue joins per weekday and hour") == 2 * matches + 2
    tokyo = await get(client, "/activity?tz=Asia/Tokyo")
    assert heat_total(tokyo, "Matches per weekday and hour") == matches
    assert '<option value="Asia/Tokyo" selected>' in tokyo
    assert tokyo != utc  # nine hours later: other cells
    unknown = await get(client, "/activity?tz=Mars/Olympus")
    assert '<option value="UTC" selected>' in unknown


async def test_activity_reads_matches_a_chunk_at_a_time_and_counts_each_once(site, seeded):
    (matches,) = rows(seeded, "SELECT count(*) FROM matches")[0]
    history = HistoryRepository(site.db)
    total, after, calls = 0, 0, 0
    while True:
        counts, after, seen = await history.match_hours(after, chunk=3)
        calls += 1
        assert seen <= 3 and sum(counts.values()) == seen
        total += seen
        if seen == 0:
            break
    assert total == matches and calls == -(-matches // 3) + 1  # the last call finds none
    # Requests at the same moment read the counts once between them.
    public = site.services.public
    grids = await asyncio.gather(*(public.activity("UTC") for _ in range(5)))
    assert {sum(map(sum, g.matches)) for g in grids} == {matches}


def test_an_activity_window_counts_only_the_hours_inside_it() -> None:
    from zoneinfo import ZoneInfo

    now = 500_000  # hours since the epoch
    hours = {now: 2, now - 4 * 168 + 1: 5, now - 4 * 168 - 1: 7, now - 52 * 168: 11}
    utc = ZoneInfo("UTC")
    assert sum(map(sum, _grid(hours, utc))) == 25  # all time
    assert sum(map(sum, _grid(hours, utc, since=now - 4 * 168))) == 7  # the last four weeks


# --- what is public -------------------------------------------------------------------------


async def test_no_page_shows_a_discord_id_or_a_raw_hostile_name(client, seeded):
    paths = [
        "/",
        "/?q=a",
        "/api/leaderboard",
        "/activity",
        *(player_path(name) for name in (*RANKED, "Mallory")),
        *(f"/api/players/{quote(name, safe='')}" for name in (*RANKED, "Mallory")),
        *(f"/matches/{i}" for i in range(1, seeded.corrected + 13)),
        *(f"/api/matches/{i}" for i in range(1, seeded.disputed + 1)),
    ]
    for path in paths:
        response = await client.get(path)
        body = await response.text()
        for uid in seeded.all_ids:
            assert str(uid) not in body, (path, uid)
        assert "Tag" not in body or "#1234" not in body  # no battletag
        if response.content_type == "text/html":
            assert "<script" not in body, path
            assert "<img" not in body, path


async def test_hostile_names_render_as_text_and_link_to_their_pages(client):
    board = await get(client, "/")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in board
    assert board_names(board).count(SCRIPT_NAME) == 1
    page = await get(client, player_path(SCRIPT_NAME))
    assert '<h1 class="player-name">&lt;script&gt;alert(1)&lt;/script&gt;</h1>' in page
    img = await get(client, player_path(IMG_NAME))
    assert "<title>&#34;&gt;&lt;img src=x onerror=alert(1)&gt; · ladderbot</title>" in img
    api = await (await client.get("/api/players/" + quote(IMG_NAME, safe=""))).json()
    assert api["name"] == IMG_NAME


async def test_pages_read_a_site_opened_fresh(seeded):
    """The site opened on the file as bot.py opens it serves the same data."""
    site = await open_site(seeded.path)
    try:
        async with TestClient(TestServer(create_app(site.services))) as fresh:
            assert "Alice" in await get(fresh, "/")
    finally:
        await site.close()
