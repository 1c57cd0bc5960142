"""ISO 3166-1 countries, from pycountry (maintained upstream, not a hand-kept list)."""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry

AUTOCOMPLETE_LIMIT = 25  # Discord's maximum number of autocomplete choices


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@cache
def _countries() -> tuple[tuple[str, str, str], ...]:
    """(alpha_2, display name, folded search text), sorted by display name."""
    rows = []
    for country in pycountry.countries:
        name = getattr(country, "common_name", None) or country.name
        search = " ".join(
            _fold(n)
            for n in (name, country.name, getattr(country, "official_name", ""), country.alpha_3)
            if n
        )
        rows.append((country.alpha_2, name, search))
    return tuple(sorted(rows, key=lambda row: _fold(row[1])))


@cache
def _by_code() -> dict[str, str]:
    return {code: name for code, name, _ in _countries()}


def country_name(code: str) -> str:
    """The display name of an alpha-2 code ('FR' → 'France'); the code itself if unknown."""
    return _by_code().get(code.upper(), code)


def resolve_country(text: str) -> str | None:
    """Return the alpha-2 code for an alpha-2 or alpha-3 code or a name; None if there is none."""
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
    return None


def search_countries(text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[tuple[str, str]]:
    """Return up to `limit` (code, name) pairs matching `text`: prefix matches first."""
    folded = _fold(text.strip())
    if not folded:
        return [(code, name) for code, name, _ in _countries()[:limit]]
    prefix, inner = [], []
    for code, name, search in _countries():
        if _fold(name).startswith(folded) or code.casefold() == folded:
            prefix.append((code, name))
        elif folded in search:
            inner.append((code, name))
    return (prefix + inner)[:limit]


@cache
def country_pages(page_size: int = 25) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Split the sorted country list into pages that fit one select: (label, ((code, name), ...)).

    A label names the first and last country of its page ("Afghanistan – Burundi"), so a player
    can find any of the ~250 countries with two selects of at most 25 options each.
    """
    rows = [(code, name) for code, name, _ in _countries()]
    pages = []
    for start in range(0, len(rows), page_size):
        chunk = tuple(rows[start : start + page_size])
        label = f"{chunk[0][1][:45]} – {chunk[-1][1][:45]}"
        pages.append((label, chunk))
    return tuple(pages)
