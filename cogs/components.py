"""Stateless components: buttons whose custom_id says what they act on ("match:12:confirm").

nextcord's persistent views need one registered object per message; a ladder has a match
message per player per match. Instead, `ComponentRouter` handles every custom_id with a known
prefix straight from the interaction, loading what it needs from SQLite. Nothing is kept in
memory, so the buttons on old messages keep working after a restart with nothing to
re-register.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nextcord

from cogs.pipeline import route_of
from ladder.guards import Access, CommandRule

log = logging.getLogger(__name__)

SEPARATOR = ":"
Handler = Callable[[nextcord.Interaction, list[str]], Awaitable[None]]


def custom_id(*parts: object) -> str:
    """Build a routed custom_id; Discord allows 100 characters."""
    value = SEPARATOR.join(str(p) for p in parts)
    if len(value) > 100:
        raise ValueError(f"custom_id too long: {value!r}")
    return value


def frozen_view(*items: nextcord.ui.Item) -> nextcord.ui.View:
    """A view used only to send components: stopped, so nextcord does not keep it in memory."""
    # prevent_update=False: nextcord 3.2.0 still files a stopped view sent with an ephemeral
    # response (with a 15-minute timeout task each) unless told not to.
    view = nextcord.ui.View(timeout=None, prevent_update=False)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


def frozen_modal(modal: nextcord.ui.Modal) -> nextcord.ui.Modal:
    """A modal used only to be shown: its submit is routed by custom_id, nothing is kept."""
    modal.stop()
    return modal


@dataclass(frozen=True, slots=True)
class Route:
    """What a custom_id prefix leads to: its handler and the rule its users must pass."""

    handler: Handler
    rule: CommandRule


class ComponentRouter:
    """Dispatches routed component and modal interactions by the first part of their custom_id.

    Each goes through the bot's CommandPipeline like a slash command: counted for the stop,
    refused once stopping, guarded, and logged as one command_calls row.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def register(self, prefix: str, handler: Handler, *, access: Access = Access.ANYONE) -> None:
        if prefix in self._routes:
            raise ValueError(f"component prefix {prefix!r} registered twice")
        self._routes[prefix] = Route(handler, CommandRule(access, dm_only=False))

    def handles(self, interaction: nextcord.Interaction) -> bool:
        if interaction.type not in (
            nextcord.InteractionType.component,
            nextcord.InteractionType.modal_submit,
        ):
            return False
        custom = (interaction.data or {}).get("custom_id", "")
        return custom.split(SEPARATOR, 1)[0] in self._routes

    async def dispatch(self, interaction: nextcord.Interaction) -> None:
        """Run the handler for this custom_id through the pipeline."""
        custom = (interaction.data or {}).get("custom_id", "")
        prefix, *parts = custom.split(SEPARATOR)
        route = self._routes[prefix]
        await interaction.client.pipeline.run(
            interaction,
            route.rule,
            functools.partial(route.handler, interaction, parts),
            route=route_of(custom),
        )
