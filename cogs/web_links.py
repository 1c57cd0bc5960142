"""Links from Discord to the website's pages, when WEB_BASE_URL is set (None otherwise).

The URLs are the site's own (web/public.py): a player's page by name, a match by number,
a leaderboard view by its filters, so a /leaderboard message opens the same view on the web.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from ladder.standings import LeaderboardFilters


def player_link(base_url: str | None, name: str | None) -> str | None:
    """The player's page, their name percent-encoded whole; None without a ladder name (a
    player who has not finished /setup has no page: the site finds players by that name)."""
    return f"{base_url}/players/{quote(name, safe='')}" if base_url and name else None


def match_link(base_url: str | None, match_id: int) -> str | None:
    """The match's page."""
    return f"{base_url}/matches/{match_id}" if base_url else None


def leaderboard_link(
    base_url: str | None, filters: LeaderboardFilters, page: int = 1
) -> str | None:
    """The leaderboard view with these filters at this page."""
    if not base_url:
        return None
    params = {
        "race": filters.race,
        "country": filters.country,
        "rank": filters.rank,
        "best": "1" if filters.best_race_only else None,
        "page": str(page) if page > 1 else None,
    }
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{base_url}/?{query}" if query else f"{base_url}/"
