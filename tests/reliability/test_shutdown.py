"""A clean stop under load: SIGTERM or SIGINT in the middle of a flood of commands.

The flood runs in a separate process (flood_driver.py): `bot.serve()` itself, with the real
Database, CommandLogWriter, PlayerRepository and CommandPipeline, and 50 tasks pushing commands
through `CommandPipeline.run` as fast as the loop takes them (a fifth of them player writes that
compete with the log writer for the write lock). The signal arrives once 3,000 of the 10,000
commands were recorded; the driver logs each record() call to a file as it happens.

Each run is shared by the tests below (one driver per signal, and a SIGTERM on PostgreSQL, where
the driver runs on DATABASE_URL: the pool, the COPY writer, the cache listener and the leader
lock of the real bot), so that one broken promise does not hide the others.
bench/bench_reliability.py runs the same with 100,000 commands.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.processes import FloodProcess, integrity, logged_ids
from tests.support.backends import postgres_databases, postgres_server

__all__ = ["postgres_server"]  # the fixture, for the PostgreSQL run

pytestmark = pytest.mark.e2e

COMMANDS = 10_000
SIGNAL_AFTER = 3_000
WORKERS = 50


@dataclass(frozen=True)
class Run:
    sig: signal.Signals
    backend: str = "sqlite"

    def __str__(self) -> str:
        return self.sig.name if self.backend == "sqlite" else f"{self.sig.name}-{self.backend}"


RUNS = [Run(signal.SIGTERM), Run(signal.SIGINT), Run(signal.SIGTERM, "postgresql")]


@dataclass
class StoppedFlood:
    sig: signal.Signals
    backend: str
    status: int
    at_signal: dict[str, Any]
    report: dict[str, Any]
    records: list[tuple[int, bool]]
    logged: list[int]
    db: Path
    log: str


@pytest.fixture(scope="module", params=RUNS, ids=str)
def stopped_flood(request, tmp_path_factory: pytest.TempPathFactory) -> StoppedFlood:
    run: Run = request.param
    sig = run.sig
    out = tmp_path_factory.mktemp(f"flood-{run}")
    url = None
    if run.backend == "postgresql":
        url = asyncio.run(postgres_databases(request.getfixturevalue("postgres_server")).new_url())
    flood = FloodProcess(
        out / "ladder.db", out, commands=COMMANDS, workers=WORKERS, database_url=url
    ).start()
    try:
        at_signal = flood.wait_for(
            lambda p: p["recorded"] >= SIGNAL_AFTER, f"{SIGNAL_AFTER} commands recorded"
        )
        status = flood.stop(sig)
    finally:
        flood.kill()
    stopped = StoppedFlood(
        sig, run.backend, status, at_signal, flood.report(), flood.records(),
        logged_ids(url or flood.db), flood.db, flood.log_text(),
    )  # fmt: skip
    r = stopped.report
    print(
        f"\n{run}: {r['recorded']:,} commands recorded ({at_signal['recorded']:,} when the "
        f"signal was sent, {r['recorded_at_stop']:,} when serve() began to stop), "
        f"{len(stopped.logged):,} rows in command_calls, dropped {r['writer_dropped']}, "
        f"lost {r['writer_lost']}; {r['started_after_stop']:,} commands taken after the signal, "
        f"{r['running_at_close']} still running when the client closed, "
        f"stop→exit {r['seconds_stop_to_exit']:.2f} s"
    )
    return stopped


def test_the_stop_is_clean(stopped_flood: StoppedFlood) -> None:
    s = stopped_flood
    assert s.status == 0, s.log[-4000:]
    assert "Stopped cleanly" in s.log
    assert s.report["recorded_at_stop"] < COMMANDS, "the signal must arrive mid-flood"
    if s.backend == "sqlite":
        assert integrity(s.db) == ("ok", [])
    else:
        assert not s.db.exists(), "on PostgreSQL nothing goes to an SQLite file"
    errors = [
        line
        for line in s.log.splitlines()
        if " ERROR " in line and "Unexpected error in /boom" not in line
    ]
    assert not errors, errors  # /boom is the driver's deliberate bug; nothing else


def test_every_recorded_command_is_in_command_calls_once(stopped_flood: StoppedFlood) -> None:
    s = stopped_flood
    recorded = [i for i, _ in s.records]
    dropped = [i for i, accepted in s.records if not accepted]
    assert len(recorded) == s.report["recorded"] > SIGNAL_AFTER
    assert not dropped, f"{len(dropped)} record() calls were dropped by the writer"
    duplicates = [i for i, n in Counter(s.logged).items() if n > 1]
    assert not duplicates
    missing = set(recorded) - set(s.logged)
    assert not missing, f"{len(missing)} recorded commands are not in command_calls"
    assert set(s.logged) == set(recorded)
    stats = s.report
    assert (stats["writer_lost"], stats["writer_dropped"], stats["writer_queue_depth"]) == (0, 0, 0)
    assert stats["writer_written"] == len(recorded)


def test_every_command_was_answered_once(stopped_flood: StoppedFlood) -> None:
    r = stopped_flood.report
    assert r["unanswered"] == 0
    assert r["answered_twice"] == 0
    assert r["unfinished"] == 0, "commands were still running when the process exited"
    assert r["started"] == r["finished"] == r["recorded"]


def test_the_stop_takes_no_new_commands_and_lets_the_running_ones_finish(
    stopped_flood: StoppedFlood,
) -> None:
    """bot.py's promise (its docstring, docs/operations.md): "On SIGTERM or SIGINT the bot stops
    taking commands, lets running ones finish (up to 5 s), drains the command log ...".

    `handled_after_stop`: handlers of commands that entered the pipeline after the stop began.
    `running_at_close`: commands still running when serve() closed the Discord client; on the
    real bot their answers can no longer reach Discord (the player sees "This interaction
    failed" although the command may have written).
    """
    r = stopped_flood.report
    assert r["handled_after_stop"] == 0, (
        f"{r['handled_after_stop']:,} commands were run after the stop signal: serve() keeps "
        f"the gateway open while pipeline.wait_idle() waits for running commands, so new ones "
        f"keep arriving (it waited {r['seconds_stop_to_close']:.1f} s of its 5 s)"
    )
    assert r["running_at_close"] == 0, f"{r['running_at_close']} commands cut off at bot.close()"
