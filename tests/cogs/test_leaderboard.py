"""The leaderboard's custom_ids: what a click carries, and that every bad one is refused.

These are the pure parts of cogs/leaderboard.py (the state encoding and the rendering from a
real `Standings`); the clicks themselves go through the real bot in
tests/e2e/test_leaderboard_routing.py.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

import i18n
from cogs.leaderboard import (
    ACTIONS,
    MAX_PAGE,
    PAGE_SIZE,
    BoardState,
    LeaderboardRenderer,
    _country_code,
    _country_number,
    decode_state,
    encode_state,
    leaderboard_embed,
    parse_page_number,
)
from i18n import speaking
from ladder.config import DEFAULT_RANK_SHARES
from ladder.errors import ValidationError
from ladder.standings import LeaderboardFilters, LeaderboardPage, Standings
from tests.support.pseudo import MARK

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
RACES = ("bw_terran", "bw_zerg", "sc2_protoss")
LETTERS = tuple(letter for letter, _ in DEFAULT_RANK_SHARES)
LONGEST_RACE = "r" * 32  # the longest race code ladder.toml allows
BIGGEST_UID = (1 << 64) - 1


def decode(custom: str, races=RACES, letters=LETTERS) -> tuple[BoardState, str]:
    prefix, *parts = custom.split(":")
    assert prefix == "lb"
    return decode_state(parts, races, letters)


def test_two_letters_and_their_number_map_one_to_one() -> None:
    codes = ["".join(p) for p in itertools.product("ABCDEFGHIJKLMNOPQRSTUVWXYZ", repeat=2)]
    numbers = [_country_number(code) for code in codes]
    assert sorted(numbers) == list(range(1, 26 * 26 + 1))
    assert [_country_code(n) for n in numbers] == codes


STATES = [
    BoardState(1),
    BoardState(123456789012345678, 7, LeaderboardFilters(race="bw_zerg")),
    BoardState(42, 3, LeaderboardFilters(country="FR", rank="A")),
    BoardState(
        BIGGEST_UID,
        MAX_PAGE,
        LeaderboardFilters(race="sc2_protoss", country="ZW", rank=LETTERS[-1], best_race_only=True),
    ),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_state_comes_back_from_its_custom_id(state: BoardState, action: str) -> None:
    custom = encode_state(state, action, RACES, LETTERS)
    assert len(custom) <= 100
    assert decode(custom) == (state, action)
    # All parts but the prefix and the action are digits, so the log's route is "lb:<action>".
    assert re.fullmatch(r"lb(:[0-9]+){6}:[a-z]+", custom), custom


def test_the_longest_state_fits_in_a_custom_id() -> None:
    races = (*RACES, LONGEST_RACE)
    letters = tuple(f"L{n}" for n in range(99))  # a ladder.toml with 99 rank names
    state = BoardState(
        BIGGEST_UID,
        MAX_PAGE,
        LeaderboardFilters(race=LONGEST_RACE, country="ZZ", rank="L98", best_race_only=True),
    )
    for action in ACTIONS:
        custom = encode_state(state, action, races, letters)
        assert len(custom) <= 100, custom


GOOD = "1:2:0:0:0:0:next"  # owner 1, page 2, no filter


@pytest.mark.parametrize(
    "parts",
    [
        "",
        "next",
        "1:2:0:0:0:next",  # a part missing
        "1:2:0:0:0:0:0:next",  # a part too many
        "1:2:0:0:0:0:explode",  # no such action
        "1:2:0:0:0:0:NEXT",
        "0:2:0:0:0:0:next",  # no user has uid 0
        f"{1 << 64}:2:0:0:0:0:next",  # not a 64-bit uid
        "123456789012345678901:2:0:0:0:0:next",  # 21 digits
        "1:0:0:0:0:0:next",  # pages start at 1
        f"1:{MAX_PAGE + 1}:0:0:0:0:next",
        "1:02:0:0:0:0:next",  # one state, one spelling
        "1:-2:0:0:0:0:next",
        "1: 2:0:0:0:0:next",
        "1:２:0:0:0:0:next",  # a full-width digit: str.isdigit() says yes
        "1:²:0:0:0:0:next",
        "1:2:4:0:0:0:next",  # three races
        f"1:2:0:{len(LETTERS) + 1}:0:0:next",
        "1:2:0:0:677:0:next",  # past "ZZ"
        f"1:2:0:0:{_country_number('ZZ')}:0:next",  # two letters, no country
        f"1:2:0:0:{_country_number('XX')}:0:next",
        "1:2:0:0:0:2:next",  # best is 0 or 1
        "1:2:bw_zerg:0:0:0:next",  # codes are not accepted in place of numbers
        "1:2:0:0:FR:0:next",
    ],
)
def test_a_bad_custom_id_is_not_recognised(parts: str) -> None:
    with pytest.raises(ValidationError, match="not recognised") as caught:
        decode_state(parts.split(":") if parts else [], RACES, LETTERS)
    assert caught.value.field == "custom_id"


def test_the_good_one_among_them_is_recognised() -> None:
    assert decode_state(GOOD.split(":"), RACES, LETTERS) == (BoardState(1, 2), "next")


def test_a_state_from_a_bigger_ladder_is_refused_by_a_smaller_one() -> None:
    """After a restart with fewer races or ranks, an old id pointing past them is refused."""
    custom = encode_state(
        BoardState(1, 1, LeaderboardFilters(race="sc2_protoss")), "next", RACES, LETTERS
    )
    with pytest.raises(ValidationError, match="not recognised"):
        decode(custom, races=RACES[:2])
    custom = encode_state(BoardState(1, 1, LeaderboardFilters(rank="F")), "next", RACES, LETTERS)
    with pytest.raises(ValidationError, match="not recognised"):
        decode(custom, letters=LETTERS[:3])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("3", 3), (" 1,000 ", 1000), ("1 000", 1000), ("1_000", 1000), ("1200", 1200)],
)
def test_parse_page_number_reads_what_people_type(typed: str, expected: int) -> None:
    assert parse_page_number(typed, 1200) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Please type a page number"),
        ("three", "Please type a page number"),
        ("-1", "Please type a page number"),
        ("٣", "Please type a page number"),  # an Arabic-Indic digit
        ("0", "There is no page 0"),
        ("1201", "There is no page 1,201"),
    ],
)
def test_parse_page_number_says_what_is_wrong(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_page_number(typed, 1200)


# --- rendering from real standings (nextcord's views and modals need a running loop) ------------


def standings(players: int = 45) -> Standings:
    """`players` ranked players with two races each, in three countries."""
    rows = []
    last = NOW - timedelta(days=1)
    for uid in range(1, players + 1):
        country = ("FR", "KR", "US")[uid % 3]
        for i, race in enumerate(RACES[:2]):
            mmr = 1000 + (uid * 37 + i * 11) % 500
            rows.append((uid, race, mmr, 10, 5, 5, 0, last, f"p{uid}", country, False))
    return Standings.load(rows, NOW, races=RACES, shares=DEFAULT_RANK_SHARES)


def renderer(board: Standings) -> LeaderboardRenderer:
    names = {"bw_terran": "BW Terran", "bw_zerg": "BW Zerg", "sc2_protoss": "SC2 Protoss"}
    return LeaderboardRenderer(board, names, dict(DEFAULT_RANK_SHARES))


def components(board) -> dict[str, dict]:
    """The rendered components by the action their custom_id names."""
    found = {}
    for row in board.view.to_components():
        for component in row["components"]:
            state, action = decode(component["custom_id"])
            found[action] = {**component, "state": state}
    return found


async def test_every_component_carries_the_page_shown() -> None:
    board = standings()
    pages = -(-90 // PAGE_SIZE)  # 45 players x 2 races
    # A page past the end is shown as the last one, and the components say so.
    shown = renderer(board).render(BoardState(5, 99), NOW)
    assert shown.page.page == shown.state.page == pages
    by_action = components(shown)
    assert set(by_action) == {"race", "rank", "country", "prev", "next", "jump", "best", "clear"}
    assert {c["state"] for c in by_action.values()} == {BoardState(5, pages)}
    assert not by_action["prev"].get("disabled")
    assert by_action["next"]["disabled"]
    assert by_action["clear"]["disabled"]  # no filter to clear
    assert f"Page {pages} of {pages}" in shown.embed.footer.text


async def test_filters_are_shown_selected_and_carried() -> None:
    board = standings()
    filters = LeaderboardFilters(race="bw_zerg", country="KR", best_race_only=True)
    shown = renderer(board).render(BoardState(5, 1, filters), NOW)
    by_action = components(shown)
    assert {c["state"].filters for c in by_action.values()} == {filters}
    chosen = {
        name: [o["value"] for o in by_action[name]["options"] if o.get("default")]
        for name in ("race", "rank", "country")
    }
    assert chosen == {"race": ["bw_zerg"], "rank": ["*"], "country": ["KR"]}
    assert by_action["best"]["label"] == "Best race only: on"
    assert not by_action["clear"].get("disabled")
    assert "BW Zerg" in shown.embed.description and "best race only" in shown.embed.description


async def test_what_the_selects_offer_is_what_a_click_may_send() -> None:
    board = standings()
    draw = renderer(board)
    state = BoardState(5)
    by_action = components(draw.render(state, NOW))
    for name in ("race", "rank", "country"):
        offered = {o["value"] for o in by_action[name]["options"]}
        assert offered <= draw.offered(name, state, NOW), name
    assert "ZZ" not in draw.offered("country", state, NOW)
    assert "DE" not in draw.offered("country", state, NOW)  # nobody ranked there
    assert "bw_protoss" not in draw.offered("race", state, NOW)


async def test_a_board_is_drawn_once_per_change_and_language_with_each_owner_s_ids() -> None:
    """Every /leaderboard opens on the same first page: drawn once, then only the custom_ids
    are written per player; a change to the standings (a name too) or another language draws
    it again."""
    board = standings()
    draw = renderer(board)
    first, second = draw.render(BoardState(5), NOW), draw.render(BoardState(6), NOW)
    assert first.embed is second.embed
    assert {c["state"] for c in components(first).values()} == {BoardState(5)}
    assert {c["state"] for c in components(second).values()} == {BoardState(6)}
    assert components(first)["race"]["options"] == components(second)["race"]["options"]
    top = first.page.entries[0]
    board.set_player(top.uid, "Renamed", top.country)
    renamed = draw.render(BoardState(5), NOW)
    assert renamed.embed is not first.embed and "Renamed" in (renamed.embed.description or "")
    with speaking("ko"):
        korean = draw.render(BoardState(5), NOW)
    assert korean.embed.title != renamed.embed.title
    assert draw.render(BoardState(5), NOW).embed is renamed.embed  # English again, as drawn


async def test_the_rendered_view_is_not_kept_by_nextcord() -> None:
    """A stopped view that does not "prevent updates": nextcord's send path stores neither."""
    view = renderer(standings()).render(BoardState(5), NOW).view
    assert view.is_finished()
    assert not view.prevent_update


async def test_the_jump_modal_carries_the_state_and_is_not_kept() -> None:
    draw = renderer(standings())
    state = BoardState(5, 2, LeaderboardFilters(country="FR"))
    modal = draw.jump_modal(state, 9)
    assert decode(modal.custom_id) == (state, "page")
    assert modal.is_finished()
    assert "1 to 9" in modal.to_dict()["components"][0]["components"][0]["label"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1.000", 1000), ("1\u00a0000", 1000), ("1\u202f000", 1000), ("1'000", 1000)],
)
def test_parse_page_number_reads_other_languages_thousands(typed: str, expected: int) -> None:
    """Spanish writes 1.000, Russian 1 000 with a no-break space: the bot writes them so too."""
    assert parse_page_number(typed, 1200) == expected


# --- in the reader's language ---------------------------------------------------------------





def texts(board) -> dict[str, list[str]]:
    """Every text a player reads on a leaderboard message, by where it is."""
    shown: dict[str, list[str]] = {"labels": [], "placeholders": [], "options": []}
    for row in board.view.to_components():
        for component in row["components"]:
            if "label" in component:
                shown["labels"].append(component["label"])
            if "placeholder" in component:
                shown["placeholders"].append(component["placeholder"])
            for option in component.get("options", []):
                shown["options"].append(option)
    return shown


async def test_every_text_of_the_leaderboard_goes_through_the_catalog(pseudo) -> None:
    filters = LeaderboardFilters(country="KR", rank="A", best_race_only=True)
    draw = renderer(standings())
    with speaking("ko"):
        board = draw.render(BoardState(5, 1, filters), NOW)
        modal = draw.jump_modal(BoardState(5), 9).to_dict()
    embed = board.embed
    assert embed.title and MARK.match(embed.title), embed.title
    footer = embed.footer.text.split(" · ")
    assert len(footer) == 3 and all(MARK.match(part) for part in footer), footer
    filter_line, *entries = (embed.description or "").split("\n")
    assert (
        MARK.match(filter_line) and "⟪rank A⟫" in filter_line and "⟪best race only⟫" in filter_line
    )
    entries = [line for line in entries if line]
    assert entries and all(MARK.match(line) for line in entries), entries
    shown = texts(board)
    assert len(shown["labels"]) == 5 and all(MARK.match(t) for t in shown["labels"])
    assert len(shown["placeholders"]) == 3 and all(MARK.match(t) for t in shown["placeholders"])
    alls = [o["label"] for o in shown["options"] if o["value"] == "*"]
    assert len(alls) == 3 and all(MARK.match(t) for t in alls)
    ranks = [o for o in shown["options"] if o["value"] in LETTERS]
    assert ranks and all(MARK.match(o["label"]) and MARK.match(o["description"]) for o in ranks)
    countries = [o for o in shown["options"] if o["value"] in {"FR", "KR", "US"}]
    assert countries and all(MARK.match(o["description"]) for o in countries)
    assert MARK.match(modal["title"])
    assert MARK.match(modal["components"][0]["components"][0]["label"])


async def test_the_option_lists_are_kept_per_language(pseudo) -> None:
    """A select drawn for a Korean reader must not be served to the next English one."""
    draw = renderer(standings())
    with speaking("ko"):
        korean = texts(draw.render(BoardState(5), NOW))
    english = texts(draw.render(BoardState(6), NOW))
    assert all(MARK.match(o["label"]) for o in korean["options"] if o["value"] == "*")
    assert [o["label"] for o in english["options"] if o["value"] == "*"] == [
        "All races",
        "All ranks",
        "All countries",
    ]


@pytest.mark.parametrize("language", i18n.LOCALES)
async def test_the_leaderboard_renders_in_every_language(language: str) -> None:
    """Every placeholder is filled whatever the catalog holds (a missing one would raise)."""
    board = standings()
    filters = LeaderboardFilters(race="bw_zerg", country="FR", rank="B", best_race_only=True)
    with speaking(language):
        shown = renderer(board).render(BoardState(5, 1, filters), NOW)
        empty = renderer(standings(0)).render(BoardState(5), NOW)
        with pytest.raises(ValidationError) as caught:
            parse_page_number("0", 1200)
        refused = caught.value.translated()
    for text in (shown.embed.description, shown.embed.footer.text, empty.embed.description):
        assert text and "{" not in text, text
    assert "0" in refused and "{" not in refused


def test_counted_texts_agree_with_their_number() -> None:
    """One left-out entry, one day of inactivity: singular forms, not "1 entries"."""
    page = LeaderboardPage(
        entries=(),
        page=1,
        page_size=PAGE_SIZE,
        total_pages=1,
        total_entries=0,
        ranked_entries=0,
        filters=LeaderboardFilters(),
        left_out=1,
    )
    embed = leaderboard_embed(page, {}, 1)
    assert "*1 more active entry is left out" in (embed.description or "")
    assert embed.footer.text.endswith("unranked: no game in the last 1 day")
