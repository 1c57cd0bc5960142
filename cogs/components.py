"""Stateless components: buttons whose custom_id says what they act on ("match:12:confirm").

nextcord's persistent views need one registered object per message; a ladder has a match
message per player per match. Instead, `ComponentRouter` handles every custom_id with a known
prefix straight from the interaction, loading what it needs from SQLite. Nothing is kept in
memory, so the buttons on old messages keep working after a restart with nothing to
re-register.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import nextcord

from app.flow import FlowTracker, log_flow
from cogs.responses import send_error
from ladder.errors import LadderError

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
    view = nextcord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


class ComponentRouter:
    """Dispatches routed component and modal interactions by the first part of their custom_id."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, prefix: str, handler: Handler) -> None:
        if prefix in self._handlers:
            raise ValueError(f"component prefix {prefix!r} registered twice")
        self._handlers[prefix] = handler

    def handles(self, interaction: nextcord.Interaction) -> bool:
        if interaction.type not in (
            nextcord.InteractionType.component,
            nextcord.InteractionType.modal_submit,
        ):
            return False
        custom = (interaction.data or {}).get("custom_id", "")
        return custom.split(SEPARATOR, 1)[0] in self._handlers

    async def dispatch(self, interaction: nextcord.Interaction) -> None:
        """Run the handler for this custom_id; errors reach the player through send_error."""
        custom = (interaction.data or {}).get("custom_id", "")
        prefix, *parts = custom.split(SEPARATOR)
        flow = FlowTracker(f"component.{prefix}.{parts[-1] if parts else ''}")
        outcome = "ok"
        try:
            if await interaction.client.pipeline.check_component(interaction, None):
                await self._handlers[prefix](interaction, parts)
            else:
                outcome = "refused"
        except LadderError as error:
            outcome = "rejected"
            await send_error(interaction, error, where=custom)
        except Exception as error:
            outcome = "error"
            await send_error(interaction, error, where=custom)
        finally:
            flow.checkpoint("handler")
            log_flow(flow.finish(outcome))
