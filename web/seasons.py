"""Past seasons on the website: the list of seasons, an ended season's final standings (paged,
filtered by race, rank letter and name) and a player's entries in it.

Read-only, and read through the seasons service (`services.seasons`), the one `/leaderboard
season:` and `/profile season:` use: no SQL and no ranking here. Names are players' text and
are rendered by autoescaped templates. Dates are shown in the reader's language (the `day`
filter, web/language.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

import aiohttp_jinja2
from aiohttp import web

from i18n import N_
from ladder.errors import ValidationError
from services.seasons import ArchivePage, SeasonService
from web.app import SERVICES, PageNotFound, WebServices
from web.render import render_page

SEARCH_MAX = 32


def setup(app: web.Application, services: WebServices) -> None:
    """Register the season pages (only when the seasons service is there)."""
    env = aiohttp_jinja2.get_env(app)
    env.globals["has_seasons"] = services.seasons is not None
    env.filters["season_player_url"] = season_player_url
    if services.seasons is None:
        return
    app.router.add_get("/seasons", seasons_page, name="seasons")
    app.router.add_get("/seasons/{number}", season_page, name="season")
    app.router.add_get("/seasons/{number}/players/{name:.+}", season_player_page)


def season_player_url(name: str, number: int) -> str:
    """The path of a player's entries in season `number` (the name percent-encoded whole)."""
    return f"/seasons/{number}/players/" + quote(name, safe="")


def _seasons(request: web.Request) -> SeasonService:
    seasons = request.app[SERVICES].seasons
    assert seasons is not None  # the routes exist only with it
    return seasons


def _number(request: web.Request) -> int:
    text = request.match_info["number"]
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise PageNotFound(N_("There is no season at this address."))
    return int(text)


def _page(text: str) -> int:
    """A page number from the URL: anything not a positive number is page 1; the service
    clamps a page past the end to the last one."""
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        return 1
    return max(1, min(int(digits[:12]), 10**12))


def _not_found(exc: ValidationError) -> PageNotFound:
    """A season that is not there or not over: 404 with the service's words (translated)."""
    return PageNotFound(exc.message, **exc.params)


async def seasons_page(request: web.Request) -> web.StreamResponse:
    seasons = await _seasons(request).all()
    return await render_page("seasons.html", request, {"seasons": list(reversed(seasons))})


def _query(request: web.Request, letters: tuple[str, ...], races: Mapping[str, str]) -> dict:
    def get(name: str) -> str:
        return str(request.query.get(name, "") or "").strip()

    return {
        "race": get("race") if get("race") in races else None,
        "rank": get("rank").upper() if get("rank").upper() in letters else None,
        "q": get("q")[:SEARCH_MAX] or None,
    }


def archive_url(number: int, query: dict, page: int) -> str:
    params = {k: v for k, v in query.items() if v}
    if page > 1:
        params["page"] = str(page)
    return f"/seasons/{number}" + ("?" + urlencode(params) if params else "")


async def season_page(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    public = request.app[SERVICES].public
    letters = tuple(public.standings.letters)
    races = public.race_names
    query = _query(request, letters, races)
    try:
        archive: ArchivePage = await _seasons(request).archive_page(
            number,
            race=query["race"],
            rank=query["rank"],
            search=query["q"],
            page=_page(str(request.query.get("page", ""))),
        )
    except ValidationError as exc:
        raise _not_found(exc) from None
    return await render_page(
        "season.html",
        request,
        {
            "archive": archive,
            "season": archive.season,
            "query": query,
            "races": races,
            "letters": letters,
            "url": lambda page: archive_url(number, query, page),
        },
    )


async def season_player_page(request: web.Request) -> web.StreamResponse:
    number = _number(request)
    try:
        found = await _seasons(request).archived_player(number, request.match_info["name"])
    except ValidationError as exc:
        raise _not_found(exc) from None
    if found is None:
        raise PageNotFound(N_("There is no player by that name."))
    return await render_page(
        "season_player.html",
        request,
        {"p": found, "season": found.season, "races": request.app[SERVICES].public.race_names},
    )
