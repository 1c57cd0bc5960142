"""Base classes for every View and Modal: an owner check, errors routed to one place, a timeout."""

from __future__ import annotations

import logging

import nextcord

from cogs.responses import send_error

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 600.0


class LadderView(nextcord.ui.View):
    """A view answered only by its owner (None: anyone) and never by a banned player."""

    def __init__(self, owner_id: int | None, *, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        # The latest interaction that showed or used this view: its token can still edit the
        # message (for 15 minutes), ephemeral ones included, when the view times out.
        self.interaction: nextcord.Interaction | None = None
        for item in self.children:
            self._own(item)

    def add_item(self, item: nextcord.ui.Item) -> LadderView:
        self._own(item)
        return super().add_item(item)

    def _own(self, item: nextcord.ui.Item) -> None:
        """Give a short-lived view's components ids of their own.

        nextcord files a sent view under its components' custom_ids; two players' /setup
        previews would share "setup:confirm", and the newer view would take the older one's
        clicks. Persistent views (no timeout) keep their fixed ids so they survive a restart.
        """
        custom = getattr(item, "custom_id", None)
        if self.timeout is not None and custom and not custom.endswith(self.id):
            item.custom_id = f"{custom}:{self.id}"

    async def interaction_check(self, interaction: nextcord.Interaction) -> bool:
        allowed = await interaction.client.pipeline.check_component(interaction, self.owner_id)
        if allowed:
            self.interaction = interaction
        return allowed

    async def on_error(
        self, error: Exception, item: nextcord.ui.Item, interaction: nextcord.Interaction
    ) -> None:
        await send_error(interaction, error, where=f"{type(self).__name__}.{item.custom_id}")

    async def on_timeout(self) -> None:
        """Grey out the components so a late click cannot fail silently."""
        for item in self.children:
            if hasattr(item, "disabled"):
                item.disabled = True
        if self.interaction is not None:
            try:
                await self.interaction.edit_original_message(view=self)
            except nextcord.HTTPException as exc:
                log.debug("Could not disable an expired view: %s", exc)


class LadderModal(nextcord.ui.Modal):
    """A modal whose errors reach the player through the one error handler."""

    async def on_error(self, error: Exception, interaction: nextcord.Interaction) -> None:
        await send_error(interaction, error, where=f"{type(self).__name__}")
