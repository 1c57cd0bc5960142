"""Stateless components: every button, select and modal is routed by its custom_id.

nextcord's views and modals are objects kept in memory, one per message, each with a timeout
task, and nextcord walks all of them on every click. Instead, `ComponentRouter` handles every
component and modal interaction straight from its custom_id ("match:12:confirm"): the first
part names the handler, the rest says what it acts on; anything else a handler needs is in
SQLite. Nothing is kept per message, so a thousand answered commands keep nothing alive, a
click costs the same whatever the load, and the components on old messages keep working after
a restart with nothing to re-register. A custom_id nobody routes (an old release's, a forged
one) or whose state is gone is answered "This has expired", never left to fail silently.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import nextcord

from cogs.client import interaction_data, ladder_bot
from cogs.pipeline import COMPONENT_RULE, route_of
from i18n import N_
from ladder.errors import GuardRefusal
from ladder.guards import Access, CommandRule

log = logging.getLogger(__name__)

SEPARATOR = ":"
Handler = Callable[[nextcord.Interaction, list[str]], Awaitable[None]]
# Reads the uid of the only user who may use a component from its custom_id's parts (None:
# not readable; the handler then refuses the id as expired).
Owner = Callable[[list[str]], int | None]
_ROUTED = (nextcord.InteractionType.component, nextcord.InteractionType.modal_submit)
_UID = re.compile(r"[1-9][0-9]{0,19}")


class ExpiredComponent(GuardRefusal):
    """A button, select or modal whose custom_id no route answers, or whose state is gone."""

    title = N_("This has expired")


EXPIRED = ExpiredComponent(
    "expired",
    N_(
        "These buttons are from an earlier session or waited too long. "
        "Please run the command again."
    ),
)


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
    # Each item points back at its view (item.view, read only by nextcord's dispatch, which a
    # routed component never reaches): without that cycle the view and its items are freed by
    # reference counting once sent, not left to the garbage collector's passes.
    for item in view.children:
        item._view = None
    return view


class _SentRows:
    """Components already in Discord's JSON form, for nextcord's send and edit paths, which
    read only `to_components()`, `prevent_update` and `is_finished()`: nothing to build, nothing
    for nextcord to keep."""

    __slots__ = ("_rows",)
    prevent_update = False

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def to_components(self) -> list[dict[str, Any]]:
        return self._rows

    def is_finished(self) -> bool:
        return True


def sent_rows(rows: list[dict[str, Any]]) -> nextcord.ui.View:
    """Send these action rows (Discord's JSON) where nextcord takes a view."""
    return cast(nextcord.ui.View, _SentRows(rows))


def frozen_modal(modal: nextcord.ui.Modal) -> nextcord.ui.Modal:
    """A modal used only to be shown: its submit is routed by custom_id, nothing is kept."""
    modal.stop()
    return modal


@dataclass(frozen=True, slots=True)
class Route:
    """What a custom_id prefix leads to: its handler and the rule its users must pass."""

    handler: Handler
    rule: CommandRule
    owner: Owner | None = None


def uid_part(index: int) -> Owner:
    """An `Owner` that reads the uid at `parts[index]` (ASCII digits, below 2**64)."""

    def owner(parts: list[str]) -> int | None:
        if len(parts) <= index or not _UID.fullmatch(parts[index]):
            return None
        uid = int(parts[index])
        return uid if uid < 1 << 64 else None

    return owner


def text_inputs(interaction: nextcord.Interaction) -> dict[str, str]:
    """A submitted modal's text inputs by custom_id (a client can leave any out)."""
    values: dict[str, str] = {}
    for row in interaction_data(interaction).get("components") or []:
        for component in row.get("components") or []:
            custom = component.get("custom_id")
            if isinstance(custom, str):
                values[custom] = str(component.get("value") or "")
    return values


def selected(interaction: nextcord.Interaction) -> list[str]:
    """The values a select sent (a client can send anything: the handler checks them)."""
    values = interaction_data(interaction).get("values")
    return [str(v) for v in values] if isinstance(values, list) else []


class ComponentRouter:
    """Dispatches every component and modal interaction by the first part of its custom_id.

    Each goes through the bot's CommandPipeline like a slash command: counted for the stop,
    refused once stopping, owner and guards checked, and logged as one command_calls row.
    """

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def register(
        self,
        prefix: str,
        handler: Handler,
        *,
        access: Access = Access.ANYONE,
        owner: Owner | None = None,
    ) -> None:
        """Send custom_ids "<prefix>:..." to `handler(interaction, parts after the prefix)`.

        `owner`, when given, reads from the parts the only user who may use the component;
        the pipeline refuses anyone else before the guards, as it does for every owned view.
        """
        if prefix in self._routes:
            raise ValueError(f"component prefix {prefix!r} registered twice")
        self._routes[prefix] = Route(handler, CommandRule(access, dm_only=False), owner)

    @property
    def prefixes(self) -> frozenset[str]:
        return frozenset(self._routes)

    def handles(self, interaction: nextcord.Interaction) -> bool:
        """Every component and modal interaction is the router's, known or not."""
        return interaction.type in _ROUTED

    async def dispatch(self, interaction: nextcord.Interaction) -> None:
        """Run the handler for this custom_id through the pipeline (or answer "expired")."""
        custom = str(interaction_data(interaction).get("custom_id", ""))
        prefix, *parts = custom.split(SEPARATOR)
        route = self._routes.get(prefix)
        pipeline = ladder_bot(interaction).pipeline
        if route is None:
            await pipeline.run(interaction, COMPONENT_RULE, _refuse_expired, route=route_of(custom))
            return
        await pipeline.run(
            interaction,
            route.rule,
            functools.partial(route.handler, interaction, parts),
            route=route_of(custom),
            owner_id=route.owner(parts) if route.owner is not None else None,
        )


async def _refuse_expired() -> None:
    raise EXPIRED
