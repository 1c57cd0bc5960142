"""Match buttons (confirm, abort, report, evidence) and the messages that tell players and
admins what happened to a match."""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Iterable

import nextcord
from nextcord.ext import commands

from cogs.components import custom_id
from cogs.match_ui import match_buttons, match_embed
from cogs.responses import ERROR_COLOUR, INFO_COLOUR
from cogs.views import LadderModal
from ladder.errors import ValidationError
from ladder.reports import Disputed
from services.views import MatchUpdate, MatchView

log = logging.getLogger(__name__)

OUTCOMES = ("win", "loss", "draw")


class MatchCog(commands.Cog):
    """Receives the routed match buttons; LadderService applies the rules, Notifier tells."""

    def __init__(self, bot) -> None:
        self.bot = bot
        bot.router.register("match", self._on_match_button)

    async def _on_match_button(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        match_id, action, *rest = _parse(parts)
        uid = interaction.user.id
        ladder = self.bot.ladder
        if action == "evidence":
            await interaction.response.send_modal(EvidenceModal(match_id))
            return
        if action == "evidence_submit":
            note, url = _modal_values(interaction)
            await ladder.add_evidence(match_id, uid, note or None, url or None)
            await interaction.response.send_message(
                embed=nextcord.Embed(
                    description="Evidence added for the admins.", colour=INFO_COLOUR
                ),
                ephemeral=True,
            )
            return
        async with self.bot.notifier.lock(match_id):
            if action == "confirm":
                update = await ladder.confirm(match_id, uid)
            elif action == "abort":
                update = await ladder.abort(match_id, uid)
            elif action == "report" and rest and rest[0] in OUTCOMES:
                update = await ladder.report(match_id, uid, rest[0])
            else:
                raise ValidationError("custom_id", "This button is not recognised any more.")
            fresh = await ladder.get_match(match_id)
            await interaction.response.edit_message(**await self.bot.notifier.render(fresh, uid))
        await self.bot.notifier.match_changed(update, skip=uid)


class EvidenceModal(LadderModal):
    """A note and a link for a disputed match."""

    def __init__(self, match_id: int) -> None:
        super().__init__(
            title=f"Evidence for match #{match_id}",
            custom_id=custom_id("match", match_id, "evidence_submit"),
            auto_defer=False,
        )
        self.add_item(
            nextcord.ui.TextInput(
                label="What happened",
                custom_id="evidence:note",
                style=nextcord.TextInputStyle.paragraph,
                required=False,
                max_length=1000,
            )
        )
        self.add_item(
            nextcord.ui.TextInput(
                label="Replay or screenshot link (https://...)",
                custom_id="evidence:url",
                required=False,
                max_length=500,
            )
        )


def _parse(parts: list[str]) -> list:
    # ASCII digits only, and small enough for SQLite ("²".isdigit() is true; int() refuses it).
    if len(parts) < 2 or not re.fullmatch(r"[0-9]{1,18}", parts[0]):
        raise ValidationError("custom_id", "This button is not recognised any more.")
    return [int(parts[0]), *parts[1:]]


def _modal_values(interaction: nextcord.Interaction) -> tuple[str, str]:
    values: dict[str, str] = {}
    for row in (interaction.data or {}).get("components", []):
        for component in row.get("components", []):
            values[component.get("custom_id", "")] = component.get("value", "")
    return values.get("evidence:note", "").strip(), values.get("evidence:url", "").strip()


class Notifier:
    """Sends and edits the DMs that show a match, and tells admins about disputes."""

    def __init__(self, bot, admin_ids: Iterable[int], admin_channel_id: int | None) -> None:
        self.bot = bot
        self.admin_ids = tuple(admin_ids)
        self.admin_channel_id = admin_channel_id
        # One lock per match: its clicks, timeouts and rulings edit its messages in turn, each
        # from the state read inside the lock, so an older state can never land last.
        self._locks = weakref.WeakValueDictionary[int, asyncio.Lock]()

    def lock(self, match_id: int) -> asyncio.Lock:
        lock = self._locks.get(match_id)
        if lock is None:
            lock = self._locks[match_id] = asyncio.Lock()
        return lock

    async def names(self, *uids: int) -> dict[int, str]:
        names = {}
        for uid in uids:
            player = await self.bot.players.get(uid)
            names[uid] = player.display_name if player else str(uid)
        return names

    async def render(self, match: MatchView, viewer: int) -> dict:
        """The embed and buttons of `match` for one of its players."""
        names = await self.names(match.player1_uid, match.player2_uid)
        aborts = await self.bot.ladder.aborts_left(viewer)
        return {
            "embed": match_embed(match, viewer, names, self.bot.ladder_config),
            "view": match_buttons(match, viewer, aborts),
        }

    async def match_found(self, match: MatchView) -> None:
        """DM both players the new match with Confirm / Abort."""
        async with self.lock(match.id):
            sent = {uid for uid, _, _ in await self.bot.ladder.match_messages(match.id)}
            for uid in (match.player1_uid, match.player2_uid):
                if uid in sent:
                    continue
                match = await self.bot.ladder.get_match(match.id)
                try:
                    channel = await self.bot.create_dm(nextcord.Object(id=uid))
                    message = await channel.send(**await self.render(match, uid))
                except nextcord.HTTPException as exc:
                    log.warning("Could not DM player %s about match #%s: %s", uid, match.id, exc)
                    continue
                await self.bot.ladder.record_match_message(match.id, uid, channel.id, message.id)

    async def match_changed(self, update: MatchUpdate, *, skip: int | None = None) -> None:
        """Edit both players' match messages (but `skip`'s, already answered) and tell admins."""
        async with self.lock(update.match.id):
            match = await self.bot.ladder.get_match(update.match.id)
            for uid, _, message_id in await self.bot.ladder.match_messages(match.id):
                if uid == skip:
                    continue
                try:
                    # A DMChannel (cached after the first call): nextcord 3.2.0 cannot build a
                    # PartialMessage from a PartialMessageable.
                    channel = await self.bot.create_dm(nextcord.Object(id=uid))
                    message = channel.get_partial_message(message_id)
                    await message.edit(**await self.render(match, uid))
                except nextcord.HTTPException as exc:
                    log.warning("Could not update match #%s for %s: %s", match.id, uid, exc)
        match = update.match
        if any(isinstance(event, Disputed) for event in update.events):
            await self.dispute_opened(match)

    async def dispute_opened(self, match: MatchView) -> None:
        """Tell admins: in the admin channel if one is set, else by DM."""
        names = await self.names(match.player1_uid, match.player2_uid)
        embed = nextcord.Embed(
            title=f"Dispute on match #{match.id}",
            description=(
                f"{names[match.player1_uid]} reported **{match.player1_report}**, "
                f"{names[match.player2_uid]} reported **{match.player2_report}**.\n"
                f"Rule with `/admin resolve match_id:{match.id}`; see `/admin disputes`."
            ),
            colour=ERROR_COLOUR,
        )
        targets = []
        if self.admin_channel_id:
            targets.append(self.bot.get_partial_messageable(self.admin_channel_id))
        else:
            for admin in self.admin_ids:
                try:
                    targets.append(await self.bot.create_dm(nextcord.Object(id=admin)))
                except nextcord.HTTPException as exc:
                    log.warning("Could not open a DM with admin %s: %s", admin, exc)
        for target in targets:
            try:
                await target.send(embed=embed)
            except nextcord.HTTPException as exc:
                log.warning("Could not tell admins about match #%s: %s", match.id, exc)
