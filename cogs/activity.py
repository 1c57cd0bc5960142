"""/activity: the best hours to queue, in the player's time zone, from the same counts as the
website's heatmap (services.public.PublicLadder.activity), with a link to it when
WEB_BASE_URL is set. Weekdays and counts are in the player's language (i18n); hours are 24-hour
digits, the time zone its IANA name."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from i18n import N_, _, n_
from ladder.activity import BusyHour, best_hours
from ladder.guards import Access
from ladder.notifications import matching_zones, zone

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot


def activity_link(base_url: str | None, time_zone: str) -> str | None:
    """The website's heatmap in this time zone."""
    return f"{base_url}/activity?{urlencode({'tz': time_zone})}" if base_url else None


ACTIVITY_WEEKS = 4  # /activity counts the last four weeks: when people play now


def hour_line(h: BusyHour) -> str:
    """One of the best hours: its weekday and hour (`BusyHour` writes the weekday in the
    current language) and its counts."""
    # Translators: one of the best hours to queue, e.g. "• Monday 20:00-21:00: 3 matches,
    # 5 queue joins".
    return _(
        "• {hour}: {matches}, {joins}",
        hour=str(h),
        matches=n_("{count} match", "{count} matches", h.matches),
        joins=n_("{count} queue join", "{count} queue joins", h.joins),
    )


class ActivityCog(commands.Cog):
    """Receives /activity; the website's activity service does the counting."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot

    @nextcord.slash_command(
        name="activity", description=N_("When people play: the best hours to queue")
    )
    @guarded(Access.ANYONE)
    async def activity(
        self,
        interaction: nextcord.Interaction,
        time_zone: str | None = nextcord.SlashOption(
            description=N_("Your time zone (default: the one from /notify, else UTC)"),
            required=False,
            autocomplete=True,
            max_length=64,
        ),
    ) -> None:
        """The busiest weekday hours (matches made, queue joins), in your time zone."""
        public = self.bot.public
        if public is None:
            await interaction.response.send_message(
                content=_("Activity is not available on this ladder."), ephemeral=True
            )
            return
        if time_zone is not None:
            tz = zone(time_zone).key  # a clear message if it is not a time zone
        elif self.bot.notifications is not None:
            tz = (await self.bot.notifications.settings_of(user_of(interaction).id))[0].time_zone
        else:
            tz = "UTC"
        counts = await public.activity(tz, weeks=ACTIVITY_WEEKS)
        best = best_hours(counts.matches, counts.queue_joins)
        if best:
            lines = [
                # Translators: {zone} is a time zone's name, e.g. Europe/Paris.
                n_(
                    "Best hours to queue ({zone}, last {count} week):",
                    "Best hours to queue ({zone}, last {count} weeks):",
                    ACTIVITY_WEEKS,
                    zone=counts.zone,
                )
            ]
            lines += [hour_line(h) for h in best]
        else:
            lines = [
                n_(
                    "No matches or queue joins in the last {count} week: be the first! "
                    "Use /queue to play.",
                    "No matches or queue joins in the last {count} weeks: be the first! "
                    "Use /queue to play.",
                    ACTIVITY_WEEKS,
                )
            ]
        link = activity_link(self.bot.web_base_url, counts.zone)
        if link:
            lines.append(_("The whole week as a heatmap: {link}", link=link))
        embed = nextcord.Embed(
            title=_("Activity"), description="\n".join(lines), colour=INFO_COLOUR
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @activity.on_autocomplete("time_zone")
    @guarded(Access.ANYONE)
    async def _time_zones(self, interaction: nextcord.Interaction, time_zone: str) -> None:
        await interaction.response.send_autocomplete(matching_zones(time_zone or ""))
