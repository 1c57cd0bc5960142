"""/profile, /setcountry and /help."""

from __future__ import annotations

import nextcord
from nextcord.ext import commands

from cogs.embeds import help_embed, profile_embed
from cogs.pipeline import guarded
from cogs.responses import SUCCESS_COLOUR
from ladder.countries import search_countries
from ladder.guards import Access
from ladder.players import describe_country, validate_country


class ProfileCog(commands.Cog):
    """Receives the profile commands and defers to the player repository."""

    def __init__(self, bot) -> None:
        self.bot = bot

    @nextcord.slash_command(name="profile", description="Show your ladder profile")
    @guarded(Access.TERMS)
    async def profile(self, interaction: nextcord.Interaction) -> None:
        player = await self.bot.players.require(interaction.user.id)
        await interaction.response.send_message(
            embed=profile_embed(player, self.bot.regions), ephemeral=True
        )

    @nextcord.slash_command(name="setcountry", description="Change the country on your profile")
    @guarded(Access.TERMS)
    async def setcountry(
        self,
        interaction: nextcord.Interaction,
        country: str = nextcord.SlashOption(
            description="Start typing your country's name", autocomplete=True, max_length=100
        ),
    ) -> None:
        code = validate_country(country)
        change = await self.bot.players.set_country(interaction.user.id, code)
        text = "is now" if change else "was already"
        embed = nextcord.Embed(
            description=f"Your country {text} {describe_country(code)}.", colour=SUCCESS_COLOUR
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @setcountry.on_autocomplete("country")
    async def _country_choices(self, interaction: nextcord.Interaction, country: str) -> None:
        await interaction.response.send_autocomplete(
            {name[:100]: code for code, name in search_countries(country or "")}
        )

    @nextcord.slash_command(name="help", description="What each ladder command does")
    @guarded(Access.ANYONE, dm_only=False)
    async def help(self, interaction: nextcord.Interaction) -> None:
        await interaction.response.send_message(embed=help_embed(), ephemeral=True)
