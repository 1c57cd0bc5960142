"""ISO 3166-1 countries, from pycountry (maintained upstream, not a hand-kept list).

Names are shown in the current language (i18n): pycountry ships its own gettext catalogs of
ISO 3166-1 names (domain "iso3166-1", `pycountry.LOCALES_DIR`), read once per language. A
search matches the localised name as well as the English names and the codes, so a player
can type either.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache

import icu
import pycountry

from i18n import SOURCE, current

AUTOCOMPLETE_LIMIT = 25  # Discord's maximum number of autocomplete choices
_ISO_DOMAIN = "iso3166-1"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    """pycountry's catalog of country names in `language` (none for English)."""
    if language == SOURCE:
        return gettext.NullTranslations()
    return gettext.translation(
        _ISO_DOMAIN, pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def _local_name(country: object, english: str, language: str) -> str:
    """The country's name in `language`: its common name translated if the catalog has it,
    else its ISO name translated, else the English display name."""
    book = _catalog(language)
    for source in (getattr(country, "common_name", None), getattr(country, "name", None)):
        if source:
            translated = book.gettext(source)
            if translated != source:
                return translated
    return english


@cache
def _countries(language: str = SOURCE) -> tuple[tuple[str, str, str], ...]:
    """(alpha_2, display name, folded search text) in `language`, sorted by display name.

    The search text holds the localised name and every English name and code, so a search in
    any language also finds a country by its English name or its alpha-3 code."""
    rows = []
    for country in pycountry.countries:
        english = getattr(country, "common_name", None) or country.name
        name = english if language == SOURCE else _local_name(country, english, language)
        search = " ".join(
            _fold(n)
            for n in (
                name,
                english,
                country.name,
                getattr(country, "official_name", ""),
                country.alpha_3,
            )
            if n
        )
        rows.append((country.alpha_2, name, search))
    if language == SOURCE:
        return tuple(sorted(rows, key=lambda row: _fold(row[1])))
    # The language's own alphabetical order (ICU's collation: pinyin for Chinese, ...).
    collator = icu.Collator.createInstance(icu.Locale(language))
    return tuple(sorted(rows, key=lambda row: collator.getSortKey(row[1])))


@cache
def _by_code(language: str = SOURCE) -> dict[str, str]:
    return {code: name for code, name, _ in _countries(language)}


def country_name(code: str) -> str:
    """The display name of an alpha-2 code in the current language ('FR' → 'France'); the
    code itself if unknown."""
    return _by_code(current()).get(code.upper(), code)


def english_country_name(code: str) -> str:
    """The English display name of an alpha-2 code (for logs and hosts)."""
    return _by_code(SOURCE).get(code.upper(), code)


def resolve_country(text: str) -> str | None:
    """Return the alpha-2 code for an alpha-2 or alpha-3 code or a name (English, or in the
    current language); None if there is none."""
    wanted = text.strip()
    if not wanted:
        return None
    if wanted.upper() in _by_code():
        return wanted.upper()
    if len(wanted) == 3 and (country := pycountry.countries.get(alpha_3=wanted.upper())):
        return country.alpha_2
    folded = _fold(wanted)
    for country in pycountry.countries:
        names = (
            getattr(country, "common_name", ""),
            country.name,
            getattr(country, "official_name", ""),
        )
        if folded in (_fold(n) for n in names if n):
            return country.alpha_2
    language = current()
    if language != SOURCE:
        for code, name, _ in _countries(language):
            if _fold(name) == folded:
                return code
    return None


@cache
def _search_rows(language: str) -> tuple[tuple[str, str, tuple[str, str, str], str], ...]:
    """Per country, folded once: (code, shown name, (folded name, folded English name, folded
    code), search text). Autocomplete runs a search per keystroke; folding ~250 names twice
    each time was most of its cost."""
    english = _by_code(SOURCE)
    return tuple(
        (code, name, (_fold(name), _fold(english[code]), code.casefold()), search)
        for code, name, search in _countries(language)
    )


def search_countries(text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, str]]:
    """Return up to `limit` (code, name) pairs matching `text`, names in the current
    language: prefix matches (of the shown name or the English one, or the code) first."""
    rows = _search_rows(current())
    folded = _fold(text.strip())
    if not folded:
        return [(code, name) for code, name, _, _ in rows[:limit]]
    prefix, inner = [], []
    for code, name, (local, english, lowered), search in rows:
        if local.startswith(folded) or english.startswith(folded) or lowered == folded:
            prefix.append((code, name))
        elif folded in search:
            inner.append((code, name))
    return (prefix + inner)[:limit]


def country_pages(page_size: int = 25) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Split the sorted country list into pages that fit one select: (label, ((code, name), ...)).

    A label names the first and last country of its page ("Afghanistan – Burundi"), so a player
    can find any of the ~250 countries with two selects of at most 25 options each. Names and
    their order are the current language's, so a page number means the same page only within
    one language.
    """
    return _pages(current(), page_size)


@cache
def _pages(language: str, page_size: int) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    rows = [(code, name) for code, name, _ in _countries(language)]
    pages = []
    for start in range(0, len(rows), page_size):
        chunk = tuple(rows[start : start + page_size])
        label = f"{chunk[0][1][:45]} – {chunk[-1][1][:45]}"
        pages.append((label, chunk))
    return tuple(pages)
