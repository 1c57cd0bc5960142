"""freeze_startup_heap: what start-up built leaves the collector's passes, later garbage does not.

Freezing is process-wide, so each case runs in a fresh interpreter rather than in pytest's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import gc, json, logging, weakref
logging.basicConfig(level=logging.INFO)
from app.gc_tuning import freeze_startup_heap

class Node:
    pass

startup = [[i] for i in range(10_000)]  # long-lived state, like the standings' lists
already = gc.get_freeze_count()  # the interpreter may have frozen some at its own start
frozen = freeze_startup_heap()
tracked = {id(o) for o in gc.get_objects()}

later = Node()
later.me = later  # a reference cycle made after start-up: only the collector can free it
gone = weakref.ref(later)
del later
gc.collect()
print(json.dumps({
    "thresholds": gc.get_threshold(),
    "frozen": frozen,
    "newly_frozen": gc.get_freeze_count() - already,
    "startup_tracked": any(id(o) in tracked for o in startup),
    "later_cycle_freed": gone() is None,
}))
"""


def run(env_value: str | None, thresholds: str | None = None) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LADDERBOT_GC_")}
    if env_value is not None:
        env["LADDERBOT_GC_FREEZE"] = env_value
    if thresholds is not None:
        env["LADDERBOT_GC_THRESHOLDS"] = thresholds
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout), done.stderr


def test_startup_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    result, log = run(None)
    assert result["frozen"] >= result["newly_frozen"] >= 10_000
    assert not result["startup_tracked"]  # out of every generation the collector walks
    assert result["later_cycle_freed"]
    assert f"Froze {result['frozen']} start-up objects" in log
    assert result["thresholds"] == [10_000, 10, 10]  # the young generation: see YOUNG_THRESHOLD


def test_the_thresholds_can_be_given_and_a_bad_value_keeps_ours() -> None:
    result, log = run(None, "700,10,10")
    assert result["thresholds"] == [700, 10, 10]  # Python's own, to compare
    assert result["later_cycle_freed"]
    result, log = run(None, "700,ten")
    assert result["thresholds"] == [10_000, 10, 10]
    assert "LADDERBOT_GC_THRESHOLDS='700,ten' is not three whole numbers" in log


def test_the_switch_turns_it_off() -> None:
    result, log = run("0")
    assert result["frozen"] == result["newly_frozen"] == 0
    assert result["startup_tracked"]
    assert result["later_cycle_freed"]
    assert "LADDERBOT_GC_FREEZE=0" in log


def test_a_slow_pass_is_logged_once_with_its_generation(caplog):
    import gc
    import logging

    from app.gc_tuning import _PassTimer, watch_slow_passes

    before = list(gc.callbacks)
    gc.callbacks[:] = [cb for cb in before if not isinstance(cb, _PassTimer)]
    try:
        watch_slow_passes(threshold_ms=-1.0)  # every pass counts as slow here
        watch_slow_passes(threshold_ms=-1.0)  # idempotent: still one watcher
        assert sum(isinstance(cb, _PassTimer) for cb in gc.callbacks) == 1
        with caplog.at_level(logging.WARNING, logger="app.gc_tuning"):
            gc.collect(2)
        lines = [r.getMessage() for r in caplog.records if r.name == "app.gc_tuning"]
        assert len(lines) == 1 and "generation 2 took" in lines[0], lines
    finally:
        gc.callbacks[:] = before
