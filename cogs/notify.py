"""/notify, and the loop that turns waiting players into queue notifications.

The cog is glue: NotificationService holds the rules' inputs and the log, ladder.notifications
the rules, cogs.notification_sender the one outbound sender. Nobody asked for a notification,
so it is handed over as a function that writes it (race name included) in the current language,
and the sender calls it in the recipient's (`CommandPipeline.language_of`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.notification_sender import NotificationSender
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from i18n import N_, _, format_list, format_number, n_
from ladder.guards import Access
from ladder.notifications import Notice, NotifySettings, matching_zones, notice_text
from services.notifications import NotificationService

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)


class QueueNotifications:
    """Every `tick` seconds: the notifications due, handed to the sender (which never blocks
    anyone). Started and stopped by bot.py with the other loops."""

    def __init__(self, bot: LadderBot, service: NotificationService) -> None:
        self.bot = bot
        self.service = service
        wait = service.config.notifications.wait_seconds
        self.tick = min(5.0, max(0.1, wait / 4))
        self.sender = NotificationSender(
            self.send_dm, service, workers=4, language_of=bot.pipeline.language_of
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self.sender.start()
            self._task = asyncio.create_task(self._run(), name="queue-notifications")
            self._task.add_done_callback(self._done)

    async def stop(self, grace: float = 1.0) -> None:
        """Stop deciding, then let the sender drain within `grace` seconds."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.sender.close(grace)

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The queue notification loop crashed", exc_info=task.exception())

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        with contextlib.suppress(Exception):
            await self.service.drop_unfinished()
        while True:
            await asyncio.sleep(self.tick)
            try:
                await self.run_once()
            except Exception:
                log.exception("Deciding queue notifications failed; trying again")

    async def run_once(self) -> int:
        """Decide what is due now and hand it to the sender; return how many."""
        due = await self.service.due()
        for item in due:
            self.sender.submit(item, functools.partial(self.notice, item.notice))
        return len(due)

    def notice(self, notice: Notice) -> str:
        """The DM about `notice` in the current language (the sender sets the recipient's)."""
        race = self.bot.race_names.get(notice.race, notice.race)
        return notice_text(race, notice.region, notice.mmr)

    async def send_dm(self, uid: int, text: str) -> None:
        channel = await self.bot.create_dm(nextcord.Object(id=uid))
        await channel.send(content=text)


def _interval(minutes: float) -> str:
    if float(minutes).is_integer():
        return n_(
            "At most one every {count} minute.", "At most one every {count} minutes.", int(minutes)
        )
    return _("At most one every {minutes} minutes.", minutes=format_number(minutes))


def settings_embed(
    s: NotifySettings, last_sent: str, interval_minutes: float, races: Mapping[str, str]
) -> nextcord.Embed:
    """What /notify shows: the player's settings and when his last notification went out."""
    everything = _("all")
    race_text = format_list(races.get(r, r) for r in sorted(s.races)) or everything
    region_text = format_list(sorted(s.regions)) or everything
    if s.quiet:
        quiet = _("Quiet hours: {hours} ({zone})", hours=str(s.quiet), zone=s.time_zone)
    else:
        quiet = _("Quiet hours: none (time zone {zone})", zone=s.time_zone)
    lines = [
        _("Queue notifications are **on**.")
        if s.enabled
        else _("Queue notifications are **off**."),
        _("Races: {races}", races=race_text),
        _("Regions: {regions}", regions=region_text),
        quiet,
        _interval(interval_minutes),
        _("Last notification: {when}", when=last_sent),
    ]
    return nextcord.Embed(
        title=_("Queue notifications"), description="\n".join(lines), colour=INFO_COLOUR
    )


class NotifyCog(commands.Cog):
    """Receives /notify; NotificationService does the work."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot

    @nextcord.slash_command(
        name="notify", description=N_("Get a DM when someone you could play is queueing")
    )
    @guarded(Access.SETUP)
    async def notify(
        self,
        interaction: nextcord.Interaction,
        enabled: str | None = nextcord.SlashOption(
            name="enabled",
            description=N_("Turn queue notifications on or off"),
            choices={N_("on"): "on", N_("off"): "off"},
            required=False,
        ),
        races: str | None = nextcord.SlashOption(
            description=N_("Races to hear about, comma-separated (or all)"),
            required=False,
            max_length=200,
        ),
        regions: str | None = nextcord.SlashOption(
            description=N_("Regions to hear about, comma-separated codes (or all)"),
            required=False,
            max_length=200,
        ),
        quiet_hours: str | None = nextcord.SlashOption(
            description=N_("No notifications in this range, e.g. 23:00-07:00 (or off)"),
            required=False,
            max_length=32,
        ),
        time_zone: str | None = nextcord.SlashOption(
            description=N_("Your time zone, for quiet hours (e.g. Europe/Berlin)"),
            required=False,
            autocomplete=True,
            max_length=64,
        ),
    ) -> None:
        """Show or change your queue notifications."""
        service = self.bot.notifications
        if service is None:
            await interaction.response.send_message(
                content=_("Queue notifications are not available on this ladder."),
                ephemeral=True,
            )
            return
        uid = user_of(interaction).id
        if any(v is not None for v in (enabled, races, regions, quiet_hours, time_zone)):
            await service.update(
                uid,
                enabled=None if enabled is None else enabled == "on",
                races=races,
                regions=regions,
                quiet_hours=quiet_hours,
                time_zone=time_zone,
            )
        settings, last = await service.settings_of(uid)
        last_text = _("none yet") if last is None else nextcord.utils.format_dt(last, "R")
        embed = settings_embed(
            settings, last_text, service.config.notifications.interval_minutes, self.bot.race_names
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @notify.on_autocomplete("time_zone")
    @guarded(Access.SETUP)
    async def _time_zones(self, interaction: nextcord.Interaction, time_zone: str) -> None:
        await interaction.response.send_autocomplete(matching_zones(time_zone or ""))
