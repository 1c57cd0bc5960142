"""The website in the reader's language: which one a request gets, and `_()` in the templates.

A request's language is, in order: `?lang=xx` (which also sets the `lang` cookie, so the next
pages keep it), the `lang` cookie, the best of the browser's Accept-Language header that we
speak, English. The `language` middleware sets it as i18n's current language around the
handler, so `_()` in a handler, a filter or a template writes in it. The JSON API is not
translated (its keys, codes and error texts stay English for the programs that read it).

Every page varies with the header and the cookie (`Vary: Accept-Language, Cookie`), and the
public pages' cache is keyed by language too (web/load.py), or a Korean reader could be served
the English copy someone else just asked for.

Templates write `{{ _("Season {name}", name=season.name) }}`: named `{name}` placeholders like
the rest of the code (i18n), and the values are escaped while the translated text is trusted
markup (so a msgid may hold `<code>/queue</code>`; a player's name put in as a value cannot
open a tag). `n_("{count} day", "{count} days", n)` and `p_(context, text)` work the same.
`{% trans %}` blocks work too (jinja2.ext.i18n), but its variables become `%(name)s` in the
catalog, a second placeholder style: write `_()` instead (tests/web check that no template
text has one).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from babel import dates, numbers
from markupsafe import Markup, escape

import i18n

log = logging.getLogger(__name__)

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
QUERY = "lang"
VARY = ("Accept-Language", "Cookie")
REQUEST_LANGUAGE = web.RequestKey("language", str)  # the language of this request
# A header longer than this is cut (a browser sends a few dozen characters): parsing stays cheap.
MAX_HEADER = 2048
MAX_RANGES = 32

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Chinese written with traditional characters: our zh_CN (simplified) is not what they read.
_TRADITIONAL = frozenset({"hant", "tw", "hk", "mo"})
_Q = re.compile(r"^q\s*=\s*([01](?:\.\d{0,3})?)$", re.IGNORECASE)


# --- which language -------------------------------------------------------------------------


def from_tag(tag: str | None) -> str | None:
    """One of i18n.LOCALES for a language tag ("ko-KR", "es-419", "zh-Hans-CN", "zh_CN",
    "en-GB"), else None (a language we do not speak, or Chinese in traditional characters)."""
    if not tag:
        return None
    if tag in i18n.LOCALES:
        return tag
    parts = [p for p in tag.strip().lower().replace("_", "-").split("-") if p]
    if not parts:
        return None
    base = parts[0]
    if base == "zh":
        return None if _TRADITIONAL & set(parts[1:]) else "zh_CN"
    if base == "en":
        return i18n.SOURCE
    return base if base in i18n.LOCALES else None


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """The header's language ranges with their q-values, most wanted first (ties keep the
    header's order); a range with q=0, a malformed q or `*` is left out."""
    if not header:
        return []
    ranges: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, _sep, rest = item.partition(";")
        tag = tag.strip()
        if not tag or tag == "*" or not re.fullmatch(r"[A-Za-z0-9_-]{1,35}", tag):
            continue
        quality = 1.0
        for param in rest.split(";") if rest else ():
            param = param.strip()
            if param[:1].lower() != "q":
                continue
            match = _Q.match(param)
            quality = min(float(match.group(1)), 1.0) if match else -1.0
        if quality <= 0:
            continue
        ranges.append((-quality, index, tag))
    return [(tag, -negative) for negative, _index, tag in sorted(ranges)]


def negotiate(header: str | None) -> str | None:
    """The language of ours the browser wants most, or None if it wants none of them."""
    for tag, _quality in parse_accept_language(header):
        found = from_tag(tag)
        if found is not None:
            return found
    return None


def choose(asked: str | None, cookie: str | None, header: str | None) -> str:
    """?lang=, else the cookie, else Accept-Language, else English."""
    return from_tag(asked) or from_tag(cookie) or negotiate(header) or i18n.SOURCE


def html_lang(language: str) -> str:
    """The BCP 47 tag for `<html lang>` and `hreflang` ("zh_CN" → "zh-CN")."""
    return language.replace("_", "-")


# --- the middleware -------------------------------------------------------------------------


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer in the request's language; remember a `?lang=` choice in the cookie."""
    if request.path.startswith("/api/"):
        request[REQUEST_LANGUAGE] = i18n.SOURCE
        return await handler(request)  # the API is the same for everyone, in English
    asked = from_tag(request.query.get(QUERY))
    chosen = choose(asked, request.cookies.get(COOKIE), request.headers.get("Accept-Language"))
    request[REQUEST_LANGUAGE] = chosen
    context = request.setdefault(aiohttp_jinja2.REQUEST_CONTEXT_KEY, {})
    context.update(page_context(request, chosen))
    with i18n.speaking(chosen):
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            _finish(request, exc, chosen, asked)
            raise
    _finish(request, response, chosen, asked)
    return response


def _finish(
    request: web.Request, response: web.StreamResponse, chosen: str, asked: str | None
) -> None:
    if response.prepared:
        return
    if not request.path.startswith("/static/") or response.status != 200:
        vary = [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]
        response.headers["Vary"] = ", ".join(vary + [v for v in VARY if v not in vary])
        response.headers["Content-Language"] = html_lang(chosen)
    if asked is not None and request.cookies.get(COOKIE) != asked:
        # Not a secret, and read by no script: a preference. Lax, so a link from elsewhere
        # (Discord) opens the site in it.
        response.set_cookie(
            COOKIE, asked, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="Lax"
        )


def page_context(request: web.Request, chosen: str) -> dict[str, Any]:
    """What base.html needs: `<html lang>` and the switcher's links (this page, in each)."""
    return {
        "html_lang": html_lang(chosen),
        "language": chosen,
        "languages": [
            {
                "code": code,
                "tag": html_lang(code),
                "name": i18n.NATIVE_NAMES.get(code, code),
                "url": switch_url(request, code),
                "current": code == chosen,
            }
            for code in i18n.LOCALES
        ],
    }


def switch_url(request: web.Request, code: str) -> str:
    """This page with `?lang=code` (its other parameters kept), always a path on this site."""
    route = request.match_info.route.name if request.match_info.route else None
    if route == "login_link":  # a one-time link: switching must not use it again
        return "/login?" + urlencode({QUERY: code})
    # One leading slash: "//host/x" or "/\\host" in an href would lead to another site.
    path = "/" + request.rel_url.raw_path.lstrip("/\\")
    query = [(k, v) for k, v in request.rel_url.query.items() if k != QUERY]
    return path + "?" + urlencode([*query, (QUERY, code)])


# --- templates ------------------------------------------------------------------------------


def _values(eval_ctx: jinja2.nodes.EvalContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """The values to put in: escaped when the template autoescapes (a Markup value is kept)."""
    if not eval_ctx.autoescape:
        return dict(params)
    return {k: escape(v) for k, v in params.items()}  # a Text is rendered, then escaped


def _result(eval_ctx: jinja2.nodes.EvalContext, text: str) -> str:
    return Markup(text) if eval_ctx.autoescape else text


@jinja2.pass_eval_context
def gettext(eval_ctx: jinja2.nodes.EvalContext, msgid: str, /, **params: Any) -> str:
    """`_()` in a template: i18n's, with the values escaped."""
    return _result(eval_ctx, i18n._(msgid, **_values(eval_ctx, params)))


@jinja2.pass_eval_context
def ngettext(
    eval_ctx: jinja2.nodes.EvalContext, singular: str, plural: str, n: int, /, **params: Any
) -> str:
    """`n_()` in a template: the plural form for `n`; `{count}` is `n`, formatted."""
    return _result(eval_ctx, i18n.n_(singular, plural, n, **_values(eval_ctx, params)))


@jinja2.pass_eval_context
def pgettext(eval_ctx: jinja2.nodes.EvalContext, context: str, msgid: str, /, **params: Any) -> str:
    """`p_()` in a template: `msgid` as meant in `context`."""
    return _result(eval_ctx, i18n.p_(context, msgid, **_values(eval_ctx, params)))


def number(value: float | int | None) -> str:
    """A number as the reader writes it (1,234 / 1 234 / 1.234); "—" for none."""
    return "—" if value is None else i18n.format_number(value)


def decimal(value: float | None, digits: int = 1) -> str:
    """A number rounded to `digits` places, as the reader writes it."""
    return "—" if value is None else i18n.format_number(round(value, digits))


def percent(value: float | None, digits: int = 1) -> str:
    """A share (0.123) as a percentage with up to `digits` decimals ("12.3%", "12,3 %")."""
    if value is None:
        return "—"
    locale = i18n.babel_locale(i18n.current())
    return numbers.format_percent(round(value, digits + 2), locale=locale,
                                  decimal_quantization=False)  # fmt: skip


def when(moment: datetime | None) -> str:
    """A moment as the reader writes a date and a time, in UTC ("Jan 5, 2026, 3:04 PM UTC")."""
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    language = i18n.current()
    locale = i18n.babel_locale(language)
    pattern = str(locale.datetime_formats.get("medium", "{1} {0}")).replace("'", "")
    text = pattern.format(
        _clock_time(language, moment.hour, moment.minute), _medium_day(language, moment.date())
    )
    # Translators: a date and time on the website; the times are in UTC.
    return i18n._("{moment} UTC", moment=text)


# Babel formats a date or a time in ~20 µs; a player's page shows 20 moments, most of them on
# days and at minutes other moments of the site's pages share: each is formatted once.
@functools.lru_cache(maxsize=4096)
def _medium_day(language: str, moment: date) -> str:
    return dates.format_date(moment, "medium", locale=i18n.babel_locale(language))


@functools.lru_cache(maxsize=4096)
def _clock_time(language: str, hour: int, minute: int) -> str:
    clock = datetime(2000, 1, 1, hour, minute)
    return dates.format_time(clock, "short", locale=i18n.babel_locale(language))


def day(moment: date | datetime | str | None) -> str:
    """A day as the reader writes it ("Jan 5, 2026"); an ISO day ("2026-01-05") too."""
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        try:
            return i18n.format_date(date.fromisoformat(moment), "medium")
        except ValueError:
            return moment
    return i18n.format_date(moment, "medium")


def weekday(index: int) -> str:
    """Monday (0) to Sunday (6), abbreviated in the reader's language."""
    return str(i18n.babel_locale(i18n.current()).days["stand-alone"]["abbreviated"][index])


def strong(value: object) -> Markup:
    """`value` (escaped) in <strong>: a value for a translated sentence that stresses it."""
    return Markup("<strong>{}</strong>").format(value)


def install(env: jinja2.Environment) -> None:
    """`_`, `n_`, `p_` (and gettext's own names, for `{% trans %}`) and the number and date
    filters, on the application's template environment."""
    env.add_extension("jinja2.ext.i18n")
    callables = {
        "_": gettext,
        "gettext": gettext,
        "n_": ngettext,
        "ngettext": ngettext,
        "p_": pgettext,
        "pgettext": pgettext,
    }
    env.globals.update(callables)
    env.filters.update(
        number=number,
        decimal=decimal,
        percent=percent,
        when=when,
        day=day,
        weekday=weekday,
        strong=strong,
    )
