"""/queue: choose races and map vetoes, join, wait, leave.

The menu /queue shows and the Cancel under a queue message are routed by custom_id: the menu
carries its state in its custom_ids (cogs/queue_menu.py), Cancel needs none ("queue:leave"
acts on whoever clicks it). Nothing is kept in memory per message.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.components import selected, uid_part
from cogs.match_ui import leave_queue_button, queue_embed
from cogs.pipeline import guarded
from cogs.queue_menu import (
    PREFIX,
    QueueMenu,
    decode,
    menu_embed,
    menu_view,
    pick_races,
    pick_vetoes,
)
from cogs.responses import INFO_COLOUR
from i18n import N_, _
from ladder.errors import ConflictError
from ladder.guards import Access
from services.players import LeftQueue

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)


class QueueCog(commands.Cog):
    """Receives /queue and the queue's buttons; QueueService does the work."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        bot.router.register("queue", self._on_queue_button)  # Cancel: always allowed
        # The menu: its owner only, who must pass /queue's guards again (the terms and the
        # profile may have changed since it was shown).
        bot.router.register(PREFIX, self._on_menu, access=Access.SETUP, owner=uid_part(1))

    @nextcord.slash_command(name="queue", description=N_("Look for a ranked match"))
    @guarded(Access.SETUP)
    async def queue(self, interaction: nextcord.Interaction) -> None:
        """Look for a match: pick races and map vetoes, then Join."""
        uid = user_of(interaction).id
        await self._refuse_if_busy(uid)
        preferences = await self.bot.queue.queue_preferences(uid)
        menu = QueueMenu(uid, tuple(preferences.races), tuple(preferences.vetoes))
        config = self.bot.ladder_config
        await interaction.response.send_message(
            embed=menu_embed(menu, config),
            view=menu_view(menu, config),
            ephemeral=interaction.guild_id is not None,
        )

    async def _refuse_if_busy(self, uid: int) -> None:
        # The service states the queue rule and its words; Join checks it again there.
        await self.bot.queue.check_free_to_queue(uid)

    async def _on_queue_button(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        left = await self.bot.queue.leave_queue(user_of(interaction).id)
        text = _("You left the queue.") if left else _("You were not in the queue any more.")
        await interaction.response.edit_message(
            embed=nextcord.Embed(description=text, colour=INFO_COLOUR), view=None
        )

    async def _on_menu(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """A pick, Join or Cancel on a /queue menu (its owner checked already)."""
        config = self.bot.ladder_config
        menu, action = decode(parts, config)
        if action == "races":
            menu = QueueMenu(menu.owner, pick_races(selected(interaction), config), menu.vetoes)
        elif action == "vetoes":
            menu = QueueMenu(menu.owner, menu.races, pick_vetoes(selected(interaction), config))
        elif action == "join":
            await self._join(interaction, menu)
            return
        else:  # cancel
            await interaction.response.edit_message(
                embed=nextcord.Embed(description=_("Not queued."), colour=INFO_COLOUR), view=None
            )
            return
        await interaction.response.edit_message(
            embed=menu_embed(menu, config), view=menu_view(menu, config)
        )

    async def _why_not_queued(self, uid: int) -> LeftQueue:
        """Why a player who just joined is not queued any more: matched, or (an admin's ban,
        dequeue or clear, whose own edit names it) the neutral "no longer in the queue"."""
        try:
            await self.bot.queue.check_free_to_queue(uid)
        except ConflictError:  # not queued, so: in a match
            return LeftQueue.MATCHED
        return LeftQueue.BANNED  # its text says only that he is no longer queued

    async def _join(self, interaction: nextcord.Interaction, menu: QueueMenu) -> None:
        queue = self.bot.queue
        uid = user_of(interaction).id
        message = interaction.message
        # The message that shows the wait, written with the entry (before the answer: once a
        # player sees a reply, everything is on disk): a wave that pairs him before this answer
        # goes out must find it to edit.
        shown = (
            (message.channel.id, message.id)
            if message is not None and interaction.guild_id is None
            else None
        )
        status = await queue.join_queue(uid, menu.races, menu.vetoes, shown)
        await interaction.response.edit_message(
            embed=queue_embed(status, self.bot.ladder_config), view=leave_queue_button()
        )
        if await queue.queue_status(uid) is None:
            # Taken out of the queue between the join and this answer (a wave, an admin): the
            # answer may have overwritten the edit that said so. Say it again.
            self.bot.notifier.left_queue_soon([status], await self._why_not_queued(uid))
