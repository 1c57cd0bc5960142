"""The one outbound sender for queue notifications.

`submit` is a non-blocking put: no command or loop ever waits for a DM. A few workers send
through nextcord, whose HTTP client keeps Discord's per-route buckets and the global limit and
sleeps a 429's `retry_after` before retrying. When nextcord gives up on a 429, the worker waits
`retry_after` itself and tries again, at most `attempts` times. Before every attempt it asks
whether the notification is still worth sending (the waiting player left or was matched, or it
is too old: dropped). Each notification ends exactly once: sent, dropped or failed.

Nobody asked for a notification, so it is written in its recipient's language: a text submitted
as a function (`Render`) is called just before the first attempt, inside
``speaking(await language_of(uid))`` (the pipeline's `language_of`); a plain `str` is sent as
it is.

`close` stops within `grace` seconds (≤ 1 s on SIGTERM): sends under way may finish in that
time, the rest are cancelled and everything not sent is logged as dropped in one statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import nextcord

from cogs.rate_limits import retry_after
from i18n import speaking
from services.notifications import Due
from services.transactions import written

log = logging.getLogger(__name__)

# Writes a notification's text in the current language (the sender sets the recipient's).
type Render = Callable[[], str]

FINISH_ATTEMPTS = 5  # tries to record an outcome while the database is busy


class Outcomes(Protocol):
    """What the sender needs of the notification service."""

    async def still_useful(self, due: Due) -> bool: ...

    async def finish(self, due: Due, outcome: str) -> None: ...

    async def drop_unfinished(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    due: Due
    text: str | Render  # a Render is called in the recipient's language when sent


class NotificationSender:
    """Sends queued notifications with `send(uid, text)`; see the module's docstring.

    `language_of(uid)` gives the language to write to `uid` in (without it, English)."""

    def __init__(
        self,
        send: Callable[[int, str], Awaitable[object]],
        outcomes: Outcomes,
        *,
        workers: int = 2,
        attempts: int = 3,
        language_of: Callable[[int], Awaitable[str]] | None = None,
    ) -> None:
        self._send = send
        self._outcomes = outcomes
        self._language_of = language_of
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._workers_count = workers
        self._attempts = attempts
        self._workers: set[asyncio.Task[None]] = set()
        self._closing = False
        self._in_flight = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self.counts: dict[str, int] = {"sent": 0, "dropped": 0, "failed": 0}

    def start(self) -> None:
        if self._workers:
            return
        for n in range(self._workers_count):
            task = asyncio.create_task(self._work(), name=f"notification-sender-{n}")
            task.add_done_callback(self._crashed)
            self._workers.add(task)

    def submit(self, due: Due, text: str | Render) -> None:
        """Queue one notification (never waits); ignored once closing (logged as dropped at
        the close)."""
        if not self._closing:
            self._queue.put_nowait(Outgoing(due, text))

    def pending(self) -> int:
        return self._queue.qsize()

    async def idle(self) -> None:
        """Wait until everything submitted has ended (for tests)."""
        await self._queue.join()

    async def close(self, grace: float = 1.0) -> None:
        """Stop within `grace` s; what is not sent by then is logged as dropped."""
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Sends under way may finish; nothing new starts.
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), max(0.0, deadline - loop.time() - 0.2))
        for task in self._workers:
            task.cancel()
        for task in list(self._workers):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        try:
            dropped = await asyncio.wait_for(
                self._outcomes.drop_unfinished(), max(0.05, deadline - loop.time())
            )
        except Exception:
            log.exception("Could not log the unsent notifications as dropped")
        else:
            if dropped:
                log.info("Stopping: %d queued notification(s) dropped", dropped)

    def _crashed(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("The notification sender crashed", exc_info=task.exception())

    async def _work(self) -> None:
        while not self._closing:
            item = await self._queue.get()
            self._in_flight += 1
            self._quiet.clear()
            try:
                outcome = await self._deliver(item)
                self.counts[outcome] += 1
                await self._finish(item.due, outcome)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("A notification could not be handled")
            finally:
                self._in_flight -= 1
                if not self._in_flight:
                    self._quiet.set()
                self._queue.task_done()

    async def _finish(self, due: Due, outcome: str) -> None:
        """Record the outcome; a busy database is tried again (a DM already sent must not stay
        logged as unsent), up to FINISH_ATTEMPTS times with a growing pause."""
        await written(lambda: self._outcomes.finish(due, outcome), attempts=FINISH_ATTEMPTS)

    async def _render(self, uid: int, text: str | Render) -> str:
        """`text` in `uid`'s language; English if that cannot be looked up now (a notification
        in English beats none)."""
        if isinstance(text, str):
            return text
        language = None
        if self._language_of is not None:
            try:
                language = await self._language_of(uid)
            except Exception:
                log.warning("No language for %s: notifying in English", uid, exc_info=True)
        with speaking(language):
            return text()

    async def _deliver(self, item: Outgoing) -> str:
        due = item.due
        content: str | None = None
        for attempt in range(1, self._attempts + 1):
            if self._closing or not await self._outcomes.still_useful(due):
                return "dropped"
            if content is None:
                content = await self._render(due.notice.uid, item.text)
            try:
                await self._send(due.notice.uid, content)
            except nextcord.HTTPException as error:
                if error.status != 429 or attempt == self._attempts:
                    log.warning("Could not send notification %s: %s", due.id, error)
                    return "failed"
                wait = retry_after(error)
                log.info("Notification %s: 429, retrying in %.2f s", due.id, wait)
                await asyncio.sleep(wait)
            else:
                return "sent"
        return "failed"
