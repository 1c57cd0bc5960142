"""The website in the reader's language: which language a request gets (?lang=, the cookie,
Accept-Language), that the page and its cache follow it, and that translated templates still
escape what players typed.

The real catalogs are being filled by translators, so nothing here asserts a translated word.
Where a test needs to see that text went through the catalog, it swaps in a pseudo catalog that
writes every message as "[xx] <the English>" (placeholders kept).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import jinja2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from babel.support import NullTranslations
from jinja2.ext import extract_from_ast
from yarl import URL

import i18n
from tests.web.host_seed import open_host
from tests.web.seed import IMG_NAME, SCRIPT_NAME
from web import language
from web.app import TEMPLATES, create_app
from web.language import choose, from_tag, html_lang, negotiate, parse_accept_language

# --- negotiation ------------------------------------------------------------------------------


def test_accept_language_ranges_in_order_of_quality():
    header = "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"
    assert parse_accept_language(header) == [
        ("fr-CH", 1.0),
        ("fr", 0.9),
        ("en", 0.8),
        ("de", 0.7),
    ]
    # Ties keep the header's order; q=0 means "not this"; a malformed q drops its range.
    assert parse_accept_language("ru;q=0.5, ko;q=0.5, es;q=0, zh;q=abc, en;q=2") == [
        ("ru", 0.5),
        ("ko", 0.5),
    ]
    assert parse_accept_language("  ko-KR ,  en-US;Q=0.3 ") == [("ko-KR", 1.0), ("en-US", 0.3)]
    assert parse_accept_language("") == parse_accept_language(None) == []
    assert parse_accept_language(",;,;q=,<script>") == []


@pytest.mark.parametrize(
    ("tag", "ours"),
    [
        ("zh-CN", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("ZH-cn", "zh_CN"),
        ("zh-TW", None),  # traditional characters: not our simplified Chinese
        ("zh-Hant", None),
        ("zh-HK", None),
        ("es-419", "es"),
        ("es-ES", "es"),
        ("es", "es"),
        ("ko-KR", "ko"),
        ("ko", "ko"),
        ("ru-RU", "ru"),
        ("en-GB", "en"),
        ("en", "en"),
        ("fr-FR", None),
        ("", None),
        (None, None),
    ],
)
def test_a_tag_maps_to_one_of_our_languages(tag, ours):
    assert from_tag(tag) == ours


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("en-US,en;q=0.9,ko;q=0.8", "en"),
        ("zh-CN,zh;q=0.9", "zh_CN"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh_CN"),  # zh: Chinese in general, which we have
        ("zh-TW,en;q=0.8", "en"),
        ("es-419,es;q=0.9", "es"),
        ("fr-FR,fr;q=0.9,ru;q=0.4", "ru"),  # the first one we speak
        ("en;q=0.2,ru;q=0.9", "ru"),  # by quality, not by place
        ("fr,de", None),
        ("", None),
    ],
)
def test_the_best_of_the_header_that_we_speak(header, expected):
    assert negotiate(header) == expected


def test_query_beats_cookie_beats_header_beats_english():
    assert choose("ru", "ko", "es") == "ru"
    assert choose(None, "ko", "es") == "ko"
    assert choose("xx", "ko", "es") == "ko"  # an unknown ?lang= is no choice
    assert choose(None, "bogus", "es-MX") == "es"
    assert choose(None, None, "fr") == "en"
    assert choose("zh-CN", None, None) == "zh_CN"


def test_the_html_tag_of_each_language():
    assert [html_lang(code) for code in i18n.LOCALES] == ["en", "es", "ko", "ru", "zh-CN"]


# --- pages ------------------------------------------------------------------------------------


def html_lang_of(page: str) -> str:
    found = re.search(r'<html lang="([^"]*)">', page)
    assert found, page[:200]
    return found.group(1)


async def get(client, path: str, status: int = 200, **headers: str) -> str:
    response = await client.get(path, headers=headers)
    text = await response.text()
    assert response.status == status, (path, text[:300])
    return text


class PseudoCatalog(NullTranslations):
    """Every message as "[xx] <the English>", so a test sees it went through the catalog."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self.mark = f"[{language}] "

    def gettext(self, message: str) -> str:
        return self.mark + message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.mark + (singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        return self.mark + message


@pytest.fixture
def pseudo(monkeypatch):
    """Every language but English speaks the pseudo catalog."""
    catalogs = {code: PseudoCatalog(code) for code in i18n.LOCALES if code != i18n.SOURCE}
    monkeypatch.setattr(i18n, "catalog", lambda code: catalogs.get(code) or NullTranslations())
    return catalogs


async def test_the_page_is_in_the_browser_s_language(client):
    response = await client.get("/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    page = await response.text()
    assert html_lang_of(page) == "ko"
    vary = {v.strip() for v in response.headers["Vary"].split(",")}
    assert {"Accept-Language", "Cookie"} <= vary
    assert response.headers["Content-Language"] == "ko"
    assert "Set-Cookie" not in response.headers  # the header alone sets nothing
    assert html_lang_of(await get(client, "/", **{"Accept-Language": "zh-Hans"})) == "zh-CN"
    assert html_lang_of(await get(client, "/", **{"Accept-Language": "fr"})) == "en"
    assert html_lang_of(await get(client, "/")) == "en"


async def test_the_page_cache_keeps_one_copy_per_language(client, pseudo):
    # The same URL, one request after another within the cache's two seconds.
    english = await get(client, "/")
    korean = await get(client, "/", **{"Accept-Language": "ko"})
    again = await get(client, "/")
    russian = await get(client, "/", **{"Accept-Language": "ru"})
    korean_again = await get(client, "/", **{"Accept-Language": "ko"})
    assert [html_lang_of(p) for p in (english, korean, again, russian, korean_again)] == [
        "en",
        "ko",
        "en",
        "ru",
        "ko",
    ]
    assert "[ko] Leaderboard" in korean and "[ko] Leaderboard" in korean_again
    assert "[ko]" not in english and "[ko]" not in again and "[ru] Leaderboard" in russian
    assert english == again  # served from the cache, and still the English copy


async def test_lang_in_the_url_sets_the_cookie_and_the_next_pages_keep_it(client):
    response = await client.get("/?lang=ru", headers={"Accept-Language": "ko"})
    assert html_lang_of(await response.text()) == "ru"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=ru;") and "Path=/" in cookie and "SameSite=Lax" in cookie
    # The client sends the cookie back: it beats Accept-Language on every page after.
    assert html_lang_of(await get(client, "/activity", **{"Accept-Language": "ko"})) == "ru"
    assert html_lang_of(await get(client, "/players/Alice")) == "ru"
    assert html_lang_of(await get(client, "/no/such/page", 404)) == "ru"
    # A tag is understood as well as our code; an unknown one changes nothing.
    assert html_lang_of(await get(client, "/?lang=zh-CN")) == "zh-CN"
    assert client.session.cookie_jar.filter_cookies(client.make_url("/"))["lang"].value == "zh_CN"
    unknown = await client.get("/?lang=xx")
    assert html_lang_of(await unknown.text()) == "zh-CN"
    assert "Set-Cookie" not in unknown.headers


async def test_the_switcher_links_this_page_in_every_language(client):
    page = await get(client, "/?race=T&page=2", **{"Accept-Language": "es"})
    nav = page[page.index('<nav class="languages"') :]
    nav = nav[: nav.index("</nav>")]
    links = re.findall(
        r'<a href="([^"]*)" lang="([^"]*)" hreflang="[^"]*" data-lang="([^"]*)"', nav
    )
    assert [(html.unescape(href), tag, code) for href, tag, code in links] == [
        (f"/?race=T&page=2&lang={code}", html_lang(code), code) for code in i18n.LOCALES
    ]
    assert nav.count("aria-current") == 1 and 'data-lang="es" aria-current="true"' in nav
    for name in i18n.NATIVE_NAMES.values():
        assert f">{name}</a>" in nav
    # A player's page keeps its (encoded) name; the hostile one cannot break out of the href.
    hostile = await get(client, "/players/" + SCRIPT_NAME.replace("/", "%2F"))
    assert "<script>" not in hostile
    assert 'href="/players/%3Cscript%3Ealert(1)%3C%2Fscript%3E?lang=ko"' in hostile


@pytest.mark.parametrize("path", ["//evil.example/x", "/%5Cevil.example/x", "///evil.example"])
async def test_the_switcher_never_links_another_site(client, path):
    root = str(client.make_url("/")).rstrip("/")
    response = await client.session.get(URL(root + path, encoded=True))
    assert response.status == 404
    page = await response.text()
    nav = page[page.index('<nav class="languages"') :]
    hrefs = re.findall(r'href="([^"]*)"', nav[: nav.index("</nav>")])
    assert len(hrefs) == len(i18n.LOCALES)
    assert all(h.startswith("/") and not h.startswith(("//", "/\\")) for h in hrefs), hrefs


async def test_the_api_stays_english_and_does_not_vary(client, pseudo):
    english = await (await client.get("/api/leaderboard")).json()
    response = await client.get("/api/leaderboard?lang=ko", headers={"Accept-Language": "ko"})
    assert await response.json() == english
    assert "Set-Cookie" not in response.headers and "Vary" not in response.headers
    missing = await client.get("/api/players/Nobody", headers={"Accept-Language": "ko"})
    assert await missing.json() == {"error": "There is no player by that name."}


async def test_errors_are_in_the_reader_s_language(client, pseudo):
    page = await get(client, "/players/Nobody", 404, **{"Accept-Language": "ko"})
    assert html_lang_of(page) == "ko"
    assert "[ko] There is no player by that name." in page and "[ko] Not found" in page
    page = await get(client, "/no/such/page", 404, **{"Accept-Language": "es"})
    assert "[es] There is no page at this address." in page


async def test_hostile_names_stay_escaped_in_another_language(client, pseudo):
    for lang in ("ko", "zh_CN"):
        board = await get(client, f"/?lang={lang}")
        assert f"[{lang}] Leaderboard" in board
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in board
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in board
        for name in (SCRIPT_NAME, IMG_NAME):
            page = await get(client, "/players/" + name.replace("/", "%2F"))
            assert "<script" not in page and "<img" not in page
        title = await get(client, "/players/" + IMG_NAME)
        assert "<title>&#34;&gt;&lt;img src=x onerror=alert(1)&gt; · ladderbot</title>" in title


async def test_every_page_renders_in_every_language(client, seeded, site, pseudo):
    """Every placeholder of every text is filled (a missing one would be a 500)."""
    host = await open_host(site, seeded)
    try:
        async with TestClient(TestServer(create_app(host.services))) as admin:
            assert (await admin.get(await host.login_link())).status == 200
            paths = [
                "/",
                "/?page=2&race=T",
                "/activity",
                "/activity?tz=Asia/Seoul",
                "/players/Alice",
                "/players/Mallory",
                f"/matches/{seeded.disputed}",
                f"/matches/{seeded.corrected}",
                "/login",
                "/dashboard",
                "/dashboard?days=1",
            ]
            for code in i18n.LOCALES:
                for path in paths:
                    response = await admin.get(path, headers={"Accept-Language": code})
                    page = await response.text()
                    assert response.status == 200, (code, path, page[:300])
                    assert html_lang_of(page) == html_lang(code), (code, path)
                    if code != i18n.SOURCE:
                        assert f"[{code}] " in page, (code, path)
    finally:
        await host.close()


# --- templates --------------------------------------------------------------------------------


def environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True)
    language.install(env)
    return env


def test_template_values_are_escaped_but_the_text_is_not(monkeypatch):
    class Markup(NullTranslations):
        def gettext(self, message: str) -> str:
            return {"Hello {name}": "<b>안녕</b> {name}", "Plain": "<i>평범</i>"}.get(
                message, message
            )

    monkeypatch.setattr(
        i18n, "catalog", lambda code: Markup() if code == "ko" else NullTranslations()
    )
    env = environment()
    template = env.from_string(
        '{{ _("Hello {name}", name=who) }}|{% trans %}Plain{% endtrans %}'
        "|{% trans user=who %}Hi {{ user }}{% endtrans %}"
        '|{{ n_("{count} game", "{count} games", 1234) }}'
    )
    with i18n.speaking("ko"):
        shown = template.render(who=SCRIPT_NAME)
    assert shown == (
        "<b>안녕</b> &lt;script&gt;alert(1)&lt;/script&gt;|<i>평범</i>"
        "|Hi &lt;script&gt;alert(1)&lt;/script&gt;|1,234 games"
    )
    with i18n.speaking("en"):
        assert template.render(who="<b>") == ("Hello &lt;b&gt;|Plain|Hi &lt;b&gt;|1,234 games")
    # Without autoescape (a text template) nothing is escaped.
    plain = jinja2.Environment(autoescape=False)
    language.install(plain)
    assert plain.from_string('{{ _("Hello {name}", name=who) }}').render(who="<b>") == ("Hello <b>")


def test_numbers_and_dates_follow_the_language():
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 5, 15, 4, tzinfo=UTC)
    with i18n.speaking("en"):
        assert language.number(1234567) == "1,234,567"
        assert language.when(moment) == "Jan 5, 2026, 3:04\u202fPM UTC"
        assert language.day("2026-01-05") == "Jan 5, 2026"
        assert language.percent(0.1234) == "12.3%"
        assert language.weekday(0) == "Mon"
        assert language.when(None) == "—"
    shown = {}
    for code in i18n.LOCALES:
        with i18n.speaking(code):
            shown[code] = (language.number(1234567), language.when(moment), language.weekday(0))
    assert len({s[1] for s in shown.values()}) == len(i18n.LOCALES)  # each its own way
    assert shown["ru"][0] != shown["en"][0]  # 1 234 567


def test_a_moment_reads_as_babel_writes_it_in_every_language():
    """`when` keeps each day's and each minute's text once per language: the text is Babel's."""
    from datetime import UTC, datetime, timedelta, timezone

    from babel import dates

    moments = [
        datetime(2026, 1, 5, 0, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 23, 59, tzinfo=UTC),
        datetime(2026, 1, 6, 1, 30, tzinfo=timezone(timedelta(hours=5))),  # 20:30 the day before
        datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
    ]
    for _ in range(2):  # the second time from what was kept
        for code in i18n.LOCALES:
            locale = i18n.babel_locale(code)
            pattern = str(locale.datetime_formats["medium"]).replace("'", "")
            with i18n.speaking(code):
                for moment in moments:
                    utc = moment.astimezone(UTC)
                    text = pattern.format(
                        dates.format_time(utc, "short", locale=locale),
                        dates.format_date(utc, "medium", locale=locale),
                    )
                    assert language.when(moment) == i18n._("{moment} UTC", moment=text)


def template_calls() -> list[tuple[str, int, str, tuple]]:
    """Every gettext call in the templates: (template, line, function, its string arguments)."""
    env = environment()
    found = []
    for path in sorted(Path(TEMPLATES).glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for line, function, strings in extract_from_ast(tree, babel_style=True):
            args = strings if isinstance(strings, tuple) else (strings,)
            found.append((path.name, line, function, args))
    return found


def test_template_texts_are_literal_with_brace_placeholders():
    """`_()` on a variable would trust it as markup and hide it from the catalog; `%(name)s`
    (what a `{% trans %}` block with variables makes) is a second placeholder style."""
    calls = template_calls()
    assert len(calls) > 100
    for name, line, function, strings in calls:
        texts = strings[:2] if function in ("ngettext", "n_", "pgettext", "p_") else strings[:1]
        assert all(isinstance(t, str) for t in texts), (name, line, function)
        for text in texts:
            assert "%(" not in text, (name, line, text)


async def test_race_names_are_the_readers_and_the_api_keeps_english(client):
    """Race names come from ladder.toml's per-language `names`; the JSON API stays English."""
    korean = await get(client, "/players/Alice", **{"Accept-Language": "ko"})
    assert "브루드워 테란" in korean or "브루드워 저그" in korean or "브루드워 프로토스" in korean
    english = await get(client, "/players/Alice")
    assert "BW " in english and "브루드워" not in english
    api = await client.get("/api/players/Alice", headers={"Accept-Language": "ko"})
    assert "브루드워" not in await api.text()
