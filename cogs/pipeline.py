"""The pipeline every interaction passes through, and the decorators that put it there.

    @nextcord.slash_command(description="Show your profile")
    @guarded(Access.TERMS)
    async def profile(self, interaction): ...

Slash commands, buttons, selects, modal submits and autocompletes all take the same path:
refuse if stopping → count it (the stop waits for it) → wait for a turn (app.flow.Admission:
one whose turn comes too late to answer within Discord's 3 s runs nothing and is recorded
`expired`) → start the flow → load the caller through
the player cache → owner and guard checks → the handler → queue one `command_calls` row with its
kind, route, outcome and duration → log the flow line. The row is queued last, in a `finally`,
because it carries the outcome and the duration: one complete row per interaction, no second
write. Queuing costs a deque append, so it stays off the critical path (see bench/).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any, Protocol

import nextcord

from app.flow import DEFAULT_THRESHOLD_MS, Admission, FlowTracker, log_flow
from cogs.client import interaction_data, ladder_bot, user_of
from cogs.responses import describe_error, send_error
from i18n import N_, choose, restore, use
from ladder.cooldowns import Cooldowns
from ladder.errors import GuardRefusal, LadderError
from ladder.guards import Access, CommandRule, check_access
from ladder.players import Player
from storage.players import PlayerRepository

log = logging.getLogger(__name__)

RULE_ATTRIBUTE = "__ladder_rule__"
STOPPING = GuardRefusal(
    "stopping", N_("The ladder is restarting right now. Please try again in a minute.")
)
SEEN_LOCALES_KEPT = 200_000  # users whose Discord app language is remembered (about 20 MB)
# Discord's error code for an interaction it no longer accepts an answer to (its window passed).
UNKNOWN_INTERACTION = 10062
NOT_YOURS = GuardRefusal("owner", N_("These buttons belong to someone else's command."))


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
        kind: str = ...,
    ) -> None: ...


class Kind(StrEnum):
    """What sort of interaction a command_calls row records."""

    SLASH = "slash"
    COMPONENT = "component"
    MODAL = "modal"
    AUTOCOMPLETE = "autocomplete"


_KINDS: dict[nextcord.InteractionType | None, Kind] = {
    nextcord.InteractionType.application_command: Kind.SLASH,
    nextcord.InteractionType.component: Kind.COMPONENT,
    nextcord.InteractionType.modal_submit: Kind.MODAL,
    nextcord.InteractionType.application_command_autocomplete: Kind.AUTOCOMPLETE,
}
# A view's id, which earlier releases appended to custom_ids (old messages still carry them).
_VIEW_ID = re.compile(r"[0-9a-f]{32}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_:-]")
# Components and modals need no DM check: they only exist where a command put them.
COMPONENT_RULE = CommandRule(Access.ANYONE, dm_only=False)


def route_of(custom_id: str) -> str:
    """A component's route for the log: its custom_id without the ids it carries.

    "match:12:report:win" → "match:report:win", "queue_view:join:<view id>" → "queue_view:join".
    A client can send any custom_id: anything but letters, digits, "_" and "-" becomes "?", so
    a route can never break a log line or carry markup.
    """
    parts = [p for p in custom_id.split(":") if p and not (p.isdigit() or _VIEW_ID.fullmatch(p))]
    return _UNSAFE.sub("?", ":".join(parts)[:100]) or "unknown"


class CommandPipeline:
    """Runs every interaction's handler between the stop accounting, the guards and the log."""

    def __init__(
        self,
        players: PlayerRepository,
        command_log: CommandLog,
        *,
        admin_ids: frozenset[int],
        dm_only: bool,
        thresholds_ms: Mapping[str, float] | None = None,
        admission: Admission | None = None,
        cooldowns: Cooldowns | None = None,
    ) -> None:
        self._players = players
        # Per-player cooldowns, checked before anything that could touch the database.
        self.cooldowns = cooldowns
        # Who runs when, and who is dropped unanswered because Discord's window has passed.
        self.admission = admission or Admission()
        self._log = command_log
        self._admin_ids = admin_ids
        self._dm_only = dm_only
        self._thresholds = dict(thresholds_ms or {})
        # The Discord app language each user last wrote from, for what the bot writes to them
        # unprompted (language_of); in memory only: after a restart, until they next write, a
        # player without a /language choice reads English.
        # A plain dict (a look-up per interaction costs a third of an LRU cache's), bounded by
        # dropping its oldest entry.
        self._seen_locales: dict[int, str] = {}
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = False

    @property
    def dm_only(self) -> bool:
        """Whether player commands are limited to DMs with the bot (the DM_ONLY setting)."""
        return self._dm_only

    def stop_accepting(self) -> None:
        """From now on, refuse new commands and clicks: the bot is shutting down."""
        self._stopping = True

    def is_admin(self, uid: int) -> bool:
        return uid in self._admin_ids

    def received(self, interaction: nextcord.Interaction) -> None:
        """nextcord has just handed `interaction` over: start its clock (call synchronously)."""
        self.admission.received(interaction.id)

    async def run(
        self,
        interaction: nextcord.Interaction,
        rule: CommandRule,
        handler: Callable[[], Awaitable[Any]],
        *,
        route: str | None = None,
        owner_id: int | None = None,
    ) -> None:
        """Run one interaction through every stage; never raises into nextcord.

        `route` names a component or modal in the log (default: the command's name);
        `owner_id`, when set, is the only user who may use it. Everything it writes is in the
        caller's language (i18n): their Discord client's until their record is loaded, then
        their /language choice if they made one.
        """
        discord_locale = getattr(interaction, "locale", None)
        if discord_locale:
            uid = user_of(interaction).id
            if self._seen_locales.get(uid) != discord_locale:
                seen = self._seen_locales
                seen.pop(uid, None)
                if len(seen) >= SEEN_LOCALES_KEPT:
                    del seen[next(iter(seen))]
                seen[uid] = discord_locale
        language = use(choose(None, discord_locale))
        try:
            await self._run(interaction, rule, handler, route, owner_id)
        finally:
            restore(language)
            release_cycles(interaction)

    async def _run(
        self,
        interaction: nextcord.Interaction,
        rule: CommandRule,
        handler: Callable[[], Awaitable[Any]],
        route: str | None,
        owner_id: int | None,
    ) -> None:
        kind = _KINDS.get(getattr(interaction, "type", None), Kind.SLASH)
        command = route or _command_name(interaction)
        flow = FlowTracker(
            f"{kind}.{command.replace(' ', '.')}",
            self._thresholds.get(command, DEFAULT_THRESHOLD_MS),
        )
        user = user_of(interaction)
        player: Player | None = None
        outcome = "cancelled"  # stays so only if the task is cancelled mid-command
        turned_away = STOPPING if self._stopping else self._cooldown(user.id, command, kind)
        # Running from here, a refusal too: a stop waits for its answer to go out before it
        # closes the client.
        self._running += 1
        self._idle.clear()
        if turned_away is not None:
            try:
                await _refuse(interaction, kind, turned_away, command)
            finally:  # the row is written even if answering failed
                outcome = f"refused:{turned_away.guard}"
                self._record(interaction, user.name, command, flow.elapsed_ms(), outcome, kind)
                self._finished()
            return
        try:
            started, waited_ms = await self.admission.enter(interaction.id)
        except BaseException:
            self._finished()
            raise
        if not started:
            # Its turn came too late to answer within Discord's window: no work, no answer.
            self._record(interaction, user.name, command, waited_ms, "expired", kind)
            self._finished()
            return
        flow.checkpoint("turn")
        try:
            player = await self._players.get(user.id)
            if player is not None and player.language is not None:
                use(player.language)  # run() restores the language it found
            flow.checkpoint("player_loaded")
            if owner_id is not None and user.id != owner_id:
                raise NOT_YOURS
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
            await _refuse(interaction, kind, refusal, command)
        except LadderError as error:
            outcome = "rejected"
            await _refuse(interaction, kind, error, command)
        except nextcord.NotFound as error:
            if error.code != UNKNOWN_INTERACTION:
                outcome = "error"
                await _refuse(interaction, kind, error, command)
            else:  # answered after Discord's window: nothing can reach the player any more
                outcome = "late"
                self.admission.answered_late()
        except Exception as error:
            outcome = "error"
            await _refuse(interaction, kind, error, command)
        finally:
            name = player.display_name if player else user.name
            self._record(interaction, name, command, flow.elapsed_ms(), outcome, kind)
            flow.checkpoint("command_logged")
            log_flow(flow.finish(outcome))
            self.admission.leave()
            self._finished()

    async def language_of(self, uid: int) -> str:
        """The language to write to `uid` in when they did not ask (a match found, a dispute for
        an admin, a notification): their /language choice, else their Discord app's as last
        seen, else English. Use it as ``with speaking(await pipeline.language_of(uid)):``."""
        player = await self._players.get(uid)
        return choose(player.language if player else None, self._seen_locales.get(uid))

    def _cooldown(self, uid: int, command: str, kind: Kind) -> GuardRefusal | None:
        # Autocompletes fire per keystroke and are not counted; admins are exempt.
        if self.cooldowns is None or kind is Kind.AUTOCOMPLETE or uid in self._admin_ids:
            return None
        hit = self.cooldowns.check(uid, command, time.monotonic())
        return None if hit is None else hit.refusal()

    def _record(
        self,
        interaction: nextcord.Interaction,
        name: str,
        command: str,
        ms: float,
        outcome: str,
        kind: Kind,
    ) -> None:
        """The interaction's one command_calls row, to the background writer."""
        uid, guild = user_of(interaction).id, interaction.guild_id
        self._log.record(interaction.id, uid, name, command, guild, ms, outcome, kind)

    def _finished(self) -> None:
        self._running -= 1
        if not self._running:
            self._idle.set()

    async def wait_idle(self, grace: float) -> bool:
        """Wait until no interaction is running (at most `grace` s); True if none is."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("%d interaction(s) still running after %.0f s", self._running, grace)
            return False
        return True


def release_cycles(interaction: nextcord.Interaction) -> None:
    """Break the reference cycles nextcord 3.2.0 builds into every interaction, once its answer
    is done, so that reference counting frees it as soon as the last task lets go of it.

    Left alone, each interaction is two cycles: ``attached`` is a dict that is its own
    ``__dict__``, and ``interaction.response`` (cached on the interaction) points back at it
    through ``_parent``. Only the collector frees them; an interaction still running when a
    young pass comes is promoted, so at hundreds a second they pile up in the old generations
    and the full passes that free them stall the loop (bench/results/load_cycles.md).

    Safe after the pipeline: no view or modal of ours is in nextcord's stores, so nothing of
    nextcord answers for us afterwards; its autocomplete path only reads
    ``response.is_done()`` when the callback returned choices (ours return None), and
    ``is_done()`` stays true. Anything that tried to answer again now fails loudly instead of
    answering twice. ``attached`` keeps its attributes (a copy), only no longer its own dict.
    """
    attached = getattr(interaction, "attached", None)
    if type(attached) is nextcord.interactions.InteractionAttached:
        attached.__dict__ = dict(attached)
    response = getattr(interaction, "_cs_response", None)
    if type(response) is nextcord.InteractionResponse:
        response._parent = None  # type: ignore[assignment]


async def _refuse(
    interaction: nextcord.Interaction, kind: Kind, error: BaseException, command: str
) -> None:
    """Tell the user why; an autocomplete can only answer with (no) choices."""
    if kind is Kind.AUTOCOMPLETE:
        describe_error(error, where=f"autocomplete {command}")  # logs an unexpected error
        if not interaction.response.is_done():
            with contextlib.suppress(nextcord.HTTPException):
                await interaction.response.send_autocomplete([])
        return
    await send_error(interaction, error, where=command)


def guarded(access: Access, *, dm_only: bool = True) -> Callable:
    """Run the decorated slash command (or autocomplete) callback through the pipeline."""
    rule = CommandRule(access, dm_only=dm_only)

    def decorate(callback: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(callback)
        async def through_pipeline(
            cog: Any, interaction: nextcord.Interaction, *args: Any, **kwargs: Any
        ) -> None:
            handler = functools.partial(callback, cog, interaction, *args, **kwargs)
            await ladder_bot(interaction).pipeline.run(interaction, rule, handler)

        setattr(through_pipeline, RULE_ATTRIBUTE, rule)
        return through_pipeline

    return decorate


def _command_name(interaction: nextcord.Interaction) -> str:
    command = interaction.application_command
    if command is not None:
        return command.qualified_name
    return str(interaction_data(interaction).get("name", "unknown"))
