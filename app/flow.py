"""Time one command's flow with named checkpoints and summarise it in one log line.

    flow = FlowTracker("interaction.profile", threshold_ms=250)
    flow.checkpoint("guards")
    ...
    log_flow(flow.finish("ok"))   # FAST [interaction.profile] 1.2ms (ok)

A flow over its threshold is SLOW, logged at WARNING with the checkpoints that took the most;
others go out at DEBUG. Timing uses a monotonic clock, never wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD_MS = 500.0
# A checkpoint is named in a SLOW line when it took at least this share of the flow's threshold.
SLOW_CHECKPOINT_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class FlowSummary:
    """How a finished flow went: total time, outcome, and the time spent before each checkpoint."""

    name: str
    outcome: str
    total_ms: float
    threshold_ms: float
    checkpoints: tuple[tuple[str, float], ...]

    @property
    def slow(self) -> bool:
        return self.total_ms > self.threshold_ms

    def line(self) -> str:
        """Render the one-line summary, naming slow checkpoints when the flow was slow."""
        speed = "SLOW" if self.slow else "FAST"
        head = f"{speed} [{self.name}] {self.total_ms:.1f}ms ({self.outcome})"
        if not self.slow:
            return head
        limit = self.threshold_ms * SLOW_CHECKPOINT_SHARE
        slow = [f"{label} {ms:.1f}ms" for label, ms in self.checkpoints if ms >= limit]
        return f"{head}: {', '.join(slow)}" if slow else head


class FlowTracker:
    """Checkpoints on a monotonic clock for one command's flow."""

    __slots__ = ("_clock", "_last", "_marks", "_start", "name", "threshold_ms")

    def __init__(
        self,
        name: str,
        threshold_ms: float = DEFAULT_THRESHOLD_MS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.name = name
        self.threshold_ms = threshold_ms
        self._clock = clock
        self._start = self._last = clock()
        self._marks: list[tuple[str, float]] = []

    def checkpoint(self, label: str) -> None:
        """Record the time since the previous checkpoint under `label`."""
        now = self._clock()
        self._marks.append((label, (now - self._last) * 1000.0))
        self._last = now

    def elapsed_ms(self) -> float:
        """Milliseconds since the flow started."""
        return (self._clock() - self._start) * 1000.0

    def finish(self, outcome: str) -> FlowSummary:
        """Close the flow with its outcome."""
        return FlowSummary(
            self.name, outcome, self.elapsed_ms(), self.threshold_ms, tuple(self._marks)
        )


# At most this many SLOW lines per interval: an overloaded bot makes every command slow, and a
# WARNING per command would cost it more time still (the rest are counted, not written).
SLOW_LINES_PER_INTERVAL = 20
SLOW_LINES_INTERVAL_S = 10.0


class _SlowLines:
    __slots__ = ("clock", "left", "skipped", "window_ends")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.window_ends = 0.0
        self.left = SLOW_LINES_PER_INTERVAL
        self.skipped = 0

    def take(self) -> tuple[bool, int]:
        """(may this SLOW line be written, how many were skipped before it)."""
        now = self.clock()
        if now >= self.window_ends:
            self.window_ends = now + SLOW_LINES_INTERVAL_S
            self.left = SLOW_LINES_PER_INTERVAL
        if self.left <= 0:
            self.skipped += 1
            return False, 0
        self.left -= 1
        skipped, self.skipped = self.skipped, 0
        return True, skipped


_slow_lines = _SlowLines()


def log_flow(summary: FlowSummary) -> None:
    """Send the summary to the log: WARNING when slow (at most SLOW_LINES_PER_INTERVAL per
    SLOW_LINES_INTERVAL_S, the rest counted in the next one), DEBUG otherwise."""
    if summary.slow:
        written, skipped = _slow_lines.take()
        if not written:
            return
        if skipped:
            log.warning("%s (and %d SLOW flows not logged before it)", summary.line(), skipped)
        else:
            log.warning("%s", summary.line())
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("%s", summary.line())


# --- admission: a bounded backlog, and interactions dropped once too late to answer -------

# Discord holds an interaction's first answer to 3 s after it created the interaction.
ANSWER_WINDOW_S = 3.0
# The longest an interaction may wait here (nextcord handed it to us → its turn to run) and
# still be started: what is left of the window goes to the handler and the answer's way back.
DEFAULT_WAIT_BUDGET_S = 2.0
# The most interactions running a handler at once; the rest wait their turn, first come first
# served. Enough to keep the loop busy while some wait on the network (64 at ~0.1 s round trips
# to Discord is ~640 answers a second), few enough that those running finish quickly.
DEFAULT_MAX_RUNNING = 64
# The most interactions waiting for a turn; one more is dropped at once (at any rate the bot
# can answer, it could not start in time anyway).
DEFAULT_MAX_WAITING = 4096
DEFAULT_WARN_INTERVAL_S = 10.0
# How many receive times are kept for interactions the pipeline has not started yet (one that
# never reaches it, e.g. a command nextcord does not know, is forgotten oldest first).
_RECEIVED_KEPT = 8192
_DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_ms(snowflake: int) -> int:
    """When Discord made a snowflake id: ms since the Unix epoch, on Discord's clock."""
    return (snowflake >> 22) + _DISCORD_EPOCH_MS


class Admission:
    """Decides when an interaction runs, and drops it if it can no longer be answered in time.

        admission.received(interaction_id)    # as nextcord hands it over (before any task)
        started, waited_ms = await admission.enter(interaction_id)
        if started:
            try: ... finally: admission.leave()
        # else: expired; run nothing

    At most `max_running` interactions hold a turn; the others wait, served in arrival order
    until the oldest has waited half the budget, newest first past that (see leave()). When an
    interaction's turn comes, it is expired instead of started if either
      * it waited here (received → turn) longer than `wait_budget_s`, on our own monotonic
        clock, or
      * Discord made it longer than `wait_budget_s` ago by its snowflake, measured against
        the smallest (our wall clock − snowflake time) seen lately rather than our clock
        alone: that minimum is the two clocks' skew plus the quickest delivery, so a skewed
        clock neither expires everything nor nothing, and an event delivered late (a gateway
        RESUME replaying old ones) is still caught.
    Expiring at the turn costs a dict lookup: under overload the queue drains as fast as it
    fills, so the backlog stays bounded (and `max_waiting` caps it outright). Expired
    interactions are logged once per `warn_interval_s` with their count, not one by one.
    """

    def __init__(
        self,
        *,
        max_running: int = DEFAULT_MAX_RUNNING,
        max_waiting: int = DEFAULT_MAX_WAITING,
        wait_budget_s: float = DEFAULT_WAIT_BUDGET_S,
        warn_interval_s: float = DEFAULT_WARN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], float] = lambda: time.time() * 1000.0,
        skew_window_s: float = 10.0,
    ) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.wait_budget_s = wait_budget_s
        self.warn_interval_s = warn_interval_s
        self._clock = clock
        self._wall_ms = wall_ms
        self._skew_window_s = skew_window_s
        self._received: dict[int, tuple[float, float]] = {}  # id -> (clock, wall - snowflake)
        self._running = 0
        self._waiters: deque[tuple[asyncio.Future[float | None], int, float, float]] = deque()
        # The smallest wall − snowflake offset (ms) in this window and in the one before.
        self._offset_now: float | None = None
        self._offset_before: float | None = None
        self._window_ends = clock() + skew_window_s
        self.expired = 0
        self._expired_reported = 0
        self.late = 0  # started in time, but the answer still came after Discord's window
        self._late_reported = 0
        self._worst_wait_ms = 0.0
        self._next_warning_at: float | None = None
        # Set while no interaction holds a turn: background work (the website) waits for it.
        self._quiet = asyncio.Event()
        self._quiet.set()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def received(self, interaction_id: int) -> None:
        """Note the moment nextcord handed this interaction over (call it synchronously)."""
        now = self._clock()
        offset = self._wall_ms() - snowflake_ms(interaction_id)
        if now >= self._window_ends:
            self._offset_before, self._offset_now = self._offset_now, None
            self._window_ends = now + self._skew_window_s
        if self._offset_now is None or offset < self._offset_now:
            self._offset_now = offset
        received = self._received
        received[interaction_id] = (now, offset)
        if len(received) > _RECEIVED_KEPT:
            del received[next(iter(received))]

    async def enter(self, interaction_id: int) -> tuple[bool, float]:
        """Wait for this interaction's turn: (started, ms since it was received). Not started
        means expired: it holds no turn then, so do not call leave()."""
        now = self._clock()
        received_at, offset = self._received.pop(interaction_id, (now, None))
        if self._running < self.max_running and not self._waiters:
            waited = self._too_late(now, received_at, offset)
            if waited is None:
                return False, (now - received_at) * 1000.0
            self._running += 1
            self._quiet.clear()
            return True, waited
        if len(self._waiters) >= self.max_waiting:
            self._expire((now - received_at) * 1000.0)
            return False, (now - received_at) * 1000.0
        turn: asyncio.Future[float | None] = asyncio.get_running_loop().create_future()
        self._waiters.append((turn, interaction_id, received_at, offset or 0.0))
        try:
            waited = await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result() is not None:
                self.leave()  # the turn was handed over just before the cancel: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove((turn, interaction_id, received_at, offset or 0.0))
            raise
        if waited is None:
            return False, (self._clock() - received_at) * 1000.0
        return True, waited

    def leave(self) -> None:
        """Give the turn back: expire the waiters already too late, then hand the turn on.

        In arrival order while the oldest waiter has waited less than half the budget; past
        that the bot is overloaded and the newest goes first (adaptive LIFO): in first-come
        order every answered command would have waited almost the whole budget, and been at
        risk of answering late, while the old ones expire all the same.
        """
        now = self._clock()
        waiters = self._waiters
        budget = self.wait_budget_s
        while waiters and (waiters[0][0].done() or now - waiters[0][2] > budget):
            turn, _, received_at, offset = waiters.popleft()
            if not turn.done():
                turn.set_result(self._too_late(now, received_at, offset))
        while waiters:
            overloaded = now - waiters[0][2] > budget / 2
            turn, _, received_at, offset = waiters.pop() if overloaded else waiters.popleft()
            if turn.done():  # cancelled while waiting
                continue
            waited = self._too_late(now, received_at, offset)
            turn.set_result(waited)
            if waited is not None:
                return  # the turn passes to it: _running stays the same
        self._running -= 1
        if not self._running:
            self._quiet.set()

    async def quiet(self, at_most_s: float) -> bool:
        """Wait until no interaction holds a turn, at most `at_most_s`; True if none does.

        For work that shares the event loop but no one is waiting on in Discord (a web page):
        started now, it would take the loop from a command's answer at each of its awaits.
        The bound keeps it from waiting for ever under a steady stream of commands."""
        if self._quiet.is_set():
            return True
        try:
            async with asyncio.timeout(at_most_s):
                await self._quiet.wait()
        except TimeoutError:
            return False
        return True

    def _too_late(self, now: float, received_at: float, offset: float | None) -> float | None:
        """The wait in ms if the interaction may still start, else None (counted, logged)."""
        waited_ms = (now - received_at) * 1000.0
        budget_ms = self.wait_budget_s * 1000.0
        late = waited_ms > budget_ms
        if not late and offset is not None:
            # Age by the snowflake, less the smallest offset seen lately (skew + delivery).
            floor = min(o for o in (self._offset_now, self._offset_before, offset) if o is not None)
            late = (offset - floor) + waited_ms > budget_ms
        if late:
            self._expire(waited_ms)
            return None
        return waited_ms

    def answered_late(self) -> None:
        """A started interaction's answer came after the window (Unknown interaction)."""
        self.late += 1
        self._report()

    def _expire(self, waited_ms: float) -> None:
        self.expired += 1
        self._worst_wait_ms = max(self._worst_wait_ms, waited_ms)
        self._report()

    def _report(self) -> None:
        now = self._clock()
        if self._next_warning_at is not None and now < self._next_warning_at:
            return
        self._next_warning_at = now + self.warn_interval_s
        log.warning(
            "Overloaded: %d interaction(s) dropped unanswered since the last warning (%d in all),"
            " too late to answer within Discord's %.0f s when their turn came (waited up to"
            " %.0f ms here); %d answered too late (%d in all); %d waiting, %d running",
            self.expired - self._expired_reported,
            self.expired,
            ANSWER_WINDOW_S,
            self._worst_wait_ms,
            self.late - self._late_reported,
            self.late,
            len(self._waiters),
            self._running,
        )
        self._expired_reported = self.expired
        self._late_reported = self.late
        self._worst_wait_ms = 0.0
