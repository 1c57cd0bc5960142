"""/queue: choose races and map vetoes, join, wait, leave."""

from __future__ import annotations

import logging

import nextcord
from nextcord.ext import commands

from cogs.match_ui import leave_queue_button, queue_embed
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from cogs.views import LadderView
from ladder.errors import ConflictError
from ladder.guards import Access

log = logging.getLogger(__name__)


class QueueCog(commands.Cog):
    """Receives /queue and the queue's buttons; LadderService does the work."""

    def __init__(self, bot) -> None:
        self.bot = bot
        bot.router.register("queue", self._on_queue_button)  # Cancel: always allowed

    @nextcord.slash_command(name="queue", description="Look for a ranked match")
    @guarded(Access.SETUP)
    async def queue(self, interaction: nextcord.Interaction) -> None:
        uid = interaction.user.id
        await self._refuse_if_busy(uid)
        preferences = await self.bot.ladder.queue_preferences(uid)
        view = QueueView(uid, self.bot.ladder_config, preferences)
        view.interaction = interaction
        await interaction.response.send_message(
            embed=view.embed(), view=view, ephemeral=interaction.guild_id is not None
        )

    async def _refuse_if_busy(self, uid: int) -> None:
        if await self.bot.ladder.queue_status(uid) is not None:
            raise ConflictError("You are already in the queue. Use its Cancel button to leave.")
        match = await self.bot.ladder.open_match_of(uid)
        if match is not None:
            raise ConflictError(f"You are in match #{match.id}: finish or abort it first.")

    async def _on_queue_button(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        left = await self.bot.ladder.leave_queue(interaction.user.id)
        text = "You left the queue." if left else "You were not in the queue any more."
        await interaction.response.edit_message(
            embed=nextcord.Embed(description=text, colour=INFO_COLOUR), view=None
        )


class QueueView(LadderView):
    """Races (one or more), map vetoes (up to the maximum), then Join or Cancel."""

    access = Access.SETUP  # as /queue: the terms and the profile may have changed since

    def __init__(self, owner_id: int, config, preferences) -> None:
        super().__init__(owner_id, timeout=300)
        self.config = config
        self.races = list(preferences.races)
        self.vetoes = list(preferences.vetoes)
        self.race_select = nextcord.ui.StringSelect(
            custom_id="queue_view:races",
            placeholder="Races you will play",
            min_values=1,
            max_values=len(config.races),
            options=[
                nextcord.SelectOption(label=r.name, value=r.code, default=r.code in self.races)
                for r in config.races
            ],
            row=0,
        )
        self.race_select.callback = self._pick_races
        self.add_item(self.race_select)
        if config.max_vetoes:
            self.veto_select = nextcord.ui.StringSelect(
                custom_id="queue_view:vetoes",
                placeholder=f"Maps you will not play (up to {config.max_vetoes})",
                min_values=0,
                max_values=min(config.max_vetoes, len(config.map_pool)),
                options=[
                    nextcord.SelectOption(label=m[:100], value=m[:100], default=m in self.vetoes)
                    for m in config.map_pool[:25]
                ],
                row=1,
            )
            self.veto_select.callback = self._pick_vetoes
            self.add_item(self.veto_select)

    def embed(self) -> nextcord.Embed:
        embed = nextcord.Embed(title="Queue for a match", colour=INFO_COLOUR)
        embed.description = "Pick your races and the maps you veto, then **Join**."
        names = ", ".join(self.config.race(code).name for code in self.races) or "pick below"
        embed.add_field(name="Races", value=names)
        embed.add_field(name="Vetoed maps", value=", ".join(self.vetoes) or "none")
        return embed

    async def _pick_races(self, interaction: nextcord.Interaction) -> None:
        self.races = list(self.race_select.values)
        await interaction.response.edit_message(embed=self.embed(), view=self)

    async def _pick_vetoes(self, interaction: nextcord.Interaction) -> None:
        self.vetoes = list(self.veto_select.values)
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @nextcord.ui.button(
        label="Join", style=nextcord.ButtonStyle.green, custom_id="queue_view:join", row=2
    )
    async def join(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        ladder = interaction.client.ladder
        status = await ladder.join_queue(interaction.user.id, self.races, self.vetoes)
        self.stop()
        message = interaction.message
        if message is not None and interaction.guild_id is None:
            # Written before the answer: once a player sees a reply, everything is on disk.
            await ladder.set_queue_message(interaction.user.id, message.channel.id, message.id)
        await interaction.response.edit_message(
            embed=queue_embed(status, self.config), view=leave_queue_button()
        )

    @nextcord.ui.button(
        label="Cancel", style=nextcord.ButtonStyle.grey, custom_id="queue_view:cancel", row=2
    )
    async def cancel(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        self.stop()
        await interaction.response.edit_message(
            embed=nextcord.Embed(description="Not queued.", colour=INFO_COLOUR), view=None
        )
