"""The detector the language tests rely on: it finds a planted English sentence, and lets names,
numbers and English kept on purpose by the translators through."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from i18n import LOCALES
from tests.support.leaks import (
    LeakDetector,
    Seen,
    describe,
    fragments,
    texts_of_body,
    texts_of_modal,
)

QUEUED = "You are in the queue for {minutes} minutes."
FOUND = "**Match #{match_id}** found: confirm within {minutes} minutes."
BATTLETAG = "Battletag (Name#1234)"
UNTRANSLATED = "An admin will rule on this match soon."
SETUP_FIRST = "Use `/setup` first, then run `/queue` again."


def write(path: Path, catalog: Catalog) -> Path:
    with path.open("wb") as f:
        write_po(f, catalog)
    return path


@pytest.fixture
def detector(tmp_path: Path) -> LeakDetector:
    """Spanish, with one message translated as the English itself and one not translated."""
    template, spanish = Catalog(), Catalog(locale="es")
    for msgid, msgstr in (
        (QUEUED, "Estás en la cola durante {minutes} minutos."),
        (FOUND, "**Partida #{match_id}** encontrada: confirma en {minutes} minutos."),
        (BATTLETAG, BATTLETAG),
        (UNTRANSLATED, ""),
        (SETUP_FIRST, "Usa `/setup` primero y luego `/queue` otra vez."),
    ):
        template.add(msgid)
        spanish.add(msgid, msgstr)
    template.add("setup", context="command")  # a command name: never shown as text
    spanish.add("setup", "configurar", context="command")
    pot, po = write(tmp_path / "t.pot", template), write(tmp_path / "es.po", spanish)
    return LeakDetector.for_language("es", template=pot, catalog=po)


def test_it_catches_a_planted_english_sentence(detector: LeakDetector) -> None:
    seen = [
        Seen("queue reply embed description", "Estás en la cola durante 5 minutos."),
        Seen("match DM embed title", "**Partida #3** encontrada: confirma en 2 minutos."),
        Seen("queue reply content", "Ok. You are in the queue for 5 minutes."),
    ]
    (leak,) = detector.leaks(seen)
    assert (leak.msgid, leak.where) == (QUEUED, "queue reply content")
    assert leak.fragment == "You are in the queue for"
    report = describe([leak])
    assert QUEUED in report and "queue reply content" in report


def test_an_untranslated_message_is_a_leak_too(detector: LeakDetector) -> None:
    (leak,) = detector.leaks([Seen("DM", "An admin will rule on this match soon.")])
    assert leak.msgid == UNTRANSLATED


def test_a_fragment_between_placeholders_and_markdown_is_found(detector: LeakDetector) -> None:
    (leak,) = detector.leaks([Seen("DM", "**Match #7** found:  confirm\nwithin 3 minutes.")])
    assert leak.msgid == FOUND


def test_it_ignores_names_and_numbers(detector: LeakDetector) -> None:
    seen = [
        Seen("match DM field", "Alice (you) — 1500 MMR"),
        Seen("match DM field", "Bob#1234 vs Matchmaking Champion"),
        Seen("button label", "Confirmar"),
        Seen("profile", "`/setup` `/queue` 2026-12-05"),
    ]
    assert detector.leaks(seen) == []


def test_it_ignores_an_english_text_whose_translation_is_identical(
    detector: LeakDetector,
) -> None:
    assert detector.leaks([Seen("modal label", "Battletag (Name#1234)")]) == []


def test_english_players_see_no_leaks_whatever_they_read() -> None:
    english = LeakDetector.for_language("en")
    assert english.watched == {}
    assert english.leaks([Seen("DM", "You are in the queue for 5 minutes.")]) == []


@pytest.mark.parametrize("language", [lang for lang in LOCALES if lang != "en"])
def test_the_real_template_and_catalogs_load(language: str) -> None:
    LeakDetector.for_language(language)  # parses; what it watches depends on the catalog


def test_fragments_cut_at_placeholders_code_and_markdown() -> None:
    assert fragments(FOUND) == ["found: confirm within"]
    assert fragments("Abort ({count} left this month)") == ["left this month"]
    assert fragments(SETUP_FIRST) == ["first, then run"]  # `/setup`, `/queue` stay as typed
    assert fragments("Confirmation") == ["Confirmation"]  # 12 letters: long enough alone
    assert fragments("Battletag") == fragments("I won") == fragments("{name} vs {other}") == []


def test_what_a_player_sees_of_a_message_and_a_modal() -> None:
    body = {
        "content": "hello",
        "embeds": [{"title": "T", "description": "D", "fields": [{"name": "N", "value": "V"}],
                    "footer": {"text": "F"}, "author": {"name": "A"}}],
        "components": [{"type": 1, "components": [
            {"type": 2, "label": "Join", "custom_id": "queue_view:join"},
            {"type": 3, "custom_id": "races", "placeholder": "Your races",
             "options": [{"label": "BW Terran", "value": "bw_terran", "description": "R"}]},
        ]}],
    }  # fmt: skip
    texts = {s.text for s in texts_of_body(body, "reply")}
    assert texts == {"hello", "T", "D", "N", "V", "F", "A", "Join", "Your races", "BW Terran",
                     "R"}
    modal = {"title": "Your profile", "custom_id": "setup:modal", "components": [
        {"type": 18, "label": "Player name", "component": {
            "type": 4, "custom_id": "setup:player_name", "placeholder": "As shown"}},
        {"type": 1, "components": [{"type": 4, "custom_id": "setup:battletag",
                                    "label": "Battletag"}]},
    ]}  # fmt: skip
    seen = list(texts_of_modal(modal, "/setup"))
    assert {s.text for s in seen} == {"Your profile", "Player name", "As shown", "Battletag"}
    assert all(s.where.startswith("/setup modal") for s in seen)
