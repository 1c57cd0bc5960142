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
"""

from __future__ import annotations

import gc
import logging
import os
import time

log = logging.getLogger(__name__)

SWITCH = "LADDERBOT_GC_FREEZE"


def freeze_startup_heap() -> int:
    """Collect start-up garbage, then freeze every live object; return how many are frozen."""
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
