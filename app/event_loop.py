"""Which asyncio event loop the bot runs on: uvloop where it is installed, else the standard one.

The bot's work per command is mostly event-loop work: reading the gateway's websocket,
scheduling a task per interaction, answering through aiohttp, waking when aiosqlite's thread
has a result. uvloop (libuv under the same asyncio API) does that work in C. On the load bench
it cut the bot's CPU per answer (bench/results/load_session7.md has the figures and the
command). It is a pinned dependency on Linux and macOS; where it cannot be installed (Windows)
the standard loop runs the same code.

`LADDERBOT_EVENT_LOOP=asyncio` in the environment picks the standard loop anyway, to compare
(bench/bench_load.py runs the bot both ways) or to rule the loop out when hunting a bug.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

SWITCH = "LADDERBOT_EVENT_LOOP"
CHOICES = ("uvloop", "asyncio")


def loop_factory(
    environ: Mapping[str, str] = os.environ,
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory for `asyncio.run(..., loop_factory=...)`: uvloop's, or None (the standard
    loop) when uvloop is not installed or the switch asks for asyncio."""
    choice = environ.get(SWITCH, "").strip().lower() or "uvloop"
    if choice not in CHOICES:
        log.warning("%s=%r is not one of %s; using uvloop if installed", SWITCH, choice, CHOICES)
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def loop_name() -> str:
    """The running loop's kind, for the start-up log line."""
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
