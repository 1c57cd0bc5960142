"""How seasons look on Discord: `/admin season status` and `start`, a past season's final
standings (`/leaderboard season:`) and a player's entries in it (`/profile season:`), and the
provisional mark and the inactivity notice of `/profile`.

Every name shown (a season's, a player's) is an admin's or a player's text: it is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import nextcord

from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR
from ladder.rating_systems import RatingState, RatingSystem
from ladder.seasons import ArchivedEntry, Season
from ladder.standings import to_micros
from services.seasons import SeasonStarted, SeasonStatus

NAME_SHOWN = 32
INACTIVE_NOTICE_DAYS = 7  # /profile says what time away will do after this many days


def escaped(text: str, limit: int = NAME_SHOWN) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return nextcord.utils.escape_markdown(nextcord.utils.escape_mentions(shown))


def _day(moment: datetime | None) -> str:
    return f"<t:{int(moment.timestamp())}:D>" if moment else "—"


def season_title(season: Season) -> str:
    return f"Season {season.number}: {escaped(season.name, 50)}"


def status_embed(status: SeasonStatus) -> nextcord.Embed:
    s = status.season
    lines = [
        f"Started {_day(s.started_at)} · rating system **{s.rating_system}**",
        f"{status.rated_matches:,} rated matches · {status.open_matches:,} being played · "
        f"{status.players:,} players with a game",
        f"Map pool: {', '.join(escaped(m, 40) for m in status.map_pool)}",
    ]
    if status.ended:
        lines.append(
            "Past seasons: "
            + ", ".join(f"{e.number} ({escaped(e.name, 30)})" for e in status.ended[-10:])
        )
    return nextcord.Embed(title=season_title(s), description="\n".join(lines), colour=INFO_COLOUR)


def started_embed(started: SeasonStarted) -> nextcord.Embed:
    reset = {
        "keep": "ratings carried over as they were",
        "reset": "every rating back to the start",
        "pull": f"ratings pulled {started.started.pull_fraction:.0%} of the way to the start",
    }.get(started.started.soft_reset, started.started.soft_reset)
    text = (
        f"{season_title(started.ended)} has ended: {started.archived:,} ratings archived "
        f"({started.ranked:,} ranked). `/leaderboard season:{started.ended.number}` shows them.\n"
        f"{season_title(started.started)} has begun: {reset}; records start from zero."
    )
    if started.open_matches:
        text += (
            f"\n{started.open_matches:,} match(es) of season {started.ended.number} are still "
            "being played: their results will count in that season's archive."
        )
    return nextcord.Embed(title="New season", description=text, colour=SUCCESS_COLOUR)


def _entry_line(e: ArchivedEntry, name: str, race_names: Mapping[str, str]) -> str:
    mark = "?" if e.provisional else ""
    where = f"`#{e.place}` rank **{e.rank}**" if e.place is not None else "unranked"
    r = e.record
    return (
        f"{where} **{escaped(name)}** · {race_names.get(e.race, e.race)} · {e.mmr}{mark} MMR · "
        f"{r.wins}W {r.losses}L {r.draws}D"
    )


def archive_embed(
    season: Season,
    entries: Sequence[ArchivedEntry],
    names: Mapping[int, str],
    race_names: Mapping[str, str],
) -> nextcord.Embed:
    """A past season's final standings: the top of the table, and the viewer's own entries."""
    lines = [_entry_line(e, names.get(e.uid, str(e.uid)), race_names) for e in entries]
    if not lines:
        lines = ["Nobody played a rated game in this season."]
    embed = nextcord.Embed(
        title=f"Final standings — {season_title(season)}",
        description="\n".join(lines)[:4096],
        colour=INFO_COLOUR,
    )
    embed.set_footer(text=f"{season.started_at:%Y-%m-%d} to {season.ended_at:%Y-%m-%d} · final")
    return embed


def profile_season_embed(
    season: Season, entries: Sequence[ArchivedEntry], name: str, race_names: Mapping[str, str]
) -> nextcord.Embed:
    lines = [_entry_line(e, name, race_names) for e in entries]
    return nextcord.Embed(
        title=f"{escaped(name)} — {season_title(season)}",
        description="\n".join(lines) or "No rated games in this season.",
        colour=INFO_COLOUR,
    )


def rating_notes(
    system: RatingSystem,
    mmr: int,
    games: int,
    deviation: float | None,
    volatility: float | None,
    last_played_at: datetime | None,
    now: datetime,
) -> tuple[str, str]:
    """Return (the rating as shown, `1523` or `1523?`, and a notice about time away or '')."""
    new = system.new()
    last = to_micros(last_played_at) if last_played_at else None
    state = RatingState(
        mmr,
        new.deviation if deviation is None else deviation,
        new.volatility if volatility is None else volatility,
        games,
        last,
    )
    now_us = to_micros(now)
    shown = f"{mmr}?" if system.provisional(state, now_us) else str(mmr)
    if last_played_at is None or now - last_played_at < timedelta(days=INACTIVE_NOTICE_DAYS):
        return shown, ""
    when, what = system.changes_at(state)
    notice = f"inactive since {_day(last_played_at)}"
    if when is not None:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=when)
        verb = {"becomes provisional": "became provisional", "starts decaying": "started decaying"}
        said = what if when > now_us else verb.get(what, what)
        notice += f"; your rating {said} on {_day(moment)}"
    return shown, notice
