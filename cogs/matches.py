"""Match buttons (confirm, abort, report, evidence) and the messages that tell players and
admins what happened to a match.

Each player has a match message of their own (a DM), so each is written in its reader's
language (`CommandPipeline.language_of`), also when the other player's click changed it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import nextcord
from nextcord.ext import commands

from cogs.admin_ui import dispute_notice_embed
from cogs.client import interaction_data, user_of
from cogs.components import custom_id, frozen_modal
from cogs.match_ui import match_buttons, match_embed
from cogs.rate_limits import through_429s
from cogs.responses import INFO_COLOUR
from i18n import LOCALES, N_, SOURCE, _, speaking
from ladder.errors import StorageBusyError, ValidationError
from ladder.guards import Access
from ladder.records import MatchRecord, MatchUpdate, QueueStatus
from ladder.reports import Disputed
from services.players import LeftQueue
from services.transactions import written

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

OUTCOMES = ("win", "loss", "draw")
# DMs sent or edited at once: enough to send a 2,000-player wave well inside the confirmation
# window, few enough that nextcord's rate-limit handling is not flooded.
DM_CONCURRENCY = 16
# What a queue message says once its player left the queue other than by Cancel.
LEFT_QUEUE_TEXT = {
    LeftQueue.MATCHED: N_("A match was found: you left the queue. See the match message."),
    LeftQueue.DECLINED: N_("You declined the terms, so you left the queue."),
    LeftQueue.DEQUEUED: N_("An admin took you out of the queue. Use /queue to join again."),
    LeftQueue.CLEARED: N_(
        "An admin emptied the queue: you are no longer queued. Use /queue again."
    ),
    LeftQueue.BANNED: N_("You are no longer in the queue."),
}
UNRECOGNISED = N_("This button is not recognised any more.")
# At start, the messages of matches ended this recently are checked too (an edit lost at a stop).
REPAIR_WINDOW = timedelta(days=1)


class MatchCog(commands.Cog):
    """Receives the routed match buttons; MatchService applies the rules, Notifier tells."""

    def __init__(self, bot: LadderBot) -> None:
        self.bot = bot
        bot.router.register("match", self._on_match_button, access=Access.SETUP)

    async def _on_match_button(self, interaction: nextcord.Interaction, parts: list[str]) -> None:
        match_id, action, *rest = _parse(parts)
        uid = user_of(interaction).id
        matches = self.bot.matches
        if action == "evidence":
            await interaction.response.send_modal(frozen_modal(EvidenceModal(match_id)))
            return
        if action == "evidence_submit":
            note, url = _modal_values(interaction)
            await matches.add_evidence(match_id, uid, note or None, url or None)
            await interaction.response.send_message(
                embed=nextcord.Embed(
                    description=_("Evidence added for the admins."), colour=INFO_COLOUR
                ),
                ephemeral=True,
            )
            return
        if action == "confirm":
            update = await matches.confirm(match_id, uid)
        elif action == "abort":
            update = await matches.abort(match_id, uid)
        elif action == "report" and rest and rest[0] in OUTCOMES:
            update = await matches.report(match_id, uid, rest[0])
        else:
            raise ValidationError("custom_id", UNRECOGNISED)
        # No lock is held while Discord answers: the clicker's message shows the state read
        # after the action, and `refresh` below repairs it if a newer state was shown meanwhile.
        notifier = self.bot.notifier
        async with notifier.editing(match_id, uid):
            # Read inside the message's lock: whichever of this answer and a background edit
            # of the same message goes second shows the newer state, and `shown` matches it.
            payload = await notifier.render(await matches.get_match(match_id), uid)
            await interaction.response.edit_message(**payload)
            if interaction.message is not None:
                await notifier.shown(match_id, uid, interaction.message.id, payload)
        if update.changed:
            await notifier.match_changed(update, skip=uid)


class EvidenceModal(nextcord.ui.Modal):
    """A note and a link for a disputed match; its submit is routed ("match:N:evidence_submit")."""

    def __init__(self, match_id: int) -> None:
        super().__init__(
            title=_("Evidence for match #{id}", id=match_id),
            custom_id=custom_id("match", match_id, "evidence_submit"),
            auto_defer=False,
        )
        self.add_item(
            nextcord.ui.TextInput(
                label=_("What happened"),
                custom_id="evidence:note",
                style=nextcord.TextInputStyle.paragraph,
                required=False,
                max_length=1000,
            )
        )
        self.add_item(
            nextcord.ui.TextInput(
                label=_("Replay or screenshot link (https://...)"),
                custom_id="evidence:url",
                required=False,
                max_length=500,
            )
        )


def _parse(parts: list[str]) -> list:
    # ASCII digits only, and small enough for SQLite ("²".isdigit() is true; int() refuses it).
    if len(parts) < 2 or not re.fullmatch(r"[0-9]{1,18}", parts[0]):
        raise ValidationError("custom_id", UNRECOGNISED)
    return [int(parts[0]), *parts[1:]]


def _modal_values(interaction: nextcord.Interaction) -> tuple[str, str]:
    values: dict[str, str] = {}
    for row in interaction_data(interaction).get("components", []):
        for component in row.get("components", []):
            values[component.get("custom_id", "")] = component.get("value", "")
    return values.get("evidence:note", "").strip(), values.get("evidence:url", "").strip()


def _shown_in_another_language(
    draw: Callable[[str], dict], language: str, shown: str | None
) -> bool:
    """Whether a message already shows this state in a language other than `language`.

    Then it is left as it is: after a restart the bot knows a player's Discord app language
    again only once they next use it, and a message written in it is not worth an edit that
    only turns it into English (repair would otherwise edit every such message at each start).
    """
    return any(digest(draw(other)) == shown for other in LOCALES if other != language)


def digest(payload: Mapping[str, Any]) -> str:
    """A short fingerprint of what a message shows: equal digests, nothing to edit."""
    embed = payload.get("embed")
    view = payload.get("view")
    shown = {
        "embed": embed.to_dict() if embed is not None else None,
        "components": view.to_components() if view is not None else [],
    }
    text = json.dumps(shown, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Notifier:
    """Sends and edits the DMs that show a match, and tells admins about disputes.

    The database is the truth and messages follow it: a message is rendered from the match as
    stored, edited only when that differs from what it last showed (`match_messages.shown`),
    and at start every recent match's message is checked again (`repair`). Edits of one
    message are coalesced: whoever asks while an edit is on its way gets one more round from
    the newest state, so an older state never lands last and no lock is held across Discord.
    """

    def __init__(
        self,
        bot: LadderBot,
        admin_ids: Iterable[int],
        admin_channel_id: int | None,
        *,
        concurrency: int = DM_CONCURRENCY,
    ) -> None:
        self.bot = bot
        self.admin_ids = tuple(admin_ids)
        self.admin_channel_id = admin_channel_id
        self._dirty: set[tuple[int, int]] = set()
        self._refreshing: dict[tuple[int, int], asyncio.Task[None]] = {}
        self._sending: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._unsent: set[int] = set()
        self._edit_locks = weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock]()
        self._slots = asyncio.Semaphore(concurrency)

    async def names(self, *uids: int) -> dict[int, str]:
        names = {}
        for uid in uids:
            player = await self.bot.players.get(uid)
            names[uid] = player.display_name if player else str(uid)
        return names

    async def render(self, match: MatchRecord, viewer: int) -> dict:
        """The embed and buttons of `match` for one of its players, in that player's language
        (their own message: also when someone else's click or a deadline changed it)."""
        draw = await self._drawing(match, viewer)
        return draw(await self.bot.pipeline.language_of(viewer))

    async def _drawing(self, match: MatchRecord, viewer: int) -> Callable[[str], dict]:
        """Read what `viewer`'s match message needs once; the result draws it in a language."""
        names = await self.names(match.player1_uid, match.player2_uid)
        aborts = await self.bot.matches.aborts_left(viewer)
        config, web = self.bot.ladder_config, self.bot.web_base_url

        def draw(language: str) -> dict:
            with speaking(language):
                return {
                    "embed": match_embed(match, viewer, names, config, web),
                    "view": match_buttons(match, viewer, aborts),
                }

        return draw

    async def shown(self, match_id: int, uid: int, message_id: int, payload: dict) -> None:
        """Record that `uid`'s message of the match now shows `payload`."""
        await self.bot.matches.mark_shown(match_id, uid, message_id, digest(payload))

    # --- new matches ---------------------------------------------------------------------

    async def matches_found(self, matches: Iterable[MatchRecord]) -> None:
        """DM every new match to its players, many at once (within `concurrency`)."""
        matches = list(matches)
        self.expect(matches)
        # One match's failure is logged and stops no other (nor the queue messages after).
        outcomes = await asyncio.gather(
            *(self.match_found(match) for match in matches), return_exceptions=True
        )
        for match, outcome in zip(matches, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("Match #%s: its DMs failed", match.id, exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome

    def expect(self, matches: Iterable[MatchRecord]) -> None:
        """Mark these matches' DMs as on their way, at once, before any waits for a slot: the
        deadline loop leaves them alone until their DMs went out (their window starts then)."""
        self._unsent.update(match.id for match in matches)

    def unsent(self) -> frozenset[int]:
        """Matches whose DMs are still on their way."""
        return frozenset(self._unsent)

    async def match_found(self, match: MatchRecord) -> None:
        """DM both players the new match with Confirm / Abort (once, however often asked)."""
        task = self._sending.get(match.id)
        if task is None:
            task = asyncio.create_task(self._send_match(match.id), name=f"dm-match-{match.id}")
            self._sending[match.id] = task
            task.add_done_callback(lambda _: self._sending.pop(match.id, None))
        await asyncio.shield(task)

    async def _dm_channel(self, uid: int) -> nextcord.DMChannel:
        """`uid`'s DM channel (nextcord caches it after the first call), through 429s."""
        return await through_429s(
            lambda: self.bot.create_dm(nextcord.Object(id=uid)), f"DM to {uid}"
        )

    async def _send_match(self, match_id: int) -> None:
        matches = self.bot.matches
        self._unsent.add(match_id)
        try:
            sent = {uid for uid, _, _ in await matches.match_messages(match_id)}
            match = await matches.get_match(match_id)
            await asyncio.gather(
                *(
                    self._send_one(match_id, uid)
                    for uid in (match.player1_uid, match.player2_uid)
                    if uid not in sent
                )
            )
        finally:
            self._unsent.discard(match_id)

    async def _send_one(self, match_id: int, uid: int) -> None:
        matches = self.bot.matches
        async with self._slots:
            # The confirmation window starts when the DM goes out, not when the wave ran: in a
            # big wave the last DMs leave well after the first. Should the database stay busy,
            # the DM goes out all the same: the window is moved again once it is sent.
            try:
                if await written(lambda: matches.start_confirmation_window(match_id)):
                    self.bot.loops.poke()
            except StorageBusyError:
                log.warning("Match #%s: DM to %s sent before its window could move", match_id, uid)
            match = await matches.get_match(match_id)
            payload = await self.render(match, uid)
            try:
                channel = await self._dm_channel(uid)
                message = await through_429s(
                    lambda: channel.send(**payload), f"match #{match_id} DM to {uid}"
                )
            except nextcord.HTTPException as exc:
                log.warning("Could not DM player %s about match #%s: %s", uid, match_id, exc)
                return
        # And again once it is out: under Discord's rate limits the send itself can take
        # seconds. (The DM shows the earlier deadline: the real one is never sooner.)
        if await written(lambda: matches.start_confirmation_window(match_id)):
            self.bot.loops.poke()
        async with self.editing(match_id, uid):
            await written(
                lambda: matches.record_match_message(match_id, uid, channel.id, message.id)
            )
            await written(lambda: self.shown(match_id, uid, message.id, payload))
        # The match may have moved on while the DM was on its way (an abort, both confirmed):
        # show that. Not for the deadline alone, which the sending itself moved later: an
        # edit per DM would cost a wave as many requests again from the shared rate limit.
        now = await matches.get_match(match_id)
        if (now.status, now.result) != (match.status, match.result):
            await self.refresh(match_id, uid)

    async def left_queue(self, entries: Iterable[QueueStatus], why: LeftQueue) -> None:
        """Replace the queue messages of players who left the queue other than by their own
        Cancel with what happened, so no "You are in the queue" and Cancel button stays."""
        text = LEFT_QUEUE_TEXT[why]
        await asyncio.gather(
            *(
                self._edit_queue_message(entry.uid, entry.message_id, text)
                for entry in entries
                if entry.channel_id and entry.message_id
            )
        )

    def left_queue_soon(self, entries: list[QueueStatus], why: LeftQueue) -> None:
        """left_queue in the background (the admin's or player's answer does not wait for the
        edits); a stop waits for it in `drain`."""
        task = asyncio.create_task(self.left_queue(entries, why), name="queue-messages")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _edit_queue_message(self, uid: int, message_id: int, text: str) -> None:
        """Replace `uid`'s queue message with `text` (an untranslated message id), in their
        language."""
        with speaking(await self.bot.pipeline.language_of(uid)):
            embed = nextcord.Embed(description=_(text), colour=INFO_COLOUR)
        async with self._slots:
            try:
                channel = await self._dm_channel(uid)
                message = channel.get_partial_message(message_id)
                await through_429s(
                    lambda: message.edit(embed=embed, view=None), f"queue message of {uid}"
                )
            except nextcord.HTTPException as exc:
                log.warning("Could not update the queue message of %s: %s", uid, exc)

    # --- changes -------------------------------------------------------------------------

    async def match_changed(self, update: MatchUpdate, *, skip: int | None = None) -> None:
        """Bring both players' match messages (but `skip`'s) up to date and tell admins."""
        match = update.match
        await asyncio.gather(*(self.refresh(match.id, uid) for uid in match.players if uid != skip))
        if any(isinstance(event, Disputed) for event in update.events):
            await self.dispute_opened(match)

    async def refresh(self, match_id: int, uid: int) -> None:
        """Make `uid`'s message of the match show the match as stored now; edit only if needed."""
        key = (match_id, uid)
        self._dirty.add(key)
        task = self._refreshing.get(key)
        if task is None:
            task = asyncio.create_task(self._refresh_until_clean(key), name=f"refresh-{key}")
            self._refreshing[key] = task
        await asyncio.shield(task)

    async def repair(self, ended_within: timedelta = REPAIR_WINDOW) -> int:
        """At start: re-render every message of an open or recently ended match from SQLite
        (an edit lost to a stop or a crash); return how many were checked."""
        keys = await self.bot.matches.match_messages_to_check(ended_within)
        await asyncio.gather(*(self.refresh(match_id, uid) for match_id, uid in keys))
        if keys:
            log.info("Checked %d match message(s) against the database", len(keys))
        return len(keys)

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait for the edits and DMs on their way (at a stop, before the database closes)."""
        pending = [*self._refreshing.values(), *self._sending.values(), *self._background]
        if pending:
            _finished, late = await asyncio.wait(pending, timeout=timeout)
            if late:
                log.warning("%d match message update(s) unfinished at stop", len(late))

    async def _refresh_until_clean(self, key: tuple[int, int]) -> None:
        try:
            while key in self._dirty:
                self._dirty.discard(key)
                async with self._slots:
                    await self._refresh_once(*key)
        except Exception:
            log.exception("Updating the message of match #%s for %s failed", *key)
        finally:
            self._refreshing.pop(key, None)

    def editing(self, match_id: int, uid: int) -> asyncio.Lock:
        """The lock of one player's match message: an edit and the record of what it shows
        are one step, so two edits of the message cannot cross. Never a whole match's lock:
        the opponent's clicks do not wait on this message's Discord calls."""
        key = (match_id, uid)
        lock = self._edit_locks.get(key)
        if lock is None:
            lock = self._edit_locks[key] = asyncio.Lock()
        return lock

    async def _refresh_once(self, match_id: int, uid: int) -> None:
        matches = self.bot.matches
        async with self.editing(match_id, uid):
            found = await matches.match_message(match_id, uid)
            if found is None:
                return
            _channel_id, message_id, shown = found
            match = await matches.get_match(match_id)
            draw = await self._drawing(match, uid)
            language = await self.bot.pipeline.language_of(uid)
            payload = draw(language)
            if digest(payload) == shown or _shown_in_another_language(draw, language, shown):
                return  # already shows this: no REST call from the shared rate limit
            try:
                # A DMChannel (cached after the first call): nextcord 3.2.0 cannot build a
                # PartialMessage from a PartialMessageable.
                channel = await self._dm_channel(uid)
                message = channel.get_partial_message(message_id)
                await through_429s(
                    lambda: message.edit(**payload), f"match #{match_id} message of {uid}"
                )
            except nextcord.HTTPException as exc:
                log.warning("Could not update match #%s for %s: %s", match_id, uid, exc)
                return
            await self.shown(match_id, uid, message_id, payload)

    async def dispute_opened(self, match: MatchRecord) -> None:
        """Tell admins: in the admin channel if one is set (in English, as it is shared), else
        by DM, each in their language."""
        names = await self.names(match.player1_uid, match.player2_uid)
        targets: list[tuple[nextcord.abc.Messageable, str]] = []
        if self.admin_channel_id:
            targets.append((self.bot.get_partial_messageable(self.admin_channel_id), SOURCE))
        else:
            for admin in self.admin_ids:
                try:
                    dm = await self.bot.create_dm(nextcord.Object(id=admin))
                except nextcord.HTTPException as exc:
                    log.warning("Could not open a DM with admin %s: %s", admin, exc)
                    continue
                targets.append((dm, await self.bot.pipeline.language_of(admin)))
        for target, language in targets:
            with speaking(language):
                embed = dispute_notice_embed(match, names)  # player names escaped
            try:
                await target.send(embed=embed)
            except nextcord.HTTPException as exc:
                log.warning("Could not tell admins about match #%s: %s", match.id, exc)
