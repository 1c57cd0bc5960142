"""The pipeline every slash command passes through, and the decorator that puts it there.

    @nextcord.slash_command(description="Show your profile")
    @guarded(Access.TERMS)
    async def profile(self, interaction): ...

For each command: start the flow → load the caller through the player cache → guard checks →
the handler → queue the command's log row with its outcome and duration → log the flow line.
The row is queued last, in a `finally`, because it carries the outcome and the duration: one
complete row per command, no second write. Queuing costs a deque append, so it stays off the
critical path all the same (see bench/).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import nextcord

from app.flow import DEFAULT_THRESHOLD_MS, FlowTracker, log_flow
from cogs.responses import send_error
from ladder.errors import GuardRefusal, LadderError
from ladder.guards import Access, CommandRule, check_access
from ladder.players import Player
from storage.players import PlayerRepository

log = logging.getLogger(__name__)

RULE_ATTRIBUTE = "__ladder_rule__"
STOPPING = GuardRefusal(
    "stopping", "The ladder is restarting right now. Please try again in a minute."
)


class CommandLog(Protocol):
    """What the pipeline needs of the command log writer: a non-blocking record()."""

    def record(
        self,
        interaction_id: int,
        discord_uid: int,
        player_name: str | None,
        command: str,
        guild_id: int | None,
        duration_ms: float,
        outcome: str,
    ) -> None: ...


class CommandPipeline:
    """Runs a command's handler between the flow monitor, the guards and the command log."""

    def __init__(
        self,
        players: PlayerRepository,
        command_log: CommandLog,
        *,
        admin_ids: frozenset[int],
        dm_only: bool,
        thresholds_ms: Mapping[str, float] | None = None,
    ) -> None:
        self._players = players
        self._log = command_log
        self._admin_ids = admin_ids
        self._dm_only = dm_only
        self._thresholds = dict(thresholds_ms or {})
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    def stop_accepting(self) -> None:
        """From now on, refuse new commands and clicks: the bot is shutting down."""
        self._stopping = True

    def is_admin(self, uid: int) -> bool:
        return uid in self._admin_ids

    async def run(
        self,
        interaction: nextcord.Interaction,
        rule: CommandRule,
        handler: Callable[[], Awaitable[Any]],
    ) -> None:
        """Run one command through every stage; never raises into nextcord."""
        command = _command_name(interaction)
        flow = FlowTracker(
            f"interaction.{command.replace(' ', '.')}",
            self._thresholds.get(command, DEFAULT_THRESHOLD_MS),
        )
        user = interaction.user
        player: Player | None = None
        outcome = "cancelled"  # stays so only if the task is cancelled mid-command
        if self._stopping:
            await send_error(interaction, STOPPING, where=f"/{command}")
            self._log.record(
                interaction.id,
                user.id,
                user.name,
                command,
                interaction.guild_id,
                flow.elapsed_ms(),
                f"refused:{STOPPING.guard}",
            )
            return
        self._running += 1
        self._idle.clear()
        try:
            player = await self._players.get(user.id)
            flow.checkpoint("player_loaded")
            check_access(
                rule,
                player,
                is_admin=user.id in self._admin_ids,
                in_dm=interaction.guild_id is None,
                dm_only_enabled=self._dm_only,
            )
            flow.checkpoint("guards")
            await handler()
            flow.checkpoint("handler")
            outcome = "ok"
        except GuardRefusal as refusal:
            outcome = f"refused:{refusal.guard}"
            await send_error(interaction, refusal, where=f"/{command}")
        except LadderError as error:
            outcome = "rejected"
            await send_error(interaction, error, where=f"/{command}")
        except Exception as error:
            outcome = "error"
            await send_error(interaction, error, where=f"/{command}")
        finally:
            name = player.display_name if player else user.name
            self._log.record(
                interaction.id,
                user.id,
                name,
                command,
                interaction.guild_id,
                flow.elapsed_ms(),
                outcome,
            )
            flow.checkpoint("command_logged")
            log_flow(flow.finish(outcome))
            self._running -= 1
            if not self._running:
                self._idle.set()

    async def wait_idle(self, grace: float) -> bool:
        """Wait until no command is running (at most `grace` s); True if none is."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("%d command(s) still running after %.0f s", self._running, grace)
            return False
        return True

    async def check_component(
        self, interaction: nextcord.Interaction, owner_id: int | None
    ) -> bool:
        """Guard a button, select or modal: the owner only (if any), never a banned player."""
        if self._stopping:
            await send_error(interaction, STOPPING, where="component")
            return False
        user = interaction.user
        if owner_id is not None and user.id != owner_id:
            await send_error(
                interaction,
                GuardRefusal("owner", "These buttons belong to someone else's command."),
                where="component",
            )
            return False
        player = await self._players.get(user.id)
        try:
            check_access(
                CommandRule(Access.ANYONE, dm_only=False),
                player,
                is_admin=user.id in self._admin_ids,
                in_dm=True,
                dm_only_enabled=False,
            )
        except GuardRefusal as refusal:
            await send_error(interaction, refusal, where="component")
            return False
        return True


def guarded(access: Access, *, dm_only: bool = True) -> Callable:
    """Run the decorated slash command callback through the bot's CommandPipeline."""
    rule = CommandRule(access, dm_only=dm_only)

    def decorate(callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(callback)
        async def through_pipeline(
            cog: Any, interaction: nextcord.Interaction, *args: Any, **kwargs: Any
        ) -> None:
            handler = functools.partial(callback, cog, interaction, *args, **kwargs)
            await interaction.client.pipeline.run(interaction, rule, handler)

        setattr(through_pipeline, RULE_ATTRIBUTE, rule)
        return through_pipeline

    return decorate


def _command_name(interaction: nextcord.Interaction) -> str:
    command = interaction.application_command
    if command is not None:
        return command.qualified_name
    data = interaction.data or {}
    return str(data.get("name", "unknown"))
