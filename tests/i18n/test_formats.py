"""Counted words and dates as each language writes them: Russian's three plural forms (1, 2–4,
5+, and 21 back to the first), Korean and Chinese dates.

No message about wins is counted with n_() in the code yet, so the win forms are checked against
a small Russian catalog built here (the contract's own example, "{count} win"), put in place of
i18n's catalog for the test. The real Russian catalog must declare the same plural rule, and
every plural message it translates must choose its forms by that rule.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import NullTranslations, Translations

import i18n
from i18n import format_date, format_datetime, format_number, n_, speaking
from tests.support.leaks import TEMPLATE, po_path, read_catalog

WIN = ("{count} win", "{count} wins")
RUSSIAN_WINS = ("{count} победа", "{count} победы", "{count} побед")


def compiled(catalog: Catalog) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=i18n.DOMAIN)


@pytest.fixture
def russian_wins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """i18n's Russian catalog is one that translates "{count} win" (and nothing else)."""
    catalog = Catalog(locale="ru", domain=i18n.DOMAIN)
    catalog.add(WIN, RUSSIAN_WINS)
    russian = compiled(catalog)
    real = i18n.catalog

    def catalogs(language: str) -> NullTranslations:
        return russian if language == "ru" else real(language)

    monkeypatch.setattr(i18n, "catalog", catalogs)
    yield


@pytest.mark.parametrize(
    ("wins", "shown"),
    [(1, "1 победа"), (2, "2 победы"), (5, "5 побед"), (21, "21 победа"), (11, "11 побед"),
     (1000, "1\xa0000 побед")],
)  # fmt: skip
def test_russian_wins_take_the_form_of_their_number(russian_wins: None, wins: int,
                                                    shown: str) -> None:
    with speaking("ru"):
        assert n_(*WIN, wins) == shown
    with speaking("en"):
        assert n_(*WIN, wins) == f"{format_number(wins)} {'win' if wins == 1 else 'wins'}"


def test_the_russian_catalog_has_russian_plural_rule() -> None:
    catalog = read_catalog(po_path("ru"))
    assert catalog.num_plurals == 3
    assert catalog.plural_expr == Catalog(locale="ru").plural_expr


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_translated_plural_messages_follow_the_russian_rule() -> None:
    """Each plural message of the template that Russian translates: 1 and 21 read its first
    form, 2 its second, 5 its third (skipped while none is translated)."""
    russian = {m.id: m for m in read_catalog(po_path("ru")) if m.pluralizable}
    checked = 0
    for message in read_catalog(TEMPLATE):
        found = russian.get(message.id)
        if not isinstance(message.id, tuple) or found is None or found.fuzzy:
            continue
        forms = tuple(found.string or ())
        if len(forms) != 3 or not all(forms):
            continue
        singular, plural = message.id[0], message.id[1]
        values = {k: "X" for k in _placeholders(singular) | _placeholders(plural) if k != "count"}
        with speaking("ru"):
            for n, form in ((1, 0), (2, 1), (5, 2), (21, 0)):
                wanted = forms[form].format(count=format_number(n), **values)
                assert n_(singular, plural, n, **values) == wanted, (singular, n)
        checked += 1
    assert checked >= 20, f"only {checked} plural messages translated into Russian"


@pytest.mark.parametrize(
    ("language", "long", "medium"),
    [
        ("ko", "2026년 12월 5일", "2026. 12. 5."),
        ("zh_CN", "2026年12月5日", "2026年12月5日"),
        ("ru", "5 декабря 2026\u202fг.", "5 дек. 2026\u202fг."),
        ("es", "5 de diciembre de 2026", "5 dic 2026"),
        ("en", "December 5, 2026", "Dec 5, 2026"),
    ],
)
def test_dates_are_written_as_the_language_writes_them(language: str, long: str,
                                                       medium: str) -> None:
    with speaking(language):
        assert format_date(date(2026, 12, 5), "long") == long
        assert format_date(date(2026, 12, 5)) == medium
        assert format_date(datetime(2026, 12, 5, 23, 30)) == medium


def test_korean_and_chinese_date_times_keep_their_order() -> None:
    moment = datetime(2026, 12, 5, 14, 30)
    with speaking("ko"):
        assert format_datetime(moment).startswith("2026. 12. 5.")
    with speaking("zh_CN"):
        assert format_datetime(moment).startswith("2026年12月5日")
