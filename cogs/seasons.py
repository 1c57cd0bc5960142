"""How seasons look on Discord: `/admin season status` and `start`, a past season's final
standings (`/leaderboard season:`) and a player's entries in it (`/profile season:`), and the
provisional mark and the inactivity notice of `/profile`.

Every name shown (a season's, a player's) is an admin's or a player's text: it is escaped and
never translated; everything around it is in the reader's language (i18n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import nextcord

from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR
from i18n import N_, _, format_date, format_list, format_number, format_percent, n_
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
    # Translators: {number} is the season's number, {name} the name an admin gave it.
    return _("Season {number}: {name}", number=season.number, name=escaped(season.name, 50))


def status_embed(status: SeasonStatus) -> nextcord.Embed:
    s = status.season
    lines = [
        # Translators: {system} is the rating system's code as configured, e.g. glicko2 or elo.
        _(
            "Started {day} · rating system **{system}**",
            day=_day(s.started_at),
            system=s.rating_system,
        ),
        " · ".join(
            (
                n_("{count} rated match", "{count} rated matches", status.rated_matches),
                n_("{count} being played", "{count} being played", status.open_matches),
                n_("{count} player with a game", "{count} players with a game", status.players),
            )
        ),
        _("Map pool: {maps}", maps=format_list(escaped(m, 40) for m in status.map_pool)),
    ]
    if status.ended:
        past = (
            # Translators: a past season in a list: its number, then the name an admin gave it.
            _("{number} ({name})", number=e.number, name=escaped(e.name, 30))
            for e in status.ended[-10:]
        )
        lines.append(_("Past seasons: {seasons}", seasons=format_list(past)))
    return nextcord.Embed(title=season_title(s), description="\n".join(lines), colour=INFO_COLOUR)


# What a new season does to the ratings (`soft_reset` in data/ladder.toml).
RESETS = {
    "keep": N_("ratings carried over as they were"),
    "reset": N_("every rating back to the start"),
    # Translators: {share} is a percentage, e.g. 50%.
    "pull": N_("ratings pulled {share} of the way to the start"),
}


def started_embed(started: SeasonStarted) -> nextcord.Embed:
    new = started.started
    how = RESETS.get(new.soft_reset)
    reset = _(how, share=format_percent(new.pull_fraction)) if how else new.soft_reset
    ended = started.ended
    # Translators: how many of the archived ratings are ranked, in brackets after their count.
    ranked = n_("{count} ranked", "{count} ranked", started.ranked)
    lines = [
        n_(
            "{season} has ended: {count} rating archived ({ranked}).",
            "{season} has ended: {count} ratings archived ({ranked}).",
            started.archived,
            season=season_title(ended),
            ranked=ranked,
        ),
        _("`/leaderboard season:{number}` shows them.", number=ended.number),
    ]
    text = (
        " ".join(lines)
        + "\n"
        + _(
            "{season} has begun: {reset}; records start from zero.",
            season=season_title(new),
            reset=reset,
        )
    )
    if started.open_matches:
        text += "\n" + n_(
            "{count} match of season {number} is still being played: its result will count in "
            "that season's archive.",
            "{count} matches of season {number} are still being played: their results will "
            "count in that season's archive.",
            started.open_matches,
            number=ended.number,
        )
    return nextcord.Embed(title=_("New season"), description=text, colour=SUCCESS_COLOUR)


def _entry_line(e: ArchivedEntry, name: str, race_names: Mapping[str, str]) -> str:
    values = {
        "name": escaped(name),
        "race": race_names.get(e.race, e.race),
        # A rating is shown as digits (like `1523?` everywhere), not as a grouped number.
        "mmr": f"{e.mmr}?" if e.provisional else str(e.mmr),
        "wins": format_number(e.record.wins),
        "losses": format_number(e.record.losses),
        "draws": format_number(e.record.draws),
    }
    if e.place is None:
        # Translators: a player's final line in a past season. W, L, D: wins, losses, draws.
        return _("unranked **{name}** · {race} · {mmr} MMR · {wins}W {losses}L {draws}D", **values)
    # Translators: a player's final line in a past season: place, rank letter, name, race,
    # rating (a trailing ? marks a provisional one); W, L, D: wins, losses, draws.
    return _(
        "`#{place}` rank **{rank}** **{name}** · {race} · {mmr} MMR · {wins}W {losses}L {draws}D",
        place=format_number(e.place),
        rank=e.rank,
        **values,
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
        lines = [_("Nobody played a rated game in this season.")]
    embed = nextcord.Embed(
        title=_("Final standings — {season}", season=season_title(season)),
        description="\n".join(lines)[:4096],
        colour=INFO_COLOUR,
    )
    embed.set_footer(
        text=_(
            "{start} to {end} · final", start=_date(season.started_at), end=_date(season.ended_at)
        )
    )
    return embed


def _date(moment: datetime | None) -> str:
    return format_date(moment) if moment else "—"


def profile_season_embed(
    season: Season, entries: Sequence[ArchivedEntry], name: str, race_names: Mapping[str, str]
) -> nextcord.Embed:
    lines = [_entry_line(e, name, race_names) for e in entries]
    return nextcord.Embed(
        # Translators: a player's name, then the season's title.
        title=_("{name} — {season}", name=escaped(name), season=season_title(season)),
        description="\n".join(lines) or _("No rated games in this season."),
        colour=INFO_COLOUR,
    )


# What time away does to a rating (`RatingSystem.changes_at`), before and after it happens;
# {since} and {day} are Discord timestamps, which every reader's app shows in its language.
CHANGES = {
    "becomes provisional": (
        N_("inactive since {since}; your rating becomes provisional on {day}"),
        N_("inactive since {since}; your rating became provisional on {day}"),
    ),
    "starts decaying": (
        N_("inactive since {since}; your rating starts decaying on {day}"),
        N_("inactive since {since}; your rating started decaying on {day}"),
    ),
}
# A change a future rating system names that this table does not know yet (shown as named).
UNKNOWN_CHANGE = N_("inactive since {since}; your rating {change} on {day}")


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
    since = _day(last_played_at)
    if when is None:
        return shown, _("inactive since {since}", since=since)
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=when)
    will, did = CHANGES.get(what, (UNKNOWN_CHANGE, UNKNOWN_CHANGE))
    return shown, _(will if when > now_us else did, since=since, day=_day(moment), change=what)
