"""/admin: rulings, MMR adjustments, bans, the queue, aborts, look-ups, disputes, status.

Every subcommand is `Access.ADMIN`, checked on the server side by the pipeline. Actions that
change a result, a rating, a ban or the queue ask for confirmation with buttons only the asking
admin can press. The question is stored (`admin_confirmations`, through AdminConfirmations) with
the action, its options and the state it asked about (the match's status and result, the MMR);
its buttons are routed by custom_id ("admin:confirm:<id>", "admin:cancel:<id>"), so they answer
correctly after a restart, for two minutes. A confirmation acts at most once (a conditional
UPDATE), and if another admin changed the state meanwhile, AdminService refuses inside its
transaction. AdminService writes each action to `admin_actions` with its reason.

The disputes listing is paged; its Previous/Next buttons are routed by custom_id
("disputes:page:2") and read SQLite afresh on each click, so they work after a restart.
Everything players typed is shown through `cogs.text`.

Admins read the bot in their own language too: every answer goes through i18n, in the language
the pipeline set for the admin who clicked. Codes an admin types or finds in the admin log
(rulings such as ``p1_win``, race codes, actions such as ``adjust_mmr``) are shown as they are.
`/admin status` is a host's diagnostic dump: its headings are translated, its values are not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import nextcord
from nextcord.ext import commands

from app.status import collect_status, render_lines
from cogs.admin_ui import (
    PAGE_ROUTE,
    DisputesPage,
    disputes_page,
    parse_page,
    players_of,
    report_word,
)
from cogs.client import ladder_bot, user_of
from cogs.components import EXPIRED, custom_id, frozen_view
from cogs.match_ui import match_embed
from cogs.pipeline import NOT_YOURS, guarded
from cogs.responses import INFO_COLOUR, SUCCESS_COLOUR, describe_error
from cogs.seasons import escaped, season_title, started_embed, status_embed
from cogs.text import plain
from i18n import N_, _, n_
from ladder.confirmations import AdminConfirmation
from ladder.errors import GuardRefusal, ValidationError
from ladder.guards import REFUSALS, Access
from ladder.records import MatchRecord, PlayerLookup
from ladder.seasons import valid_season_name
from services.admin import ruled_state

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

# Choice names are shown by Discord (localised there with msgctxt "choice"); the values are
# the codes the services and the admin log use.
RULINGS = {
    N_("Player 1 wins"): "p1_win",
    N_("Player 2 wins"): "p2_win",
    N_("Draw"): "draw",
    N_("Invalidate (no result)"): "invalidate",
}
MMR_MODES = {N_("Set to"): "set", N_("Add"): "add", N_("Subtract"): "subtract"}
# One whole question per mode (a translation cannot build one from the mode's name).
MMR_QUESTIONS = {
    "set": N_("Set the {race} MMR of {player} to {amount}?"),
    "add": N_("Add {amount} MMR to the {race} rating of {player}?"),
    "subtract": N_("Subtract {amount} MMR from the {race} rating of {player}?"),
}
REASON = nextcord.SlashOption(description=N_("Why (kept in the admin log)"), max_length=500)
PLAYER = nextcord.SlashOption(description=N_("The player"))
ALREADY_ANSWERED = N_("This question was already answered; nothing more was done.")
CONFIRM_ROUTE = "admin"  # the ComponentRouter prefix of a question's Confirm and Cancel
_CONFIRMATION_ID = re.compile(r"[1-9][0-9]{0,17}")
WEB_OFF = N_("The website is off (WEB_ENABLED=false): there is no dashboard to log in to.")
WEB_LINK_NOTE = N_(
    "This link logs one browser in to the dashboard for 12 hours. It works once, within 10 "
    "minutes; it is yours only: do not share it."
)
# The field names app.status.render_lines gives /admin status, marked here for translation (a
# heading missing here is shown in English; tests/cogs/test_admin_text.py keeps them in step).
STATUS_HEADINGS = (
    N_("Uptime"),
    N_("Gateway latency"),
    N_("Commands, last hour"),
    N_("Command log"),
    N_("Player cache"),
    N_("Profile cache"),
    N_("Database"),
    N_("Command log: last error"),
)


def _reply(text: str, title: str | None = None, colour=SUCCESS_COLOUR) -> nextcord.Embed:
    return nextcord.Embed(title=title, description=text[:4096], colour=colour)


def confirm_buttons(confirmation_id: int) -> nextcord.ui.View:
    """Confirm / Cancel under a stored question (routed: "admin:confirm:<id>")."""
    return frozen_view(
        nextcord.ui.Button(
            label=_("Confirm"),
            style=nextcord.ButtonStyle.red,
            custom_id=custom_id(CONFIRM_ROUTE, "confirm", confirmation_id),
        ),
        nextcord.ui.Button(
            label=_("Cancel"),
            style=nextcord.ButtonStyle.grey,
            custom_id=custom_id(CONFIRM_ROUTE, "cancel", confirmation_id),
        ),
    )


def _parse_confirmation(parts: Sequence[str]) -> tuple[str, int]:
    """(answer, confirmation id) from a routed custom_id's parts; anything else is expired
    (an older release's "admin:confirm:<view id>", a forged id)."""
    if len(parts) != 2 or parts[0] not in ("confirm", "cancel"):
        raise EXPIRED
    if not _CONFIRMATION_ID.fullmatch(parts[1]):
        raise EXPIRED
    return parts[0], int(parts[1])


class AdminCog(commands.Cog):
    """Receives /admin subcommands; AdminService applies and records them."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        bot.router.register(PAGE_ROUTE, self._on_disputes_page)
        # Anyone's click reaches the handler, which lets only the asking admin answer.
        bot.router.register(CONFIRM_ROUTE, self._on_confirmation)
        # What a confirmed question does, by its stored action name.
        self._confirmed = {
            "resolve": self._rule,
            "mmr": self._adjust,
            "ban": self._ban,
            "clearqueue": self._clear,
            "season_start": self._season_start,
        }

    async def _ask(
        self,
        interaction: nextcord.Interaction,
        question: str,
        action: str,
        arguments: Mapping[str, Any],
        expected: Mapping[str, Any] | None = None,
    ) -> None:
        """Store the question and show it with its Confirm / Cancel buttons."""
        uid = user_of(interaction).id
        asked = await self.bot.confirmations.ask(uid, action, arguments, expected)
        await interaction.response.send_message(
            embed=_reply(question, _("Please confirm"), INFO_COLOUR),
            view=confirm_buttons(asked),
            ephemeral=True,
        )

    async def _on_confirmation(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """Confirm or Cancel on a question: its admin only, once, within its time."""
        answer, confirmation_id = _parse_confirmation(parts)
        confirmations = self.bot.confirmations
        asked = await confirmations.get(confirmation_id)
        if asked is None or asked.action not in self._confirmed:
            raise EXPIRED
        uid = user_of(interaction).id
        if uid != asked.admin_uid:
            raise NOT_YOURS
        if not self.bot.pipeline.is_admin(uid):  # no longer an admin since asking
            raise GuardRefusal("admin", REFUSALS["admin"])
        # The first answer wins, however many clicks arrive together.
        if not asked.used and not confirmations.expired(asked):
            if await confirmations.claim(asked):
                await self._answer(interaction, answer, asked)
                return
            asked = await confirmations.get(confirmation_id) or asked
        if asked.used:
            await _already_answered(interaction)
            return
        raise EXPIRED

    async def _answer(
        self, interaction: nextcord.Interaction, answer: str, asked: AdminConfirmation
    ) -> None:
        if answer == "cancel":
            await interaction.response.edit_message(
                embed=_reply(_("Cancelled; nothing changed.")), view=None
            )
            return
        await interaction.response.defer()
        try:
            embed = await self._confirmed[asked.action](asked)
        except Exception as error:  # shown in place of the question, whose buttons are dead now
            embed = describe_error(error, where="admin confirm")
        await interaction.edit_original_message(embed=embed, view=None)

    async def _say(self, interaction: nextcord.Interaction, embed: nextcord.Embed) -> None:
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @nextcord.slash_command(name="admin", description=N_("Ladder admin tools"))
    async def admin(self, interaction: nextcord.Interaction) -> None:
        """The group; nextcord never calls it directly."""

    @admin.subcommand(
        name="resolve", description=N_("Rule on a match (also corrects a finished one)")
    )
    @guarded(Access.ADMIN)
    async def resolve(
        self,
        interaction: nextcord.Interaction,
        match_id: int = nextcord.SlashOption(description=N_("Match number"), min_value=1),
        ruling: str = nextcord.SlashOption(description=N_("The result"), choices=RULINGS),
        reason: str = REASON,
    ) -> None:
        match = await self.bot.matches.get_match(match_id)  # the state the admin confirms
        await self._ask(
            interaction,
            # Translators: {ruling} (p1_win, ...) and {state} (disputed, finished, ...) are codes.
            _(
                "Rule **{ruling}** on match #{match} ({state})?",
                ruling=ruling,
                match=match.id,
                state=_match_state(match),
            ),
            "resolve",
            {"match_id": match_id, "ruling": ruling, "reason": reason},
            ruled_state(match),
        )

    async def _rule(self, asked: AdminConfirmation) -> nextcord.Embed:
        match_id, ruling = asked.arguments["match_id"], asked.arguments["ruling"]
        update = await self.bot.admin.resolve_match(
            asked.admin_uid, match_id, ruling, asked.arguments["reason"], expected=asked.expected
        )
        await self.bot.notifier.match_changed(update)
        changed = "\n".join(
            f"<@{c.key[0]}> {c.key[1]}: {c.old} → {c.new}" for c in update.rating_changes
        )
        return _reply(
            # Translators: {ruling} is a code (p1_win, ...); {changes} one line per rating.
            _(
                "Match #{match}: {ruling}.\nRatings changed:\n{changes}",
                match=match_id,
                ruling=ruling,
                changes=changed or _("none"),
            )
        )

    @admin.subcommand(name="mmr", description=N_("Set, add to or subtract from a player's MMR"))
    @guarded(Access.ADMIN)
    async def mmr(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
        race: str = nextcord.SlashOption(description=N_("Race code, e.g. sc2_zerg"), max_length=32),
        mode: str = nextcord.SlashOption(description=N_("How"), choices=MMR_MODES),
        amount: int = nextcord.SlashOption(description=N_("MMR"), min_value=0, max_value=10_000),
        reason: str = REASON,
    ) -> None:
        self.bot.ladder_config.race(race)  # unknown race: a clear NotFoundError now
        if mode not in MMR_QUESTIONS:
            raise ValidationError("mode", N_("Please pick one of the modes offered."))
        ratings = await self.bot.admin.player_ratings(player.id)
        shown = next((r.mmr for r in ratings if r.race == race), None)  # what Confirm expects
        now = (
            _("It is now {mmr}.", mmr=shown) if shown is not None else _("There is no rating yet.")
        )
        await self._ask(
            interaction,
            _(MMR_QUESTIONS[mode], race=race, player=player.mention, amount=amount) + " " + now,
            "mmr",
            {"uid": player.id, "race": race, "mode": mode, "amount": amount, "reason": reason},
            {"mmr": shown},
        )

    async def _adjust(self, asked: AdminConfirmation) -> nextcord.Embed:
        a = asked.arguments
        change = await self.bot.admin.adjust_mmr(
            asked.admin_uid,
            a["uid"],
            a["race"],
            a["mode"],
            a["amount"],
            a["reason"],
            expected=asked.expected["mmr"],
        )
        return _reply(f"<@{a['uid']}> {a['race']}: {change.old} → {change.new}.")

    @admin.subcommand(name="ban", description=N_("Ban a player from the ladder"))
    @guarded(Access.ADMIN)
    async def ban(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
        reason: str = REASON,
    ) -> None:
        await self._ask(
            interaction,
            _("Ban {player}?", player=player.mention),
            "ban",
            {"uid": player.id, "reason": reason},
        )

    async def _ban(self, asked: AdminConfirmation) -> nextcord.Embed:
        uid = asked.arguments["uid"]
        # Banning is idempotent: a ban confirmed after another admin's changes nothing.
        if await self.bot.admin.ban(asked.admin_uid, uid, asked.arguments["reason"]):
            return _reply(_("{player} is banned.", player=f"<@{uid}>"))
        return _reply(_("{player} was already banned; nothing changed.", player=f"<@{uid}>"))

    @admin.subcommand(name="unban", description=N_("Lift a player's ban"))
    @guarded(Access.ADMIN)
    async def unban(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
        reason: str = REASON,
    ) -> None:
        await self.bot.admin.unban(user_of(interaction).id, player.id, reason)
        text = _("{player} is no longer banned.", player=player.mention)
        await self._say(interaction, _reply(text))

    @admin.subcommand(name="dequeue", description=N_("Remove a player from the queue"))
    @guarded(Access.ADMIN)
    async def dequeue(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
        reason: str = REASON,
    ) -> None:
        removed = await self.bot.admin.remove_from_queue(user_of(interaction).id, player.id, reason)
        if removed:
            text = _("{player} was removed from the queue.", player=player.mention)
        else:
            text = _("{player} was not in the queue.", player=player.mention)
        await self._say(interaction, _reply(text))

    @admin.subcommand(name="clearqueue", description=N_("Remove everyone from the queue"))
    @guarded(Access.ADMIN)
    async def clearqueue(self, interaction: nextcord.Interaction, reason: str = REASON) -> None:
        await self._ask(
            interaction,
            _("Remove **everyone** from the queue?"),
            "clearqueue",
            {"reason": reason},
        )

    async def _clear(self, asked: AdminConfirmation) -> nextcord.Embed:
        count = await self.bot.admin.clear_queue(asked.admin_uid, asked.arguments["reason"])
        return _reply(
            n_(
                "Removed {count} player from the queue.",
                "Removed {count} players from the queue.",
                count,
            )
        )

    @admin.subcommand(name="season", description=N_("Seasons: start the next one, or see this one"))
    async def season(self, interaction: nextcord.Interaction) -> None:
        """The group; nextcord never calls it directly."""

    @season.subcommand(
        name="start", description=N_("End this season (archived) and start the next")
    )
    @guarded(Access.ADMIN)
    async def season_start(
        self,
        interaction: nextcord.Interaction,
        name: str = nextcord.SlashOption(description=N_("The new season's name"), max_length=50),
    ) -> None:
        """End the current season: archive its final standings, soft-reset the ratings."""
        name = valid_season_name(name)  # a bad name is refused before anything is asked
        assert self.bot.seasons is not None
        current = await self.bot.seasons.current()
        await self._ask(
            interaction,
            _(
                "End **{season}** and start season {number}, **{name}**? Final standings are "
                "archived and every rating gets the configured soft reset (`{soft_reset}`).",
                season=season_title(current),
                number=current.number + 1,
                name=escaped(name, 50),
                soft_reset=self.bot.ladder_config.season.soft_reset,
            ),
            "season_start",
            {"name": name, "expected": current.number},
        )

    async def _season_start(self, asked: AdminConfirmation) -> nextcord.Embed:
        seasons = self.bot.seasons
        assert seasons is not None
        if (await seasons.current()).number != asked.arguments["expected"]:
            return _reply(_("Another admin started a new season meanwhile; nothing changed."))
        return started_embed(await seasons.start(asked.admin_uid, asked.arguments["name"]))

    @season.subcommand(name="status", description=N_("The current season and the past ones"))
    @guarded(Access.ADMIN)
    async def season_status(self, interaction: nextcord.Interaction) -> None:
        """The current season: when it began, its matches, its map pool; the past seasons."""
        assert self.bot.seasons is not None
        await self._say(interaction, status_embed(await self.bot.seasons.status()))

    @admin.subcommand(name="resetaborts", description=N_("Give a player back this month's aborts"))
    @guarded(Access.ADMIN)
    async def resetaborts(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
        reason: str = REASON,
    ) -> None:
        await self.bot.admin.reset_aborts(user_of(interaction).id, player.id, reason)
        text = _("{player}'s aborts are reset.", player=player.mention)
        await self._say(interaction, _reply(text))

    @admin.subcommand(name="player", description=N_("Look up a player"))
    @guarded(Access.ADMIN)
    async def player(
        self,
        interaction: nextcord.Interaction,
        player: nextcord.User = PLAYER,
    ) -> None:
        found = await self.bot.admin.lookup_player(player.id)
        await self._say(interaction, _lookup_embed(found))

    @admin.subcommand(name="match", description=N_("Look up a match"))
    @guarded(Access.ADMIN)
    async def match(
        self,
        interaction: nextcord.Interaction,
        match_id: int = nextcord.SlashOption(description=N_("Match number"), min_value=1),
    ) -> None:
        match = await self.bot.matches.get_match(match_id)
        names = await self.bot.notifier.names(match.player1_uid, match.player2_uid)
        embed = match_embed(
            match, user_of(interaction).id, names, self.bot.ladder_config, self.bot.web_base_url
        )
        reports = f"{report_word(match.player1_report)} / {report_word(match.player2_report)}"
        embed.add_field(name=_("Reports"), value=reports)
        embed.add_field(name=_("Decided by"), value=str(match.decided_by or "—"))
        await self._say(interaction, embed)

    @admin.subcommand(
        name="status", description=N_("Uptime, latency, command log, cache, database")
    )
    @guarded(Access.ADMIN)
    async def status(self, interaction: nextcord.Interaction) -> None:
        bot = self.bot
        report = await collect_status(
            bot.command_log,
            bot.players.cache,
            bot.db.path,
            bot.started_at,
            bot.latency,
            profile_cache=bot.leaderboard.profile_cache,
        )
        # Numbers and internal names for the host stay English; only the headings are translated.
        embed = nextcord.Embed(title=_("ladderbot status"), colour=INFO_COLOUR)
        for name, value in render_lines(report):
            embed.add_field(name=_(name), value=value)
        await self._say(interaction, embed)

    @admin.subcommand(
        name="web", description=N_("A one-time link that logs you in to the dashboard")
    )
    @guarded(Access.ADMIN)
    async def web(self, interaction: nextcord.Interaction) -> None:
        """A link for you only that logs one browser in to the web dashboard."""
        logins, address = self.bot.web_login, self.bot.web_address
        if logins is None or address is None:
            await self._say(interaction, _reply(_(WEB_OFF), colour=INFO_COLOUR))
            return
        link = f"{address}/login/{await logins.issue(user_of(interaction).id)}"
        text = f"[{_('Open the dashboard')}]({link})\n{_(WEB_LINK_NOTE)}\n{link}"
        await self._say(interaction, _reply(text, _("Dashboard login")))

    @admin.subcommand(name="disputes", description=N_("List the open disputes"))
    @guarded(Access.ADMIN)
    async def disputes(self, interaction: nextcord.Interaction) -> None:
        shown = await self._disputes_page(1)
        if shown.view is None:  # one page: no buttons
            await interaction.response.send_message(embed=shown.embed, ephemeral=True)
        else:
            await interaction.response.send_message(
                embed=shown.embed, view=shown.view, ephemeral=True
            )

    async def _on_disputes_page(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        """Previous / Next on the disputes listing: admins only, from SQLite as it is now."""
        if not ladder_bot(interaction).pipeline.is_admin(user_of(interaction).id):
            raise GuardRefusal("admin", REFUSALS["admin"])
        shown = await self._disputes_page(parse_page(parts))
        await interaction.response.edit_message(embed=shown.embed, view=shown.view)

    async def _disputes_page(self, page: int) -> DisputesPage:
        disputes = await self.bot.admin.open_disputes()
        names = await self.bot.notifier.names(*players_of(disputes))
        replays = self.bot.replays
        shown = {d.match_id: await replays.of_match(d.match_id) for d in disputes if replays}
        return disputes_page(disputes, names, page, shown)


def _match_state(match: MatchRecord) -> str:
    """The match's state as the confirmation question shows it: "finished, p1_win"."""
    return f"{match.status}, {match.result}" if match.result is not None else str(match.status)


async def _already_answered(interaction: nextcord.Interaction) -> None:
    await interaction.response.send_message(
        embed=_reply(_(ALREADY_ANSWERED), colour=INFO_COLOUR), ephemeral=True
    )


def _lookup_embed(found: PlayerLookup) -> nextcord.Embed:
    """What /admin player shows: the record, ratings, queue, match, aborts, admin history."""
    player = found.player
    name = plain(player.display_name, 100) or str(player.discord_uid)
    embed = nextcord.Embed(title=_("Player {name}", name=name), colour=INFO_COLOUR)
    embed.description = " · ".join(
        (
            f"<@{player.discord_uid}>",
            _("battletag {battletag}", battletag=plain(player.battletag, 100) or "—"),
            _("**banned**") if player.banned else _("not banned"),
            _("terms accepted") if player.accepted_tos else _("terms not accepted"),
            _("setup done") if player.completed_setup else _("setup not done"),
        )
    )
    ratings = "\n".join(f"{r.race}: {r.mmr} ({r.wins}-{r.losses}-{r.draws})" for r in found.ratings)
    embed.add_field(name=_("Ratings"), value=ratings or _("none"))
    embed.add_field(name=_("Queue"), value=_("queued") if found.queue else _("not queued"))
    match = found.open_match
    embed.add_field(
        name=_("Open match"), value=f"#{match.id} ({match.status})" if match else _("none")
    )
    embed.add_field(name=_("Aborts left"), value=str(found.aborts_left))
    history = "\n".join(
        # Translators: {action} is a code (ban, adjust_mmr, ...); {reason} as the admin typed it.
        _(
            "{date} {action} by {admin}: {reason}",
            date=f"{a.created_at:%Y-%m-%d}",
            action=a.action,
            admin=f"<@{a.admin_uid}>",
            reason=plain(a.reason, 150),
        )
        for a in found.recent_actions[:5]
    )
    embed.add_field(name=_("Admin actions"), value=history or _("none"), inline=False)
    return embed
