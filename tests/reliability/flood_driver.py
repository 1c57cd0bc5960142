"""bot.py without Discord: `bot.serve()` itself, with a stand-in LadderBot that floods commands.

    python tests/reliability/flood_driver.py --db PATH --out DIR [--commands N] [--workers 50]
                                             [--database-url postgresql://...]

`--database-url` runs it on PostgreSQL (bot.py's DATABASE_URL): serve() then opens the pool,
the COPY command log writer, the cache listener and the leadership as the real bot does;
`--db` still names the file the running-bot lock sits beside.

`serve()` runs verbatim: it opens the database (migrations included), starts the real
CommandLogWriter, builds the real PlayerRepository (with its cache), the ladder services and
CommandPipeline, installs its SIGINT/SIGTERM handlers and, on a signal, shuts down in its own
order: loops stop → pipeline.wait_idle → bot.close → command_log.close → db.close. Only the
Discord client is replaced (`bot.LadderBot = FloodBot`): its `start()` is the "gateway", where
`--workers` tasks push commands through `CommandPipeline.run` as fast as the loop takes them, like
interactions arriving, until `--commands` were sent (0: until stopped) or `close()` is called.
As with nextcord, `close()` stops new commands but does not wait for the ones running.

Handlers are those of tests/reliability/fakes.py, a mix: `help` (a guard-free read), `profile`
(needs the terms: refused for newcomers), `termsofservice` and `setcountry` (player writes in
their own transaction, which compete with the log writer for the write lock), `queue` (a
LadderError), and rarely `boom` (a bug: an unexpected exception the pipeline must turn into an
apology).

What the tests read, in `--out`:

* `records.bin`: one 9-byte entry per `CommandLog.record()` call, written with os.write at the
  moment of the call (so it survives SIGKILL): `<q` interaction id + `B` 1 if the writer accepted
  the row, 0 if it dropped it. This is the ground truth of "every command whose record() was
  called".
* `progress.json`: every `--tick` seconds, the writer's counters (enqueued, written, queue depth,
  dropped) and the driver's (recorded, started, finished); replaced atomically.
* `report.json`: at a clean exit only: the final counters and what the shutdown looked like.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

import bot as ladderbot  # noqa: E402  (bot.py, after the path is set)
from app.logging import configure_logging  # noqa: E402
from app.settings import Settings  # noqa: E402
from ladder.config import load_ladder_config  # noqa: E402
from tests.reliability.fakes import (  # noqa: E402
    BUSY_TEXT,
    RECORD,
    RULES,
    Interaction,
    Snowflakes,
    User,
    handler,
    pick,
    was_apology,
)


class Loops:
    """bot.loops: serve() starts them before the client and stops them first on a signal."""

    def __init__(self, flood: FloodBot) -> None:
        self.flood = flood

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.flood.stop_requested()

    def poke(self) -> None:
        """The leader's lock check on PostgreSQL wakes the deadline loop: there is none."""


class Notifier:
    """Stands in for cogs.matches.Notifier: the flood sends no match messages."""

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109
        return None


class FloodBot:
    """Stands in for cogs.bot.LadderBot: serve() builds it with the real pipeline."""

    options: argparse.Namespace
    instance: FloodBot | None = None

    def __init__(self, *, players, pipeline, **services: Any) -> None:
        FloodBot.instance = self
        opts = self.options
        # What build_bot hands a LadderBot (queue, matches, admin, ...) stays reachable, so
        # build_bot's wiring after the constructor (e.g. ReplayService(core, bot.admin)) works.
        vars(self).update(services)
        self.players = players
        self.pipeline = pipeline
        # Count every record() call on its way to the real writer that serve() made.
        self.writer = pipeline._log
        pipeline._log = self
        self.loops = Loops(self)
        self.notifier = Notifier()
        self.rng = random.Random(opts.seed)
        self.users = [User(opts.uid_base + n, f"flood{n}") for n in range(opts.users)]
        self.records_fd = os.open(
            opts.out / "records.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644
        )
        self.closed = asyncio.Event()
        self.ids = Snowflakes()
        self.started = self.finished = self.recorded = self.accepted = 0
        self.unanswered = self.answered_twice = 0
        # Answered "something went wrong" (/boom, the deliberate bug, not counted) or "busy".
        self.apologies = self.busy = 0
        self.started_after_stop = self.handled_after_stop = 0
        self.stop_at: float | None = None
        self.close_at: float | None = None
        self.recorded_at_stop: int | None = None
        self.running_at_close: int | None = None
        self.max_queue_depth = 0
        self.workers: list[asyncio.Task] = []
        self.ticker: asyncio.Task | None = None

    # --- CommandLog -----------------------------------------------------------------------

    # No slash commands: the flood drives the pipeline directly (build_bot localises none).
    cogs: ClassVar[dict[str, Any]] = {}

    def get_all_application_commands(self) -> list[Any]:
        return []

    def record(self, interaction_id, *rest) -> None:
        dropped = self.writer.stats().dropped
        self.writer.record(interaction_id, *rest)
        accepted = self.writer.stats().dropped == dropped
        os.write(self.records_fd, RECORD.pack(interaction_id, accepted))
        self.recorded += 1
        self.accepted += accepted

    # --- what serve() calls -----------------------------------------------------------------

    async def start(self, token: str) -> None:
        self.workers = [
            asyncio.create_task(self._worker(), name=f"flood-{n}")
            for n in range(self.options.workers)
        ]
        self.ticker = asyncio.create_task(self._ticker(), name="progress")
        # Like nextcord: close() ends the client; handlers already dispatched keep running.
        await self.closed.wait()

    def stop_requested(self) -> None:
        self.stop_at = time.monotonic()
        self.recorded_at_stop = self.recorded

    async def close(self) -> None:
        if self.close_at is None:
            self.close_at = time.monotonic()
            self.running_at_close = self.pipeline._running
        self.closed.set()

    # --- the flood --------------------------------------------------------------------------

    async def _worker(self) -> None:
        limit = self.options.commands
        while not self.closed.is_set() and (not limit or self.started < limit):
            self.started += 1
            if self.stop_at is not None:
                self.started_after_stop += 1
            user = self.rng.choice(self.users)
            command = pick(self.rng)
            guild = None if self.rng.randrange(10) else 42
            interaction = Interaction(self.ids.next(), user, command, guild)
            # A command that entered the pipeline before the stop may finish after it; only
            # one that entered after the stop must never reach its handler.
            entered_after_stop = self.stop_at is not None
            handle = handler(
                self.players,
                interaction,
                command,
                self.rng,
                functools.partial(self._handling, entered_after_stop),
            )
            await self.pipeline.run(interaction, RULES[command], handle)
            self.finished += 1
            answers = len(interaction.response.messages)
            self.unanswered += answers == 0
            self.answered_twice += answers > 1
            self.apologies += command != "boom" and was_apology(interaction)
            self.busy += BUSY_TEXT in interaction.response.text()
            await asyncio.sleep(0)  # a gateway dispatch yields between events

    def _handling(self, entered_after_stop: bool) -> None:
        if entered_after_stop:
            self.handled_after_stop += 1

    # --- progress ---------------------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        stats = dataclasses.asdict(self.writer.stats())
        self.max_queue_depth = max(self.max_queue_depth, stats["queue_depth"])
        return {
            "time": time.time(),
            "pid": os.getpid(),
            "started": self.started,
            "finished": self.finished,
            "recorded": self.recorded,
            "accepted": self.accepted,
            "apologies": self.apologies,
            "busy": self.busy,
            "max_queue_depth": self.max_queue_depth,
            **{f"writer_{k}": v for k, v in stats.items()},
        }

    async def _ticker(self) -> None:
        path = self.options.out / "progress.json"
        while True:
            write_json(path, self.counters())
            await asyncio.sleep(self.options.tick)


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


async def run(opts: argparse.Namespace) -> int:
    settings = Settings(
        token="flood-driver",
        database_path=opts.db,
        database_url=opts.database_url,
        data_dir=REPO_ROOT / "data",
        admin_ids=frozenset(),
        dm_only=True,
        # The flood is Discord's; FloodBot has no website to serve (nor a port 8080 to take).
        web_enabled=False,
    )
    ladder = load_ladder_config(settings.ladder_config_path)
    FloodBot.options = opts
    # Everything else in serve() is the real thing.
    ladderbot.LadderBot = FloodBot  # type: ignore[misc, assignment]  # the subclass, swapped in
    started = time.monotonic()
    status = await ladderbot.serve(settings, ladder)
    ended = time.monotonic()
    flood = FloodBot.instance
    assert flood is not None
    # Commands still running now would be cut off by the process exit (none are expected).
    await asyncio.sleep(0)
    tasks = [*flood.workers, *([flood.ticker] if flood.ticker else [])]
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
    os.close(flood.records_fd)
    report = {
        **flood.counters(),
        "status": status,
        "target": opts.commands,
        "recorded_at_stop": flood.recorded_at_stop,
        "started_after_stop": flood.started_after_stop,
        "handled_after_stop": flood.handled_after_stop,
        "running_at_close": flood.running_at_close,
        "unanswered": flood.unanswered,
        "answered_twice": flood.answered_twice,
        "unfinished": flood.started - flood.finished,
        "seconds_stop_to_close": (
            flood.close_at - flood.stop_at if flood.stop_at and flood.close_at else None
        ),
        "seconds_stop_to_exit": ended - flood.stop_at if flood.stop_at else None,
        "seconds_total": ended - started,
    }
    write_json(opts.out / "report.json", report)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the driver's files")
    parser.add_argument("--database-url", default=None, help="postgresql://...: run on PostgreSQL")
    parser.add_argument("--commands", type=int, default=0, help="stop sending after N (0: never)")
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--uid-base", type=int, default=10**17)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tick", type=float, default=0.02, help="progress.json every S seconds")
    parser.add_argument("--log-level", default="INFO")
    opts = parser.parse_args()
    opts.out.mkdir(parents=True, exist_ok=True)
    configure_logging(opts.log_level)
    logging.getLogger("flood").info("flood driver pid %d", os.getpid())
    return asyncio.run(run(opts))


if __name__ == "__main__":
    sys.exit(main())
