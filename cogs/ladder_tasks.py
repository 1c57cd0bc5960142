"""The ladder's two background loops: matchmaking waves, and match deadlines.

Both read their state from SQLite (the queue, the stored deadlines), so after a restart they
carry on where the last run stopped: a deadline that passed while the bot was down fires at
start-up. The tasks are kept in one place, each with a done-callback that logs a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from services.players import LeftQueue

if TYPE_CHECKING:  # cogs.bot imports this module
    from cogs.bot import LadderBot

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0
UNSENT_RECHECK_SECONDS = 0.5  # re-read the next deadline at least this often
RETRY_SECONDS = 5.0
NOTIFICATIONS_GRACE_SECONDS = 1.0  # queue notifications never delay a stop longer


class LadderLoops:
    """Starts, pokes and stops the matchmaking and deadline loops."""

    def __init__(self, bot: LadderBot, wave_interval: float) -> None:
        self.bot = bot
        self.wave_interval = wave_interval
        self._wake = asyncio.Event()
        self._announced = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()

    def start(self) -> None:
        """Start both loops (once); they wait for the gateway to be ready."""
        if self._tasks:
            return
        for name, loop in (("matchmaker", self._waves), ("deadlines", self._deadlines)):
            task = asyncio.create_task(loop(), name=name)
            task.add_done_callback(self._done)
            self._tasks.add(task)
        # Queue notifications and the queue board (cogs/notify.py, cogs/queue_board.py).
        if self.bot.queue_notifications is not None:
            self.bot.queue_notifications.start()
        if self.bot.queue_board is not None:
            self.bot.queue_board.start()

    def poke(self) -> None:
        """A new deadline exists: let the deadline loop re-read the next one now."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancel both loops and wait for them."""
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.bot.queue_board is not None:
            await self.bot.queue_board.stop()
        if self.bot.queue_notifications is not None:  # unsent notifications: dropped in 1 s
            await self.bot.queue_notifications.stop(NOTIFICATIONS_GRACE_SECONDS)

    def _done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("The %s loop crashed", task.get_name(), exc_info=task.exception())

    async def _waves(self) -> None:
        await self.bot.wait_until_ready()
        try:
            await self.announce_unsent()
        except Exception:
            log.exception("Announcing matches left unannounced failed")
        finally:
            self._announced.set()
        try:
            # The database is the truth: messages a stop left behind are rendered again.
            await self.bot.notifier.repair()
        except Exception:
            log.exception("Checking match messages against the database failed")
        while True:
            await asyncio.sleep(self.wave_interval)
            try:
                await self.run_wave()
            except Exception:
                log.exception("A matchmaking wave failed; trying again next wave")

    async def run_wave(self) -> None:
        """Pair the queue once and DM every new match to its players."""
        wave = await self.bot.queue.pair_queue()
        matches = wave.matches
        if matches:
            log.info("Wave: %d match(es) created", len(matches))
            self.poke()
        # The match DMs first (their confirmation windows are running), then the queue messages.
        await self.bot.notifier.matches_found(matches)
        await self.bot.notifier.left_queue(wave.left_queue, LeftQueue.MATCHED)

    async def announce_unsent(self) -> None:
        """DM the matches a stop interrupted between the wave and its DMs."""
        unsent = [
            match
            for match in await self.bot.matches.open_matches()
            if str(match.status) == "awaiting_confirmation"
        ]
        self.bot.notifier.expect(unsent)
        self._announced.set()  # the deadline loop may go on: these are marked unsent
        await self.bot.notifier.matches_found(unsent)

    async def _deadlines(self) -> None:
        await self.bot.wait_until_ready()
        # Matches whose DMs a stop interrupted are marked unsent (and so not timed out as
        # no-shows) once the announcing has started: wait for that.
        await self._announced.wait()
        while True:
            # Cleared before reading the next deadline, so a poke meanwhile is not lost.
            self._wake.clear()
            try:
                await self.fire_due()
                delay = await self._seconds_to_next_deadline()
                if self.bot.notifier.unsent():
                    # The earliest deadline may be a match whose DM is on its way (skipped
                    # above): look again soon, without spinning.
                    delay = max(delay, UNSENT_RECHECK_SECONDS)
            except Exception:
                log.exception("Handling match deadlines failed; retrying")
                delay = RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def fire_due(self) -> None:
        """Apply every deadline that has passed, and tell the players."""
        for update in await self.bot.matches.fire_due_timeouts(skip=self.bot.notifier.unsent()):
            await self.bot.notifier.match_changed(update)

    async def _seconds_to_next_deadline(self) -> float:
        deadline = await self.bot.matches.next_deadline()
        if deadline is None:
            return MAX_SLEEP_SECONDS
        seconds = (deadline - datetime.now(UTC)).total_seconds()
        return min(max(seconds, 0.0) + 0.05, MAX_SLEEP_SECONDS)
