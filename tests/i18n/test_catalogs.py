"""The catalogs are complete, consistent with the code, and safe to show.

Every language's .po has every message of the template, translated (none empty, none fuzzy),
with the same placeholders as the English; the template is what the code holds today; every
translated command name is one Discord accepts.
"""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from cogs.localize import valid_name
from i18n import DOMAIN, LOCALE_DIR, LOCALES, SOURCE

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "i18n" / "ladderbot.pot"
TRANSLATED = [language for language in LOCALES if language != SOURCE]
_PERCENT = re.compile(r"%\((\w+)\)[sd]")


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, domain=DOMAIN)


def po(language: str) -> Catalog:
    return read(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")


def placeholders(text: str) -> set[str]:
    """The named values a text puts in: {name} (code) and %(name)s (templates)."""
    names = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    return names | set(_PERCENT.findall(text))


def ids(message: Message) -> tuple[str, ...]:
    """The message's id, and its plural id if it has one."""
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (str(message.id),)


def forms(message: Message) -> tuple[str, ...]:
    """The translation, one text per plural form ("" when empty)."""
    text = message.string
    if isinstance(text, (tuple, list)):
        return tuple(str(t or "") for t in text)
    return (str(text or ""),)


def text_of(message: Message) -> str:
    return forms(message)[0]


def key(message: Message) -> tuple[str | None, str]:
    return message.context, ids(message)[0]


def messages(catalog: Catalog) -> dict[tuple[str | None, str], Message]:
    return {key(m): m for m in catalog if m.id}


@pytest.fixture(scope="module")
def template() -> dict[tuple[str | None, str], Message]:
    return messages(read(TEMPLATE))


def test_the_template_is_what_the_code_holds(tmp_path: Path) -> None:
    """A new or changed text in the code without `scripts/translations.sh update` fails here."""
    fresh = tmp_path / "fresh.pot"
    script = (ROOT / "scripts" / "translations.sh").read_text(encoding="utf-8")
    assert 'POT=i18n/ladderbot.pot' in script
    subprocess.run(
        ["bash", "-c", script.replace("POT=i18n/ladderbot.pot", f"POT={fresh}"),
         str(ROOT / "scripts" / "translations.sh"), "extract"],
        cwd=ROOT, check=True, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )
    missing = messages(read(fresh)).keys() - messages(read(TEMPLATE)).keys()
    stale = messages(read(TEMPLATE)).keys() - messages(read(fresh)).keys()
    assert not missing, f"run scripts/translations.sh update; not in the template: {missing}"
    assert not stale, f"run scripts/translations.sh update; no longer in the code: {stale}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str, template: dict) -> None:
    catalog = messages(po(language))
    assert template.keys() - catalog.keys() == set(), "run scripts/translations.sh update"
    assert catalog.keys() - template.keys() == set(), "obsolete entries: run update"
    fuzzy = [k for k, m in catalog.items() if m.fuzzy]
    empty = [k for k, m in catalog.items() if not all(f.strip() for f in forms(m))]
    assert fuzzy == [] and empty == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = []
    for message in messages(po(language)).values():
        source = ids(message)
        wanted = placeholders(source[-1]) | placeholders(source[0])
        for form in forms(message):
            if form and placeholders(form) != wanted:
                wrong.append((source[0], form))
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_entries_have_every_form_of_the_language(language: str) -> None:
    catalog = po(language)
    for message in messages(catalog).values():
        if message.pluralizable:
            assert len(forms(message)) == catalog.num_plurals, ids(message)[0]


@pytest.mark.parametrize("language", TRANSLATED)
def test_command_names_are_valid_for_discord(language: str) -> None:
    for (context, msgid), message in messages(po(language)).items():
        if context == "command":
            assert valid_name(text_of(message)), (msgid, text_of(message))
        if context == "choice":
            assert 1 <= len(text_of(message)) <= 100, (msgid, text_of(message))


@pytest.mark.parametrize("language", TRANSLATED)
def test_descriptions_fit_discord(language: str, template: dict) -> None:
    described = {k for k, m in template.items()
                 if any("description" in c for c in m.auto_comments)}
    catalog = messages(po(language))
    too_long = [text_of(catalog[k]) for k in described if len(text_of(catalog[k])) > 100]
    assert too_long == []


def test_the_template_marks_the_language_choice_untranslated() -> None:
    """/language offers each language by its own name; those are not in the catalogs."""
    template = read(TEMPLATE)
    assert template.get("Русский", "choice") is None
