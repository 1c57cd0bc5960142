"""/profile, /setcountry and /help.

/profile shows the player record (cogs.embeds.profile_embed) and the ladder numbers:
ratings, records, recent matches and aborts from `bot.leaderboard` (a
services.leaderboard.LeaderboardService), letter ranks from `bot.standings`
(ladder.standings.Standings; left out if absent), and race names from the LadderConfig
(`bot.ladder_config`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.embeds import help_embed, help_entries, profile_embed
from cogs.pipeline import guarded
from cogs.responses import SUCCESS_COLOUR
from cogs.seasons import profile_season_embed, rating_notes
from cogs.text import plain
from cogs.web_links import player_link
from i18n import (
    LOCALES,
    N_,
    NATIVE_NAMES,
    _,
    choose,
    format_number,
    n_,
    speaking,
)
from ladder.countries import search_countries
from ladder.guards import Access
from ladder.players import Player, describe_country, validate_country
from ladder.rating_systems import RatingSystem, rating_system
from ladder.records import Profile, Record
from ladder.standings import Standings

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

FIELD_VALUE = 1024  # Discord's limit on an embed field's value
AUTO = "auto"  # /language's choice that follows the Discord app
# A match's result as a recent match line says it (msgids: translate with _() when shown).
RESULT_WORD = {
    # Translators: a match's result, in the list of a player's recent matches.
    "win": N_("Win"),
    # Translators: a match's result, in the list of a player's recent matches.
    "loss": N_("Loss"),
    # Translators: a match's result, in the list of a player's recent matches.
    "draw": N_("Draw"),
}


def _when(moment: datetime | None, style: str = "R") -> str:
    """A Discord timestamp (each client shows it in its own language), or "never"."""
    return f"<t:{int(moment.timestamp())}:{style}>" if moment else _("never")


def _record(record: Record) -> str:
    # Translators: wins, losses and draws, kept short ("3W 1L 0D").
    return _(
        "{wins}W {losses}L {draws}D",
        wins=format_number(record.wins),
        losses=format_number(record.losses),
        draws=format_number(record.draws),
    )


def _field(lines: list[str], empty: str) -> str:
    """Join lines into a field value, dropping whole lines that would pass Discord's limit."""
    out: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > FIELD_VALUE:
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out) or empty


def ladder_profile_embed(
    player: Player,
    regions: Mapping[str, str],
    profile: Profile,
    standings: Standings | None,
    race_names: Mapping[str, str],
    now: datetime,
    system: RatingSystem | None = None,
) -> nextcord.Embed:
    """The /profile embed: the record, then ratings with ranks, W/L/D, aborts, recent matches.

    With the rating `system`, a provisional rating reads `1523?` and a player away for a week
    is told what time away does to it (see cogs.seasons.rating_notes)."""
    embed = profile_embed(player, regions)
    inactive = standings.inactive_days if standings is not None else 14
    lines = []
    for rating in profile.ratings:
        rank = standings.rank(player.discord_uid, rating.race, now) if standings else None
        where: list[str] = []
        if rank is not None:
            where.append(
                _(
                    "rank **{letter}** (#{position} of {total})",
                    letter=rank.letter,
                    position=format_number(rank.position),
                    total=format_number(rank.total),
                )
            )
        elif standings is None:
            pass  # ranks unknown: say nothing rather than "unranked"
        elif rating.games:
            where.append(
                n_(
                    "unranked (no game in {count} day)",
                    "unranked (no game in {count} days)",
                    inactive,
                )
            )
        else:
            where.append(_("unranked (no games yet)"))
        shown, notice = str(rating.mmr), ""
        if system is not None:
            shown, notice = rating_notes(
                system,
                rating.mmr,
                rating.games,
                rating.deviation,
                rating.volatility,
                rating.last_played_at,
                now,
            )
        # Translators: {mmr} is a number, with "?" while the rating is provisional.
        head = _("**{race}** — {mmr} MMR", race=race_names.get(rating.race, rating.race), mmr=shown)
        played = (
            _("last played {when}", when=_when(rating.last_played_at))
            if rating.last_played_at
            else _("never played")
        )
        lines.append(
            " · ".join([head, *where, _record(rating.record), played])
            + (f"\n  ↳ {notice}" if notice else "")
        )
    embed.add_field(
        name=_("Ratings"),
        value=_field(lines, _("No rated games yet: `/queue` to play.")),
        inline=False,
    )
    records = [_("Overall: {record}", record=_record(profile.overall))] + [
        n_("Last {count} day: {record}", "Last {count} days: {record}", days, record=_record(r))
        for days, r in profile.windows
    ]
    embed.add_field(name=_("Record"), value="\n".join(records), inline=True)
    embed.add_field(name=_("Last played"), value=_when(profile.last_played_at, "f"), inline=True)
    embed.add_field(
        name=_("Aborts left"),
        value=_(
            "{left} of {allowance} this month",
            left=format_number(profile.aborts.left),
            allowance=format_number(profile.aborts.allowance),
        ),
        inline=True,
    )
    recent = []
    for m in profile.recent:
        change = "" if m.mmr_change is None else f" · {m.mmr_change:+d}"
        opponent = plain(m.opponent_name, 32) or str(m.opponent_uid)
        result = RESULT_WORD.get(m.result)
        # Translators: {date} is a date, {result} is "Win", "Loss" or "Draw", {map} a map name.
        line = _(
            "{date} **{result}** vs **{opponent}** ({opponent_race}) as {race} on {map}",
            date=_when(m.ended_at, "d"),
            result=_(result) if result else m.result,
            opponent=opponent,
            opponent_race=race_names.get(m.opponent_race, m.opponent_race),
            race=race_names.get(m.race, m.race),
            map=m.map,
        )
        recent.append(line + change)
    embed.add_field(name=_("Recent matches"), value=_field(recent, _("None yet.")), inline=False)
    return embed


class ProfileCog(commands.Cog):
    """Receives the profile commands and defers to the player and leaderboard services."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot

    @nextcord.slash_command(name="profile", description=N_("Show your ladder profile"))
    @guarded(Access.TERMS)
    async def profile(
        self,
        interaction: nextcord.Interaction,
        season: int | None = nextcord.SlashOption(
            description=N_("A past season's number, to see your final standing in it"),
            required=False,
            min_value=1,
        ),
    ) -> None:
        """Your profile: ratings and ranks per race, record, recent matches (or a past season)."""
        uid = user_of(interaction).id
        player = await self.bot.players.require(uid)
        if season is not None and self.bot.seasons is not None:
            past, entries, _names = await self.bot.seasons.standings_of(season, top=0, uid=uid)
            embed = profile_season_embed(past, entries, player.display_name, self.bot.race_names)
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return
        now = datetime.now(UTC)
        profile = await self.bot.leaderboard.profile(uid, now)
        embed = ladder_profile_embed(
            player,
            self.bot.regions,
            profile,
            self.bot.standings,
            self.bot.race_names,
            now,
            rating_system(self.bot.ladder_config.rating),
        )
        embed.url = player_link(self.bot.web_base_url, player.player_name)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(name="setcountry", description=N_("Change the country on your profile"))
    @guarded(Access.TERMS)
    async def setcountry(
        self,
        interaction: nextcord.Interaction,
        country: str = nextcord.SlashOption(
            description=N_("Start typing your country's name"), autocomplete=True, max_length=100
        ),
    ) -> None:
        """Change your country."""
        code = validate_country(country)
        uid = user_of(interaction).id
        change = await self.bot.players.set_country(uid, code)  # the standings follow it
        country_shown = describe_country(code)
        text = (
            _("Your country is now {country}.", country=country_shown)
            if change
            else _("Your country was already {country}.", country=country_shown)
        )
        embed = nextcord.Embed(description=text, colour=SUCCESS_COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(
        name="language",
        description=N_("Choose the language the bot writes to you in"),
    )  # its names and descriptions in other languages: cogs/localize.py, as for every command
    @guarded(Access.ANYONE)
    async def language(
        self,
        interaction: nextcord.Interaction,
        language: str = nextcord.SlashOption(
            description=N_("Your language, or your Discord app's"),
            choices={**{NATIVE_NAMES[code]: code for code in LOCALES}, "Discord": AUTO},
        ),
    ) -> None:
        """Choose the language the bot writes to you in."""
        user = user_of(interaction)
        chosen = None if language == AUTO else language
        await self.bot.players.set_language(user.id, user.name, chosen)
        # This answer is already in the new language.
        with speaking(choose(chosen, interaction.locale)):
            if chosen is None:
                text = _("I will write to you in the language of your Discord app.")
            else:
                text = _("I will write to you in {language}.", language=NATIVE_NAMES[chosen])
            embed = nextcord.Embed(description=text, colour=SUCCESS_COLOUR)
            await interaction.response.send_message(embed=embed, ephemeral=True)

    @setcountry.on_autocomplete("country")
    @guarded(Access.TERMS)
    async def _country_choices(self, interaction: nextcord.Interaction, country: str) -> None:
        await interaction.response.send_autocomplete(
            {name[:100]: code for code, name in search_countries(country or "")}
        )

    @nextcord.slash_command(name="help", description=N_("What each ladder command does"))
    @guarded(Access.ANYONE, dm_only=False)
    async def help(self, interaction: nextcord.Interaction) -> None:
        """This list."""
        entries = help_entries(self.bot.get_all_application_commands())
        await interaction.response.send_message(embed=help_embed(entries), ephemeral=True)
