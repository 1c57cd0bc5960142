"""/admin: rulings, MMR adjustments, bans, the queue, aborts, look-ups, disputes, status.

Every subcommand is `Access.ADMIN`, checked on the server side by the pipeline. Actions that
change a result, a rating, a ban or the queue ask for confirmation with buttons only the asking
admin can press. A confirmation acts at most once, and carries the state it asked about (the
match's status and result, the MMR): if another admin changed it meanwhile, LadderService refuses
inside its transaction. LadderService writes each action to `admin_actions` with its reason.

The disputes listing is paged; its Previous/Next buttons are routed by custom_id
("disputes:page:2") and read SQLite afresh on each click, so they work after a restart.
Everything players typed is shown through `cogs.text`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import nextcord
from nextcord.ext import commands

from app.status import collect_status, render_lines
from cogs.admin_ui import PAGE_ROUTE, DisputesPage, disputes_page, parse_page, players_of
from cogs.match_ui import match_embed
from cogs.pipeline import guarded
from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR, describe_error
from cogs.text import plain
from cogs.views import LadderView
from ladder.errors import GuardRefusal
from ladder.guards import REFUSALS, Access
from ladder.records import MatchRecord, PlayerLookup

log = logging.getLogger(__name__)

RULINGS = {
    "Player 1 wins": "p1_win",
    "Player 2 wins": "p2_win",
    "Draw": "draw",
    "Invalidate (no result)": "invalidate",
}
MMR_MODES = {"Set to": "set", "Add": "add", "Subtract": "subtract"}
REASON = nextcord.SlashOption(description="Why (kept in the admin log)", max_length=500)
ALREADY_ANSWERED = "This question was already answered; nothing more was done."


def _reply(text: str, title: str | None = None, colour=SUCCESS_COLOUR) -> nextcord.Embed:
    return nextcord.Embed(title=title, description=text[:4096], colour=colour)


class ConfirmView(LadderView):
    """Confirm / Cancel for one admin action; only the admin who asked can press them.

    The first press wins: nextcord runs each click as its own task, so two Confirm clicks that
    arrive together both reach their callbacks before `stop()` can take effect. `_answer` is a
    check-and-set with no await in between, done before anything else.
    """

    def __init__(self, owner_id: int, action: Callable[[], Awaitable[nextcord.Embed]]) -> None:
        super().__init__(owner_id, timeout=120)
        self._action = action
        self.answered = False

    def _answer(self) -> bool:
        """Return True for the first press only (Confirm or Cancel); stop the view."""
        if self.answered:
            return False
        self.answered = True
        self.stop()
        return True

    @nextcord.ui.button(label="Confirm", style=nextcord.ButtonStyle.red, custom_id="admin:confirm")
    async def confirm(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        if not self._answer():
            await _already_answered(interaction)
            return
        await interaction.response.defer()
        try:
            embed = await self._action()
        except Exception as error:  # shown in place of the question, whose buttons are dead now
            embed = describe_error(error, where="admin confirm")
        await interaction.edit_original_message(embed=embed, view=None)

    @nextcord.ui.button(label="Cancel", style=nextcord.ButtonStyle.grey, custom_id="admin:cancel")
    async def cancel(self, _: nextcord.ui.Button, interaction: nextcord.Interaction) -> None:
        if not self._answer():
            await _already_answered(interaction)
            return
        await interaction.response.edit_message(
            embed=_reply("Cancelled; nothing changed."), view=None
        )


class AdminCog(commands.Cog):
    """Receives /admin subcommands; LadderService applies and records them."""

    def __init__(self, bot) -> None:
        self.bot = bot
        bot.router.register(PAGE_ROUTE, self._on_disputes_page)

    async def _ask(self, interaction: nextcord.Interaction, question: str, action) -> None:
        view = ConfirmView(interaction.user.id, action)
        view.interaction = interaction
        await interaction.response.send_message(
            embed=_reply(question, "Please confirm", INFO_COLOUR), view=view, ephemeral=True
        )

    async def _say(self, interaction: nextcord.Interaction, embed: nextcord.Embed) -> None:
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(name="admin", description="Ladder admin tools")
    async def admin(self, interaction: nextcord.Interaction) -> None:
        """The group; nextcord never calls it directly."""

    @admin.subcommand(name="resolve", description="Rule on a match (also corrects a finished one)")
    @guarded(Access.ADMIN)
    async def resolve(
        self,
        interaction: nextcord.Interaction,
        match_id: int = nextcord.SlashOption(description="Match number", min_value=1),
        ruling: str = nextcord.SlashOption(description="The result", choices=RULINGS),
        reason: str = REASON,
    ) -> None:
        match = await self.bot.ladder.get_match(match_id)  # the state the admin confirms
        admin = interaction.user.id

        async def rule() -> nextcord.Embed:
            update = await self.bot.ladder.resolve_match(
                admin, match_id, ruling, reason, expected=match
            )
            await self.bot.notifier.match_changed(update)
            changed = "\n".join(
                f"<@{c.key[0]}> {c.key[1]}: {c.old} → {c.new}" for c in update.rating_changes
            )
            return _reply(f"Match #{match_id}: {ruling}.\nRatings changed:\n{changed or 'none'}")

        await self._ask(
            interaction, f"Rule **{ruling}** on match #{match.id} ({_match_state(match)})?", rule
        )

    @admin.subcommand(name="mmr", description="Set, add to or subtract from a player's MMR")
    @guarded(Access.ADMIN)
    async def mmr(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
        race: str = nextcord.SlashOption(description="Race code, e.g. sc2_zerg", max_length=32),
        mode: str = nextcord.SlashOption(description="How", choices=MMR_MODES),
        amount: int = nextcord.SlashOption(description="MMR", min_value=0, max_value=10_000),
        reason: str = REASON,
    ) -> None:
        self.bot.ladder_config.race(race)  # unknown race: a clear NotFoundError now
        admin = interaction.user.id
        ratings = await self.bot.ladder.player_ratings(player.id)
        shown = next((r.mmr for r in ratings if r.race == race), None)  # what Confirm expects

        async def adjust() -> nextcord.Embed:
            change = await self.bot.ladder.adjust_mmr(
                admin, player.id, race, mode, amount, reason, expected=shown
            )
            return _reply(f"{player.mention} {race}: {change.old} → {change.new}.")

        now = f"now {shown}" if shown is not None else "no rating yet"
        await self._ask(
            interaction, f"{mode} {amount} MMR for {player.mention} ({race}, {now})?", adjust
        )

    @admin.subcommand(name="ban", description="Ban a player from the ladder")
    @guarded(Access.ADMIN)
    async def ban(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
        reason: str = REASON,
    ) -> None:
        admin = interaction.user.id

        async def ban() -> nextcord.Embed:
            # Banning is idempotent: a ban confirmed after another admin's changes nothing.
            if await self.bot.ladder.ban(admin, player.id, reason):
                return _reply(f"{player.mention} is banned.")
            return _reply(f"{player.mention} was already banned; nothing changed.")

        await self._ask(interaction, f"Ban {player.mention}?", ban)

    @admin.subcommand(name="unban", description="Lift a player's ban")
    @guarded(Access.ADMIN)
    async def unban(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
        reason: str = REASON,
    ) -> None:
        await self.bot.ladder.unban(interaction.user.id, player.id, reason)
        await self._say(interaction, _reply(f"{player.mention} is no longer banned."))

    @admin.subcommand(name="dequeue", description="Remove a player from the queue")
    @guarded(Access.ADMIN)
    async def dequeue(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
        reason: str = REASON,
    ) -> None:
        removed = await self.bot.ladder.remove_from_queue(interaction.user.id, player.id, reason)
        text = "removed from the queue" if removed else "was not in the queue"
        await self._say(interaction, _reply(f"{player.mention} {text}."))

    @admin.subcommand(name="clearqueue", description="Remove everyone from the queue")
    @guarded(Access.ADMIN)
    async def clearqueue(self, interaction: nextcord.Interaction, reason: str = REASON) -> None:
        admin = interaction.user.id

        async def clear() -> nextcord.Embed:
            count = await self.bot.ladder.clear_queue(admin, reason)
            return _reply(f"Removed {count} player(s) from the queue.")

        await self._ask(interaction, "Remove **everyone** from the queue?", clear)

    @admin.subcommand(name="resetaborts", description="Give a player back this month's aborts")
    @guarded(Access.ADMIN)
    async def resetaborts(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
        reason: str = REASON,
    ) -> None:
        await self.bot.ladder.reset_aborts(interaction.user.id, player.id, reason)
        await self._say(interaction, _reply(f"{player.mention}'s aborts are reset."))

    @admin.subcommand(name="player", description="Look up a player")
    @guarded(Access.ADMIN)
    async def player(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = nextcord.SlashOption(description="The player"),
    ) -> None:
        found = await self.bot.ladder.lookup_player(player.id)
        await self._say(interaction, _lookup_embed(found))

    @admin.subcommand(name="match", description="Look up a match")
    @guarded(Access.ADMIN)
    async def match(
        self,
        interaction: nextcord.Interaction,
        match_id: int = nextcord.SlashOption(description="Match number", min_value=1),
    ) -> None:
        match = await self.bot.ladder.get_match(match_id)
        names = await self.bot.notifier.names(match.player1_uid, match.player2_uid)
        embed = match_embed(match, interaction.user.id, names, self.bot.ladder_config)
        embed.add_field(name="Reports", value=f"{match.player1_report} / {match.player2_report}")
        embed.add_field(name="Decided by", value=str(match.decided_by or "—"))
        await self._say(interaction, embed)

    @admin.subcommand(name="status", description="Uptime, latency, command log, cache, database")
    @guarded(Access.ADMIN)
    async def status(self, interaction: nextcord.Interaction) -> None:
        bot = self.bot
        report = await collect_status(
            bot.command_log, bot.players.cache, bot.db.path, bot.started_at, bot.latency
        )
        embed = nextcord.Embed(title="ladderbot status", colour=INFO_COLOUR)
        for name, value in render_lines(report):
            embed.add_field(name=name, value=value)
        await self._say(interaction, embed)

    @admin.subcommand(name="disputes", description="List the open disputes")
    @guarded(Access.ADMIN)
    async def disputes(self, interaction: nextcord.Interaction) -> None:
        shown = await self._disputes_page(1)
        await interaction.response.send_message(
            embed=shown.embed, ephemeral=True, **({"view": shown.view} if shown.view else {})
        )

    async def _on_disputes_page(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """Previous / Next on the disputes listing: admins only, from SQLite as it is now."""
        if not interaction.client.pipeline.is_admin(interaction.user.id):
            raise GuardRefusal("admin", REFUSALS["admin"])
        shown = await self._disputes_page(parse_page(parts))
        await interaction.response.edit_message(embed=shown.embed, view=shown.view)

    async def _disputes_page(self, page: int) -> DisputesPage:
        disputes = await self.bot.ladder.open_disputes()
        names = await self.bot.notifier.names(*players_of(disputes))
        return disputes_page(disputes, names, page)


def _match_state(match: MatchRecord) -> str:
    """The match's state as the confirmation question shows it: "finished, p1_win"."""
    return f"{match.status}, {match.result}" if match.result is not None else str(match.status)


async def _already_answered(interaction: nextcord.Interaction) -> None:
    await interaction.response.send_message(
        embed=_reply(ALREADY_ANSWERED, colour=INFO_COLOUR), ephemeral=True
    )


def _lookup_embed(found: PlayerLookup) -> nextcord.Embed:
    """What /admin player shows: the record, ratings, queue, match, aborts, admin history."""
    player = found.player
    name = plain(player.display_name, 100) or str(player.discord_uid)
    embed = nextcord.Embed(title=f"Player {name}", colour=INFO_COLOUR)
    embed.description = (
        f"<@{player.discord_uid}> · battletag {plain(player.battletag, 100) or '—'} · "
        f"{'**banned**' if player.banned else 'not banned'} · "
        f"terms {'accepted' if player.accepted_tos else 'not accepted'} · "
        f"setup {'done' if player.completed_setup else 'not done'}"
    )
    ratings = "\n".join(f"{r.race}: {r.mmr} ({r.wins}-{r.losses}-{r.draws})" for r in found.ratings)
    embed.add_field(name="Ratings", value=ratings or "none")
    embed.add_field(name="Queue", value="queued" if found.queue else "not queued")
    match = found.open_match
    embed.add_field(name="Open match", value=f"#{match.id} ({match.status})" if match else "none")
    embed.add_field(name="Aborts left", value=str(found.aborts_left))
    history = "\n".join(
        f"{a.created_at:%Y-%m-%d} {a.action} by <@{a.admin_uid}>: {plain(a.reason, 150)}"
        for a in found.recent_actions[:5]
    )
    embed.add_field(name="Admin actions", value=history or "none", inline=False)
    return embed
