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
from i18n import LOCALES, NATIVE_NAMES, _, choose, command_names, descriptions, speaking
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
RESULT_WORD = {"win": "Win", "loss": "Loss", "draw": "Draw"}


def _when(moment: datetime | None, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>" if moment else "never"


def _record(record: Record) -> str:
    return f"{record.wins}W {record.losses}L {record.draws}D"


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
        if rank is not None:
            where = f" · rank **{rank.letter}** (#{rank.position:,} of {rank.total:,})"
        elif standings is None:
            where = ""  # ranks unknown: say nothing rather than "unranked"
        elif rating.games:
            where = f" · unranked (no game in {inactive} days)"
        else:
            where = " · unranked (no games yet)"
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
        lines.append(
            f"**{race_names.get(rating.race, rating.race)}** — {shown} MMR{where} · "
            f"{_record(rating.record)} · last played {_when(rating.last_played_at)}"
            + (f"\n  ↳ {notice}" if notice else "")
        )
    embed.add_field(
        name="Ratings", value=_field(lines, "No rated games yet: `/queue` to play."), inline=False
    )
    records = [f"Overall: {_record(profile.overall)}"] + [
        f"Last {days} days: {_record(record)}" for days, record in profile.windows
    ]
    embed.add_field(name="Record", value="\n".join(records), inline=True)
    embed.add_field(name="Last played", value=_when(profile.last_played_at, "f"), inline=True)
    embed.add_field(
        name="Aborts left",
        value=f"{profile.aborts.left} of {profile.aborts.allowance} this month",
        inline=True,
    )
    recent = []
    for m in profile.recent:
        change = "" if m.mmr_change is None else f" · {m.mmr_change:+d}"
        opponent = plain(m.opponent_name, 32) or str(m.opponent_uid)
        recent.append(
            f"{_when(m.ended_at, 'd')} **{RESULT_WORD.get(m.result, m.result)}** vs "
            f"**{opponent}** ({race_names.get(m.opponent_race, m.opponent_race)}) as "
            f"{race_names.get(m.race, m.race)} on {m.map}{change}"
        )
    embed.add_field(name="Recent matches", value=_field(recent, "None yet."), inline=False)
    return embed


class ProfileCog(commands.Cog):
    """Receives the profile commands and defers to the player and leaderboard services."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot

    @nextcord.slash_command(name="profile", description="Show your ladder profile")
    @guarded(Access.TERMS)
    async def profile(
        self,
        interaction: nextcord.Interaction,
        season: int | None = nextcord.SlashOption(
            description="A past season's number, to see your final standing in it",
            required=False,
            min_value=1,
        ),
    ) -> None:
        """Your profile: ratings and ranks per race, record, recent matches (or a past season)."""
        uid = user_of(interaction).id
        player = await self.bot.players.require(uid)
        if season is not None and self.bot.seasons is not None:
            past, entries, _ = await self.bot.seasons.standings_of(season, top=0, uid=uid)
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
        embed.url = player_link(self.bot.web_base_url, player.display_name)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(name="setcountry", description="Change the country on your profile")
    @guarded(Access.TERMS)
    async def setcountry(
        self,
        interaction: nextcord.Interaction,
        country: str = nextcord.SlashOption(
            description="Start typing your country's name", autocomplete=True, max_length=100
        ),
    ) -> None:
        """Change your country."""
        code = validate_country(country)
        uid = user_of(interaction).id
        change = await self.bot.players.set_country(uid, code)  # the standings follow it
        text = "is now" if change else "was already"
        embed = nextcord.Embed(
            description=f"Your country {text} {describe_country(code)}.", colour=SUCCESS_COLOUR
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(
        name="language",
        description="Choose the language the bot writes to you in",
        name_localizations=command_names("language"),
        description_localizations=descriptions("Choose the language the bot writes to you in"),
    )
    @guarded(Access.ANYONE)
    async def language(
        self,
        interaction: nextcord.Interaction,
        language: str = nextcord.SlashOption(
            description="Your language, or your Discord app's",
            choices={**{NATIVE_NAMES[code]: code for code in LOCALES}, "Discord": AUTO},
            name_localizations=command_names("language"),
            description_localizations=descriptions("Your language, or your Discord app's"),
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

    @nextcord.slash_command(name="help", description="What each ladder command does")
    @guarded(Access.ANYONE, dm_only=False)
    async def help(self, interaction: nextcord.Interaction) -> None:
        """This list."""
        entries = help_entries(self.bot.get_all_application_commands())
        await interaction.response.send_message(embed=help_embed(entries), ephemeral=True)
