"""The public pages and the JSON API: a handler parses the request, calls the service, renders.

No SQL and no ranking here: the leaderboard a browser sees is the one /leaderboard shows.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from services.public import Board, BoardQuery, PublicLadder
from web.app import SERVICES, WebServices


def setup(app: web.Application, services: WebServices) -> None:
    """Register the public pages and the API."""
    app.router.add_get("/", leaderboard_page, name="leaderboard")
    app.router.add_get("/api/leaderboard", leaderboard_api, name="api_leaderboard")


def _public(request: web.Request) -> PublicLadder:
    return request.app[SERVICES].public


# --- the leaderboard ------------------------------------------------------------------------


def board_params(query: BoardQuery, page: int | None = None) -> dict[str, str]:
    """The URL parameters of a view (only the ones set), so every view has one short URL."""
    params = {
        "race": query.race,
        "region": query.region,
        "country": query.country,
        "rank": query.rank,
        "best": "1" if query.best_race_only else None,
        "q": query.search,
        "page": str(page if page is not None else query.page),
    }
    if params["page"] == "1":
        params["page"] = None
    return {k: v for k, v in params.items() if v}


def board_url(query: BoardQuery, page: int | None = None) -> str:
    params = board_params(query, page)
    return "/?" + urlencode(params) if params else "/"


async def leaderboard_page(request: web.Request) -> web.StreamResponse:
    public = _public(request)
    board = await public.board(public.parse_query(request.query))
    return aiohttp_jinja2.render_template(
        "leaderboard.html",
        request,
        {
            "board": board,
            "page": board.page,
            "query": board.query,
            "races": public.race_names,
            "regions": public.region_names,
            "letters": public.standings.letters,
            "countries": public.countries(),
            "url": lambda page: board_url(board.query, page),
        },
    )


def board_json(board: Board, races: dict[str, str]) -> dict:
    page = board.page
    return {
        "filters": board_params(board.query, page.page) | {"page": page.page},
        "page": page.page,
        "page_size": page.page_size,
        "total_pages": page.total_pages,
        "total_entries": page.total_entries,
        "ranked_entries": page.ranked_entries,
        "entries": [
            {
                "position": e.position,
                "name": e.name,
                "race": e.race,
                "race_name": races.get(e.race, e.race),
                "mmr": e.mmr,
                "rank": e.rank,
                "country": e.country,
                "wins": e.wins,
                "losses": e.losses,
                "draws": e.draws,
            }
            for e in page.entries
        ],
    }


async def leaderboard_api(request: web.Request) -> web.StreamResponse:
    public = _public(request)
    board = await public.board(public.parse_query(request.query))
    return web.json_response(board_json(board, public.race_names))
