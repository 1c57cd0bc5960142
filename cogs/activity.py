"""/activity: the best hours to queue, in the player's time zone, from the same counts as the
website's heatmap (services.public.PublicLadder.activity), with a link to it when
WEB_BASE_URL is set."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import nextcord
from nextcord.ext import commands

from cogs.client import user_of
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR
from ladder.activity import best_hours
from ladder.guards import Access
from ladder.notifications import matching_zones, zone

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot


def activity_link(base_url: str | None, time_zone: str) -> str | None:
    """The website's heatmap in this time zone."""
    return f"{base_url}/activity?{urlencode({'tz': time_zone})}" if base_url else None


ACTIVITY_WEEKS = 4  # /activity counts the last four weeks: when people play now

class ActivityCog(commands.Cog):
    """Receives /activity; the website's activity service does the counting."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot

    @nextcord.slash_command(
        name="activity", description="When people play: the best hours to queue"
    )
    @guarded(Access.ANYONE)
    async def activity(
        self,
        interaction: nextcord.Interaction,
        time_zone: str | None = nextcord.SlashOption(
            description="Your time zone (default: the one from /notify, else UTC)",
            required=False,
            autocomplete=True,
            max_length=64,
        ),
    ) -> None:
        """The busiest weekday hours (matches made, queue joins), in your time zone."""
        public = self.bot.public
        if public is None:
            await interaction.response.send_message(
                content="Activity is not available on this ladder.", ephemeral=True
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
            lines = [f"Best hours to queue ({counts.zone}, last {ACTIVITY_WEEKS} weeks):"]
            lines += [f"• {h}: {h.matches} matches, {h.joins} queue joins" for h in best]
        else:
            lines = [
                "No matches or queue joins in the last four weeks: be the first! "
                "Use /queue to play."
            ]
        link = activity_link(self.bot.web_base_url, counts.zone)
        if link:
            lines.append(f"The whole week as a heatmap: {link}")
        embed = nextcord.Embed(title="Activity", description="\n".join(lines), colour=INFO_COLOUR)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @activity.on_autocomplete("time_zone")
    @guarded(Access.ANYONE)
    async def _time_zones(self, interaction: nextcord.Interaction, time_zone: str) -> None:
        await interaction.response.send_autocomplete(matching_zones(time_zone or ""))
