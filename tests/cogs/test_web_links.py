"""Links from Discord to the website: on every /profile, /leaderboard and match message when
WEB_BASE_URL is set, none when it is not, and each opens the page it names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

from cogs.leaderboard import BoardState, LeaderboardRenderer
from cogs.match_ui import match_embed
from cogs.web_links import leaderboard_link, match_link, player_link
from ladder.config import DEFAULT_RANK_SHARES, LadderConfig
from ladder.records import MatchRecord
from ladder.reports import MatchStatus
from ladder.standings import LeaderboardFilters, Standings
from services.public import PublicLadder

BASE = "https://ladder.example.org"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONFIG = LadderConfig(map_pool=("Eclipse",))


def test_no_base_url_no_links():
    assert player_link(None, "Alice") is None
    assert match_link(None, 7) is None
    assert leaderboard_link(None, LeaderboardFilters()) is None


def test_player_link_encodes_the_whole_name():
    assert player_link(BASE, "Alice") == f"{BASE}/players/Alice"
    assert (
        player_link(BASE, "<script>alert(1)</script>")
        == f"{BASE}/players/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    )
    assert player_link(BASE, "a b?c#d") == f"{BASE}/players/a%20b%3Fc%23d"
    assert player_link(BASE, None) is None  # no ladder name yet: no page to link


def test_leaderboard_link_opens_the_same_view_on_the_site():
    standings = Standings(CONFIG.race_codes, DEFAULT_RANK_SHARES, 14, NOW)
    site = PublicLadder(CONFIG, standings, None, None)  # type: ignore[arg-type]  # parse only
    assert leaderboard_link(BASE, LeaderboardFilters()) == f"{BASE}/"
    for filters, page in (
        (LeaderboardFilters(race=CONFIG.race_codes[1]), 1),
        (LeaderboardFilters(country="DE", rank="B", best_race_only=True), 3),
        (LeaderboardFilters(race=CONFIG.race_codes[0], rank="S"), 12),
    ):
        url = leaderboard_link(BASE, filters, page)
        assert url is not None and url.startswith(f"{BASE}/?")
        query = site.parse_query(dict(parse_qsl(urlsplit(url).query)))
        assert (query.filters, query.page) == (filters, page)


async def test_leaderboard_message_links_its_view_only_with_a_base_url():
    standings = Standings(CONFIG.race_codes, DEFAULT_RANK_SHARES, 14, NOW)
    names = {race.code: race.name for race in CONFIG.races}
    state = BoardState(owner=5, filters=LeaderboardFilters(country="FR"))
    linked = LeaderboardRenderer(standings, names, dict(DEFAULT_RANK_SHARES), BASE)
    assert linked.render(state, NOW).embed.url == f"{BASE}/?country=FR"
    plain = LeaderboardRenderer(standings, names, dict(DEFAULT_RANK_SHARES))
    assert plain.render(state, NOW).embed.url is None


def test_match_message_links_the_match_page():
    match = MatchRecord(
        id=42,
        status=MatchStatus.FINISHED,
        player1_uid=1,
        player1_race=CONFIG.race_codes[0],
        player1_mmr=1500,
        player2_uid=2,
        player2_race=CONFIG.race_codes[1],
        player2_mmr=1500,
        map="Eclipse",
        created_at=NOW,
        confirm_deadline=NOW + timedelta(minutes=5),
    )
    names = {1: "Alice", 2: "Bob"}
    assert match_embed(match, 1, names, CONFIG, BASE).url == f"{BASE}/matches/42"
    assert match_embed(match, 1, names, CONFIG).url is None
