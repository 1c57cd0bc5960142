"""Time one command's flow with named checkpoints and summarise it in one log line.

    flow = FlowTracker("interaction.profile", threshold_ms=250)
    flow.checkpoint("guards")
    ...
    log_flow(flow.finish("ok"))   # FAST [interaction.profile] 1.2ms (ok)

A flow over its threshold is SLOW, logged at WARNING with the checkpoints that took the most;
others go out at DEBUG. Timing uses a monotonic clock, never wall time.
"""

from __future__ import annotations

import logging
import time
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


def log_flow(summary: FlowSummary) -> None:
    """Send the summary to the log: WARNING when slow, DEBUG otherwise."""
    if summary.slow:
        log.warning("%s", summary.line())
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("%s", summary.line())
