"""Crashes: SIGKILL in the middle of a flood, again and again, on the same database.

Each cycle starts flood_driver.py (bot.serve() with the real database, log writer, player
repository and pipeline) on the file the previous cycle left, waits a random while into the
flood, and SIGKILLs it: no signal handler, no drain, no close. Then:

* `PRAGMA integrity_check` is ok and `foreign_key_check` is empty, on the file as left;
* no player row disagrees with its last logged change (both are one transaction);
* no command_calls row is duplicated or unknown, and every row the writer had reported
  written (the driver's side file, written every 20 ms) is there: committed means durable;
* the rows lost are exactly the recorded rows not yet committed, so at most the rows still
  queued at the kill (recorded - written at the last side-file snapshot), and never more than
  the queue can hold;
* `Database.open` opens the file again, and the next cycle's driver starts and writes.

After the last cycle one more run is stopped cleanly and loses nothing. The worst case (most
rows lost in one kill) is printed; bench/bench_reliability.py runs 20 cycles.
"""

from __future__ import annotations

import asyncio
import random
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.database import Database, migrations
from tests.reliability.processes import (
    FloodProcess,
    integrity,
    logged_ids,
    torn_player_writes,
)

pytestmark = pytest.mark.e2e

CYCLES = 3
MAX_QUEUE = 100_000  # CommandLogWriter's default, as bot.py builds it
MAX_BATCH = 4096


@dataclass
class Kill:
    cycle: int
    recorded: int  # record() calls before the kill (records.bin)
    written_seen: int  # written, at the last side-file snapshot before the kill
    in_db: int  # this run's rows found in command_calls afterwards
    lost: int  # recorded - in_db

    @property
    def queued_bound(self) -> int:
        return self.recorded - self.written_seen


async def reopen(path: Path) -> int:
    db = await Database.open(path)
    try:
        return await db.schema_version()
    finally:
        await db.close()


def kill_cycle(db: Path, out: Path, cycle: int, rng: random.Random, known: set[int]) -> Kill:
    """One run killed mid-flood; checks the file it leaves. `known`: ids recorded so far."""
    flood = FloodProcess(db, out, seed=cycle + 1).start()
    try:
        after = rng.randrange(500, 3_000)
        flood.wait_for(
            lambda p: p["recorded"] >= after and p["writer_written"] > 0,
            f"{after} commands recorded and some written",
        )
        last = flood.progress()
        flood.kill()
        last = flood.progress() or last  # the last snapshot the driver managed to write
    finally:
        flood.kill()
    assert last is not None
    records = flood.records()
    recorded = {i for i, _ in records}
    assert all(accepted for _, accepted in records), "the writer dropped rows while running"
    assert len(recorded) == len(records), "an interaction id was recorded twice"

    assert integrity(db) == ("ok", []), f"cycle {cycle}: the file is damaged"
    assert torn_player_writes(db) == [], f"cycle {cycle}: a half-applied player write"
    ids = logged_ids(db)
    assert len(ids) == len(set(ids)), f"cycle {cycle}: duplicate command_calls rows"
    known |= recorded
    assert set(ids) <= known, f"cycle {cycle}: rows nobody recorded"
    in_db = len(recorded & set(ids))
    kill = Kill(cycle, len(recorded), last["writer_written"], in_db, len(recorded) - in_db)
    assert kill.in_db >= kill.written_seen, (
        f"cycle {cycle}: {kill.written_seen - kill.in_db} rows reported written are gone"
    )
    assert kill.lost <= kill.queued_bound, kill
    assert kill.lost <= MAX_QUEUE + MAX_BATCH, kill
    assert asyncio.run(reopen(db)) == len(migrations())
    return kill


def test_sigkill_mid_flood_keeps_the_file_whole_and_loses_only_queued_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ladder.db"
    rng = random.Random(20)
    known: set[int] = set()
    kills = [kill_cycle(db, tmp_path / f"run{n}", n, rng, known) for n in range(CYCLES)]

    # And the bot runs on: a last run, stopped cleanly, loses nothing.
    final = FloodProcess(db, tmp_path / "final", commands=1_000, seed=99).start()
    try:
        final.wait_for(lambda p: p["recorded"] >= 300, "the restarted driver to run commands")
        assert final.stop(signal.SIGTERM) == 0, final.log_tail()
    finally:
        final.kill()
    ids = set(logged_ids(db))
    assert {i for i, _ in final.records()} <= ids
    assert integrity(db) == ("ok", [])

    worst = max(kills, key=lambda k: k.lost)
    print(
        f"\n{CYCLES} SIGKILLs: recorded {sum(k.recorded for k in kills):,} commands, "
        f"lost {sum(k.lost for k in kills):,} (all uncommitted at the kill); worst case cycle "
        f"{worst.cycle}: {worst.lost:,} lost of {worst.recorded:,} recorded, bound from the "
        f"side file {worst.queued_bound:,}; per cycle lost/bound: "
        + ", ".join(f"{k.lost}/{k.queued_bound}" for k in kills)
    )
