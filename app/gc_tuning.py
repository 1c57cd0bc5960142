"""Keep the garbage collector's full passes short: freeze what start-up loaded.

A full collection visits every tracked container in the oldest generation and every item in
it. Once the bot has started, that is mostly what start-up built and keeps until exit: the
imported modules, nextcord's classes, and the standings' columns (lists of hundreds of
thousands of ints and names at 100k players). Each pass took 9 ms at 10k players and 22 ms at
100k on the bench machine, stalling whatever command was running, and freed nothing.

`gc.freeze()` moves every object alive into a permanent generation that the collector skips;
objects made afterwards are collected as before. Reference counting still frees a frozen
object that stops being used; only a reference cycle among frozen objects would stay until
exit, which is why start-up garbage is collected once before freezing.

`LADDERBOT_GC_FREEZE=0` in the environment turns the freeze off, to compare
(bench/e2e_latency.py runs the bot both ways).

The youngest generation's threshold is raised from 700 to 10,000 (`YOUNG_THRESHOLD`: why is
written there); `LADDERBOT_GC_THRESHOLDS=700,10,10` gives Python's own, to compare.

The freeze also starts a watch on the collector: a pass over `SLOW_PASS_MS` is logged (one
WARNING each, with its generation and what it freed), so a stall a player felt can be told
apart from one the machine caused. A callback per pass costs about a microsecond. It also
counts every pass per generation (how many, their total and longest time, what they freed);
the totals are logged once at exit ("Garbage collector passes: ..."), which bench/bench_load.py
reads.
"""

from __future__ import annotations

import gc
import logging
import os
import time

log = logging.getLogger(__name__)

SWITCH = "LADDERBOT_GC_FREEZE"
THRESHOLDS = "LADDERBOT_GC_THRESHOLDS"  # "gen0,gen1,gen2", to compare (bench/bench_load.py --env)
# The youngest generation is collected after this many more container objects were made than
# freed (Python's default: 700). Under load the bot keeps a few thousand young objects alive
# for a moment (commands in flight, the command log's pending rows), so at 700 it passed over
# them about 10 times a second (649-850 passes in a bench run) and freed nothing in any of
# them: it makes no reference cycles there. At 10,000: 4-6 passes in the same run.
YOUNG_THRESHOLD = 10_000
SLOW_PASS_MS = 20.0


def freeze_startup_heap() -> int:
    """Collect start-up garbage, then freeze every live object; return how many are frozen."""
    watch_slow_passes()
    set_thresholds(os.environ.get(THRESHOLDS, ""))
    if os.environ.get(SWITCH, "").strip() == "0":
        log.info("%s=0: the start-up heap stays in the garbage collector's full passes", SWITCH)
        return 0
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "Froze %d start-up objects out of the garbage collector's passes (%.0f ms)",
        frozen,
        (time.perf_counter() - started) * 1000,
    )
    return frozen


def set_thresholds(given: str = "") -> tuple[int, int, int]:
    """Set the collector's thresholds: `given` ("gen0,gen1,gen2") or YOUNG_THRESHOLD for the
    youngest generation; return them."""
    _, middle, oldest = gc.get_threshold()
    thresholds = (YOUNG_THRESHOLD, middle, oldest)
    if given.strip():
        try:
            first, second, third = (int(part) for part in given.split(","))
            thresholds = (first, second, third)
        except ValueError:
            log.warning("%s=%r is not three whole numbers: %s kept", THRESHOLDS, given, thresholds)
    gc.set_threshold(*thresholds)
    log.info("Garbage collector thresholds: %s", ", ".join(map(str, thresholds)))
    return thresholds


class _PassTimer:
    """A gc callback: logs every collection that took more than `threshold_ms`, and counts
    every pass per generation."""

    def __init__(self, threshold_ms: float) -> None:
        self.threshold_ms = threshold_ms
        self.started = 0.0
        self.passes = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]
        self.max_ms = [0.0, 0.0, 0.0]
        self.collected = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        ms = (time.perf_counter() - self.started) * 1000
        generation = info["generation"]
        self.passes[generation] += 1
        self.total_ms[generation] += ms
        self.max_ms[generation] = max(self.max_ms[generation], ms)
        self.collected[generation] += info["collected"]
        if ms > self.threshold_ms:
            log.warning(
                "Slow garbage collection: generation %d took %.0f ms and freed %d objects",
                info["generation"],
                ms,
                info["collected"],
            )

    def summary(self) -> str:
        """One line: per generation, passes, total / longest ms, objects freed."""
        return "; ".join(
            f"generation {g}: {self.passes[g]} passes, {self.total_ms[g]:.0f} ms in all, "
            f"longest {self.max_ms[g]:.1f} ms, freed {self.collected[g]}"
            for g in range(3)
        )


def watch_slow_passes(threshold_ms: float = SLOW_PASS_MS) -> None:
    """Log each collector pass slower than `threshold_ms` from now on (idempotent); the totals
    of all passes are logged by `log_pass_totals` (bot.py, after a clean stop)."""
    if not any(isinstance(cb, _PassTimer) for cb in gc.callbacks):
        gc.callbacks.append(_PassTimer(threshold_ms))


def log_pass_totals() -> None:
    """Log every collector pass's totals since start-up (after the bot stopped: a failed start
    ends on the line naming what failed, not on statistics)."""
    for callback in gc.callbacks:
        if isinstance(callback, _PassTimer):
            log.info("Garbage collector passes: %s", callback.summary())
