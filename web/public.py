"""The public pages and the JSON API: a handler parses the request, calls the service, renders.

No SQL and no ranking here: the leaderboard a browser sees is the one /leaderboard shows.
Pages are in the request's language (web/language.py); words chosen here (a result, a match's
status) are translated here and reach the templates as plain text, so they are escaped there.
The API's answers are not translated.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from i18n import N_, _, current
from ladder.history import RatingPoint
from ladder.replays import REFUSAL_TEXT
from services.public import Board, BoardQuery, PlayerPage, PublicLadder, time_zones
from web.app import SERVICES, PageNotFound, WebServices
from web.charts import rating_chart
from web.load import PageCache
from web.render import render_markup, render_page

# Translators: a player's report or a match's result, from the player's side.
RESULT_WORDS = {"win": N_("Win"), "loss": N_("Loss"), "draw": N_("Draw")}
# A match's status (ladder.reports.MatchStatus) and how it was decided (Decision).
STATUS_WORDS = {
    "awaiting_confirmation": N_("waiting for both players to confirm"),
    "in_progress": N_("in progress"),
    "finished": N_("finished"),
    "disputed": N_("disputed"),
    "cancelled": N_("cancelled"),
    "aborted": N_("aborted"),
    "invalidated": N_("invalidated"),
}
DECIDED_BY = {
    "agreement": N_("decided by agreement"),
    "single_report": N_("decided by a single report"),
    "admin": N_("decided by an admin"),
    "no_reports": N_("decided: nobody reported"),
    "replay": N_("decided by a replay"),
}
DISPUTE_WORDS = {"open": N_("open"), "resolved": N_("resolved")}


def setup(app: web.Application, services: WebServices) -> None:
    """Register the public pages and the API, and the template helpers they use."""
    env = aiohttp_jinja2.get_env(app)
    env.filters["player_url"] = player_url
    env.filters["signed"] = signed
    env.filters["web_link"] = web_link
    env.globals["result_word"] = result_word
    env.globals["status_word"] = status_word
    # Public pages are the same for everyone: each is served from this cache for a moment.
    cached = PageCache().cached
    app.router.add_get("/", cached(leaderboard_page), name="leaderboard")
    app.router.add_get("/players/{name:.+}", cached(player_page), name="player")
    app.router.add_get("/matches/{match_id}", cached(match_page), name="match")
    app.router.add_get("/activity", cached(activity_page), name="activity")
    app.router.add_get("/api/leaderboard", cached(leaderboard_api), name="api_leaderboard")
    app.router.add_get("/api/players/{name:.+}", cached(player_api), name="api_player")
    app.router.add_get("/api/matches/{match_id}", cached(match_api), name="api_match")


# --- helpers the templates use ---------------------------------------------------------------


def player_url(name: str) -> str:
    """The path of a player's page: the name percent-encoded whole (a `/` or `?` included)."""
    return "/players/" + quote(name, safe="")


def result_word(code: str | None, status: str | None = None) -> str:
    """A report or result ('win') in the reader's language; else the match's `status`'s word;
    else "no report"."""
    if code in RESULT_WORDS:
        return _(RESULT_WORDS[code])
    if status is not None:
        return status_word(status)
    return _("no report")


def status_word(status: str | None) -> str:
    """A match's or a dispute's status in the reader's language (an unknown one as it is)."""
    if status is None:
        return ""
    words = STATUS_WORDS.get(status) or DISPUTE_WORDS.get(status)
    return _(words) if words else status


def signed(change: int | None) -> str:
    return "" if change is None else f"{change:+d}"


def web_link(url: str | None) -> str | None:
    """The URL if it is a web address that may be a link (http or https), else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


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
    return await render_page(
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


def board_json(board: Board, races: Mapping[str, str]) -> dict:
    page = board.page
    return {
        "filters": board_params(board.query, page.page) | {"page": page.page},
        "page": page.page,
        "page_size": page.page_size,
        "total_pages": page.total_pages,
        "total_entries": page.total_entries,
        "ranked_entries": page.ranked_entries,
        "left_out": page.left_out,
        "entries": [
            {
                "position": e.position,
                "name": e.name,
                "race": e.race,
                "race_name": races.get(e.race, e.race),
                "mmr": e.mmr,
                "provisional": e.provisional,
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


# --- players --------------------------------------------------------------------------------


async def _player(request: web.Request) -> PlayerPage:
    page = await _public(request).player(request.match_info["name"])
    if page is None:
        raise PageNotFound(N_("There is no player by that name."))
    return page


# A player's rating chart as SVG markup, kept until his ratings change: the key holds the
# points' count and latest match and rating, so a new rated match (or a ruling that changes
# one) makes a new key. Building and rendering a chart of up to 2,000 points costs the event
# loop more than the rest of the page; a popular player's page is drawn once.
CHART_CACHE_ENTRIES = 4096
_chart_markup: OrderedDict[tuple, Markup] = OrderedDict()


async def chart_svg(
    request: web.Request, uid: int, race: str, title: str, points: Sequence[RatingPoint]
) -> tuple[int, Markup]:
    """(points shown, the chart's SVG), from the cache when the points are unchanged."""
    # The chart's words are in the reader's language: one copy per language.
    points_key = tuple((p.match_id, p.mmr, p.change) for p in points)
    key = (id(request.app), current(), uid, race, title, points_key)
    markup = _chart_markup.get(key)
    if markup is None:
        context = {"chart": rating_chart(points), "title": title}
        markup = await render_markup("_rating_chart.html", request, context)
        _chart_markup[key] = markup
        while len(_chart_markup) > CHART_CACHE_ENTRIES:
            _chart_markup.popitem(last=False)
    else:
        _chart_markup.move_to_end(key)
    return len(points), markup


async def player_page(request: web.Request) -> web.StreamResponse:
    page = await _player(request)
    public = _public(request)
    charts = {
        race: await chart_svg(
            request, page.player.uid, race, public.race_names.get(race, race), points
        )
        for race, points in (page.history or {}).items()
        if points
    }
    return await render_page(
        "player.html",
        request,
        {
            "p": page,
            "races": public.race_names,
            "regions": public.region_names,
            "charts": charts,
        },
    )


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def player_json(page: PlayerPage, races: Mapping[str, str]) -> dict:
    player = page.player
    if player.banned:
        return {"name": player.name, "banned": True}
    return {
        "name": player.name,
        "banned": False,
        "country": player.country,
        "region": player.region,
        "overall": _record(page.overall),
        "last_played_at": _time(page.last_played_at),
        "ratings": [
            {
                "race": r.race,
                "race_name": races.get(r.race, r.race),
                "mmr": r.mmr,
                "games": r.games,
                **_record(r.record),
                "last_played_at": _time(r.last_played_at),
                "rank": r.rank.letter if r.rank else None,
                "position": r.rank.position if r.rank else None,
                "ranked_entries": r.rank.total if r.rank else None,
                "history": [
                    {
                        "match": p.match_id,
                        "ended_at": _time(p.ended_at),
                        "mmr": p.mmr,
                        "change": p.change,
                    }
                    for p in (page.history or {}).get(r.race, [])
                ],
            }
            for r in page.ratings
        ],
        "matches": [
            {
                "match": m.match_id,
                "status": m.status,
                "ended_at": _time(m.ended_at),
                "race": m.race,
                "opponent": m.opponent,
                "opponent_race": m.opponent_race,
                "map": m.map,
                "result": m.result,
                "mmr_before": m.mmr_before,
                "mmr_change": m.mmr_change,
            }
            for m in page.matches
        ],
    }


def _record(record) -> dict[str, int]:
    return {"wins": record.wins, "losses": record.losses, "draws": record.draws}


async def player_api(request: web.Request) -> web.StreamResponse:
    page = await _player(request)
    return web.json_response(player_json(page, _public(request).race_names))


# --- matches --------------------------------------------------------------------------------


async def _match(request: web.Request):
    text = request.match_info["match_id"]
    story = None
    if text.isascii() and text.isdigit() and len(text) < 19:
        story = await _public(request).match(int(text))
    if story is None:
        raise PageNotFound(N_("There is no match with that number."))
    return story


async def match_page(request: web.Request) -> web.StreamResponse:
    story = await _match(request)
    outcomes = {
        "p1_win": _("{name} won", name=story.player1.name),
        "p2_win": _("{name} won", name=story.player2.name),
        "draw": _("a draw"),
        "invalidate": _("invalidated"),
    }

    def state(text: str | None) -> str:
        """A ruling's before or after ("finished p1_win") in words."""
        words = (text or "").split()
        return " · ".join(outcomes.get(w) or status_word(w) for w in words) or "—"

    return await render_page(
        "match.html",
        request,
        {
            "m": story,
            "races": _public(request).race_names,
            "outcomes": outcomes,
            "decided_by": {code: _(text) for code, text in DECIDED_BY.items()},
            "state": state,
            # ladder.replays' words; translated where its catalog has them.
            "refusals": {refusal: _(text) for refusal, text in REFUSAL_TEXT.items()},
        },
    )


def match_json(m) -> dict:
    def side(s) -> dict:
        return {
            "name": s.name,
            "banned": s.banned,
            "race": s.race,
            "mmr_before": s.mmr_before,
            "mmr_change": s.change,
            "mmr_after": s.mmr_after,
            "report": s.report,
            "reported_at": _time(s.reported_at),
        }

    dispute = None
    if m.dispute is not None:
        d = m.dispute
        dispute = {
            "status": d.status,
            "opened_at": _time(d.opened_at),
            "evidence": [
                {"by": e.by, "note": e.note, "url": e.url, "added_at": _time(e.added_at)}
                for e in d.evidence
            ],
            "ruling": d.ruling,
            "ruled_by": d.ruled_by,
            "ruled_at": _time(d.ruled_at),
            "reason": d.reason,
        }
    return {
        "id": m.id,
        "status": m.status,
        "map": m.map,
        "created_at": _time(m.created_at),
        "started_at": _time(m.started_at),
        "ended_at": _time(m.ended_at),
        "result": m.result,
        "decided_by": m.decided_by,
        "player1": side(m.player1),
        "player2": side(m.player2),
        "dispute": dispute,
        "replays": [
            {
                "id": r.id,
                "verified": r.verified,
                "refused": None if r.refusal is None else r.refusal.value,
                "proves": None if r.result is None else r.result.value,
                "uploaded_at": _time(r.uploaded_at),
                "facts": r.facts.to_dict(),
            }
            for r in m.replays
        ],
        "rulings": [
            {
                "at": _time(r.at),
                "by": r.by,
                "ruling": r.ruling,
                "before": r.before,
                "after": r.after,
                "reason": r.reason,
                "rating_changes": [
                    {"player": c.player, "race": c.race, "old": c.old, "new": c.new}
                    for c in r.changes
                ],
            }
            for r in m.rulings
        ],
    }


async def match_api(request: web.Request) -> web.StreamResponse:
    return web.json_response(match_json(await _match(request)))


# --- activity -------------------------------------------------------------------------------


async def activity_page(request: web.Request) -> web.StreamResponse:
    activity = await _public(request).activity(request.query.get("tz"))
    busiest = activity.busiest or 1
    return await render_page(
        "activity.html",
        request,
        {
            "a": activity,
            "zones": sorted(time_zones()),
            "level": lambda n: 0 if n == 0 else 1 + min(4, 5 * n // (busiest + 1)),
        },
    )
