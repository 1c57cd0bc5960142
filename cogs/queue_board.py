"""The live queue board in QUEUE_CHANNEL_ID: one message, edited at most every
`edit_interval_seconds` (ladder.toml [queue_board], default 10) and only when its text
changed, recreated when someone deletes it, its id kept in SQLite so a restart reuses it.

Each tick reads the board's text (QueueBoardService); if it differs from what the message
shows, the message is edited (a deleted one is sent again). If nothing changed, the message is
only looked up, so a deletion is noticed within a tick even in a quiet queue.

The board is one message in a shared channel, read by players of every language: it is
written in the source language (English), whatever language the code that starts it is in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import nextcord

from cogs.responses import INFO_COLOUR
from i18n import N_, SOURCE, _, speaking
from services.queue_board import QueueBoardService

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

TITLE = N_("Ladder queue")
STOP_GRACE_SECONDS = 2.0  # a stop waits this long for a tick under way (a send and its save)


def board_embed(text: str) -> nextcord.Embed:
    """The board's message, in the current language (`update` makes it English)."""
    return nextcord.Embed(title=_(TITLE), description=text, colour=INFO_COLOUR)


class QueueBoard:
    """Keeps the board's message in `channel_id` up to date; started and stopped by bot.py,
    as often as this process becomes the leader and stops being it."""

    def __init__(
        self, bot: LadderBot, service: QueueBoardService, channel_id: int, interval: float
    ) -> None:
        self.bot = bot
        self.service = service
        self.channel_id = channel_id
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()  # the running loop's: each start gets a new one
        self.edits = 0  # for tests and logs: edits and sends made
        self.sends = 0

    def start(self) -> None:
        """Start the loop, again after a `stop` too (its state is in the database)."""
        if self._task is None:
            # A new event: a stopped loop's stays set, so that loop, if still finishing, ends.
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(self._stopping), name="queue-board")
            self._task.add_done_callback(self._done)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Let a tick under way finish (a message sent is then also saved, so a restart finds it
        instead of sending a second board), at most `grace` seconds; then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        if not self.bot.is_ready():  # still waiting to connect: no tick under way
            task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The queue board loop crashed", exc_info=task.exception())

    async def _run(self, stopping: asyncio.Event) -> None:
        await self.bot.wait_until_ready()
        while not stopping.is_set():
            try:
                await self.update()
            except Exception:
                log.exception("Updating the queue board failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.interval)

    async def _channel(self) -> nextcord.TextChannel | None:
        found = self.bot.get_channel(self.channel_id)
        if found is None:
            try:
                found = await self.bot.fetch_channel(self.channel_id)
            except nextcord.HTTPException as error:
                log.warning("QUEUE_CHANNEL_ID %s cannot be read: %s", self.channel_id, error)
                return None
        if not isinstance(found, nextcord.TextChannel):
            log.warning("QUEUE_CHANNEL_ID %s is not a text channel", self.channel_id)
            return None
        return found

    async def update(self) -> None:
        """One tick: send, edit or only check the board's message (in English: see above)."""
        with speaking(SOURCE):
            await self._update()

    async def _update(self) -> None:
        text = await self.service.text()
        stored = await self.service.message(self.channel_id)
        channel = await self._channel()
        if channel is None:
            return
        if stored is not None:
            message_id, shown = stored
            message = channel.get_partial_message(message_id)
            try:
                if shown == text:
                    await channel.fetch_message(message_id)  # still there?
                    return
                await message.edit(embed=board_embed(text))
                self.edits += 1
                log.info("Queue board edited")
                await self.service.save(self.channel_id, message_id, text)
                return
            except nextcord.NotFound:
                log.info("The queue board message was deleted: sending it again")
        sent = await channel.send(embed=board_embed(text))
        self.sends += 1
        await self.service.save(self.channel_id, sent.id, text)
        log.info("Queue board sent as message %s", sent.id)
