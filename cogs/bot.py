"""The thin nextcord Bot subclass: typed attributes for what the cogs use, and the cog list."""

from __future__ import annotations

import logging

import nextcord
from nextcord.ext import commands

from cogs.onboarding import OnboardingCog, TermsView
from cogs.pipeline import CommandPipeline
from cogs.profile import ProfileCog
from storage.players import PlayerRepository

log = logging.getLogger(__name__)

COGS = (OnboardingCog, ProfileCog)


class LadderBot(commands.Bot):
    """The bot: built and closed by bot.py, which owns the database and the log writer."""

    def __init__(
        self,
        *,
        players: PlayerRepository,
        pipeline: CommandPipeline,
        regions: dict[str, str],
        terms_text: str,
        command_guild_ids: tuple[int, ...] = (),
    ) -> None:
        intents = nextcord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, default_guild_ids=list(command_guild_ids) or None)
        self.players = players
        self.pipeline = pipeline
        self.regions = regions
        self.terms_text = terms_text
        for cog in COGS:
            self.add_cog(cog(self))
        # Persistent views: their buttons keep working on old messages after a restart.
        self.add_view(TermsView())

    async def on_ready(self) -> None:
        log.info("Connected as %s (id %s)", self.user, self.user.id if self.user else "?")
