"""Domain texts render in every language: each message's placeholders are filled, English stays
the default, and names (countries, weekdays) follow the current language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from i18n import LOCALES, speaking
from ladder.activity import BusyHour
from ladder.cooldowns import Cooldown
from ladder.countries import country_name, country_pages, resolve_country, search_countries
from ladder.errors import LadderError
from ladder.guards import REFUSALS
from ladder.notifications import notice_text, parse_quiet_hours
from ladder.players import describe_country, validate_name, validate_region
from ladder.queue_board import BoardEntry, board_text
from ladder.replays import REFUSAL_TEXT, MatchFacts, ReplayFacts, ReplayPlayer, describe, verify

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _errors() -> list[LadderError]:
    found: list[LadderError] = [Cooldown("budget", 1).refusal(), Cooldown("queue", 2.5).refusal()]
    for call in (
        lambda: validate_name("Аlice"),  # Cyrillic А: mixed scripts
        lambda: validate_name("a b c"),
        lambda: validate_name("ab"),
        lambda: validate_region("Mars", {"EU": "Europe"}),
        lambda: parse_quiet_hours("later"),
    ):
        with pytest.raises(LadderError) as caught:
            call()
        found.append(caught.value)
    return found


@pytest.mark.parametrize("language", LOCALES)
def test_messages_render_with_every_value_filled(language: str) -> None:
    errors = _errors()
    facts = ReplayFacts(
        "5.0", "Polypoid LE", "1v1", NOW, 600,
        (ReplayPlayer("A", "Zerg", "Win", True), ReplayPlayer("B", "Terran", "Loss", True)),
    )  # fmt: skip
    match = MatchFacts(7, ("X",), ("Y",), "sc2_zerg", "sc2_terran", "Polypoid", NOW, None)
    with speaking(language):
        for error in errors:
            assert "{" not in error.translated() and error.translated_title()
        for text in (*REFUSALS.values(), *REFUSAL_TEXT.values()):
            assert text
        assert "{" not in str(verify(facts, match).message)
        assert "{" not in describe(facts)
        assert "{" not in notice_text("BW Zerg", "EU", 1637) + notice_text("BW Zerg", None, 1500)
        board = board_text([BoardEntry(("bw_zerg",), None, NOW)], NOW, {}, ())
        assert "{" not in board
        assert str(BusyHour(0, 20, 1, 0)).endswith("20:00-21:00")


def test_english_stays_the_default() -> None:
    cooldown = Cooldown("budget", 1).refusal()
    assert cooldown.user_message == "You are sending commands too fast. Try again in 1 second."
    with speaking("ru"):  # logs and tests read English whatever the language
        assert (
            Cooldown("x", 3).refusal().user_message == "You just used this. Try again in 3 seconds."
        )
    assert str(BusyHour(0, 20, 1, 0)) == "Monday 20:00-21:00"
    assert describe_country("FR") == "🇫🇷 France" and describe_country(None) == "not set"


@pytest.mark.parametrize(
    ("language", "france", "germany"),
    [("es", "Francia", "Alemania"), ("ko", "프랑스", "독일"), ("ru", "Франция", "Германия"),
     ("zh_CN", "法国", "德国")],
)  # fmt: skip
def test_countries_in_the_current_language(language: str, france: str, germany: str) -> None:
    country_pages_in_english = [row for _, page in country_pages() for row in page]
    with speaking(language):
        assert country_name("FR") == france
        assert describe_country("DE") == f"🇩🇪 {germany}"
        # Autocomplete finds a country by its localised name, its English name and its code.
        assert ("DE", germany) in search_countries(germany[:2])
        assert search_countries("Germ")[0] == ("DE", germany)
        assert ("DE", germany) in search_countries("deu")
        assert resolve_country(germany) == "DE" and resolve_country("Germany") == "DE"
        codes = [code for _, page in country_pages() for code, _ in page]
        assert sorted(codes) == sorted(code for code, _ in country_pages_in_english)
        assert (
            "DE",
            germany,
        ) in [row for _, page in country_pages() for row in page]
    assert country_name("FR") == "France"
