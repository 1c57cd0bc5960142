"""Base classes for every View and Modal: each click and submit goes through the pipeline.

A LadderView's components and a LadderModal's submit are run by `CommandPipeline.run`, like a
slash command: refused while stopping, counted for the stop's wait, checked (owner, ban and the
view's `access`), logged as one command_calls row, errors answered in one place.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nextcord

from cogs.pipeline import COMPONENT_RULE, route_of
from cogs.responses import send_error
from ladder.guards import Access, CommandRule

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 600.0


def _rule(access: Access) -> CommandRule:
    return COMPONENT_RULE if access is Access.ANYONE else CommandRule(access, dm_only=False)


class LadderView(nextcord.ui.View):
    """A view answered only by its owner (None: anyone) who passes `access` (never banned)."""

    access: Access = Access.ANYONE

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

    def _through_pipeline(
        self, item: nextcord.ui.Item, callback: Callable[[nextcord.Interaction], Awaitable[Any]]
    ) -> Callable[[nextcord.Interaction], Awaitable[None]]:
        async def handle(interaction: nextcord.Interaction) -> None:
            self.interaction = interaction
            await callback(interaction)

        async def run(interaction: nextcord.Interaction) -> None:
            await interaction.client.pipeline.run(
                interaction,
                _rule(self.access),
                functools.partial(handle, interaction),
                route=route_of(getattr(item, "custom_id", None) or type(self).__name__),
                owner_id=self.owner_id,
            )

        run.through_pipeline = True  # type: ignore[attr-defined]
        return run

    def _own(self, item: nextcord.ui.Item) -> None:
        """Give a short-lived view's components ids of their own.

        nextcord files a sent view under its components' custom_ids; two players' /setup
        previews would share "setup:confirm", and the newer view would take the older one's
        clicks. Persistent views (no timeout) keep their fixed ids so they survive a restart.
        """
        custom = getattr(item, "custom_id", None)
        if self.timeout is not None and custom and not custom.endswith(self.id):
            item.custom_id = f"{custom}:{self.id}"
        callback = item.callback
        if not getattr(callback, "through_pipeline", False):
            item.callback = self._through_pipeline(item, callback)

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
    """A modal whose submit (`submit`) runs through the pipeline, answered by its owner only."""

    access: Access = Access.ANYONE
    owner_id: int | None = None

    async def callback(self, interaction: nextcord.Interaction) -> None:
        await interaction.client.pipeline.run(
            interaction,
            _rule(self.access),
            functools.partial(self.submit, interaction),
            route=route_of(self.custom_id or type(self).__name__),
            owner_id=self.owner_id,
        )

    async def submit(self, interaction: nextcord.Interaction) -> None:
        """What the modal does with its values; subclasses define it."""
        raise NotImplementedError

    async def on_error(self, error: Exception, interaction: nextcord.Interaction) -> None:
        await send_error(interaction, error, where=f"{type(self).__name__}")
