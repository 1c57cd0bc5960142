"""Database faults while commands keep coming: locked by another process, read-only, disk full.

In-process, with the objects bot.serve() builds (fakes.Stack: the real Database, CommandLogWriter
with bot.py's settings, PlayerRepository and CommandPipeline). Players keep sending commands
through `CommandPipeline.run` during the fault: reads, player writes (/setcountry,
/termsofservice), refusals. Then the fault clears. Every command must be answered once, within
Discord's 3 s, never with the apology for a bug; a player write that cannot be made gets
StorageBusyError's message; the log writer retries (one WARNING, not one per attempt) and, once
the fault clears, every row it holds lands.

How each fault is made (the tests run as root, and chmod does not stop root):

* locked: another process (python + sqlite3) holds `BEGIN IMMEDIATE` on the file;
* read-only: `PRAGMA query_only = ON` on the bot's connection: SQLite refuses every write with
  SQLITE_READONLY, the error a read-only file gives. (A read-only remount is no substitute:
  Linux refuses it, "mount point is busy", for a plain or a bind mount alike, while the bot
  holds the file open for writing; checked here as root with tmpfs.)
* disk full, two ways: `PRAGMA max_page_count` pinned to the file's size (SQLITE_FULL from
  SQLite's own limit), and a real one: the database on a small tmpfs whose free space is
  filled (ENOSPC from the kernel; skipped where mounting is not permitted).

bench/bench_reliability.py holds longer faults (5 s lock, 30 s read-only, 100k rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ladder.guards import REFUSALS, Access
from storage.database import BUSY_TIMEOUT_MS
from tests.reliability.fakes import BUSY_TEXT, RULES, WRITES, Sent, Stack, User, was_apology

DISCORD_DEADLINE = 3.0
FAULT_SECONDS = 2.0
LOG = "storage.command_log"
ANSWERS = {  # what a successful command says (fakes.handler)
    "help": "help",
    "profile": "profile of",
    "termsofservice": "terms saved",
    "accept": "terms saved",
    "setcountry": "country saved",
}


# --- faults -------------------------------------------------------------------------------


class Fault:
    name = ""
    error = ""  # in the writer's last_error while the fault lasts
    writes_fail = True  # every player write fails (a full disk may still take an UPDATE)

    async def folder(self, tmp_path: Path) -> Path:
        return tmp_path

    async def apply(self, stack: Stack) -> None: ...

    async def clear(self, stack: Stack) -> None: ...

    async def cleanup(self) -> None: ...


class LockedByAnotherProcess(Fault):
    name, error = "locked", "database is locked"
    HOLD = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"  # until the test closes our stdin
        "conn.execute('ROLLBACK')\n"
    )

    async def apply(self, stack: Stack) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", self.HOLD, str(stack.db.path),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        assert await self.proc.stdout.readline() == b"locked\n"

    async def clear(self, stack: Stack) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert await self.proc.wait() == 0

    async def cleanup(self) -> None:
        if getattr(self, "proc", None) is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


class ReadOnly(Fault):
    name, error = "read-only", "readonly"

    async def apply(self, stack: Stack) -> None:
        await stack.db.conn.execute("PRAGMA query_only = ON")

    async def clear(self, stack: Stack) -> None:
        await stack.db.conn.execute("PRAGMA query_only = OFF")


class DiskFullPageCount(Fault):
    name, error, writes_fail = "full (max_page_count)", "full", False

    async def apply(self, stack: Stack) -> None:
        pages = (await stack.db.fetchone("PRAGMA page_count"))[0]
        await stack.db.conn.execute(f"PRAGMA max_page_count = {pages}")

    async def clear(self, stack: Stack) -> None:
        await stack.db.conn.execute("PRAGMA max_page_count = 1073741823")


class DiskFullTmpfs(Fault):
    """A real full disk: a 16 MiB tmpfs, its free space taken by a filler file."""

    name, error = "full (tmpfs)", "full"
    mount: Path | None = None  # set while mounted

    async def folder(self, tmp_path: Path) -> Path:
        self.mount = tmp_path / "tmpfs"
        self.mount.mkdir()
        done = await asyncio.to_thread(
            subprocess.run,
            ["mount", "-t", "tmpfs", "-o", "size=16m", "ladderbot-test", str(self.mount)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            self.mount = None
            # As root (CI runs so) a failed mount is a failure, never a skip.
            assert os.geteuid() != 0, f"mount -t tmpfs failed as root: {done.stderr.strip()}"
            pytest.skip("mounting a tmpfs needs root (CI runs as root and runs this); the "
                        "max_page_count variant covers the same code path")  # fmt: skip
        return self.mount

    async def apply(self, stack: Stack) -> None:
        # An empty WAL: every commit must then grow a file on the full file system.
        await stack.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.filler = self.mount / "filler"
        chunk = b"\0" * 65536
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while chunk:
                try:
                    os.write(fd, chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    chunk = chunk[: len(chunk) // 2]
        finally:
            os.close(fd)

    async def clear(self, stack: Stack) -> None:
        self.filler.unlink()

    async def cleanup(self) -> None:
        if getattr(self, "mount", None) is not None:
            await asyncio.to_thread(subprocess.run, ["umount", "-l", str(self.mount)], check=False)


FAULTS = [LockedByAnotherProcess, ReadOnly, DiskFullPageCount, DiskFullTmpfs]


@contextlib.asynccontextmanager
async def faulty_stack(fault: Fault, tmp_path: Path, **writer: object) -> AsyncIterator[Stack]:
    folder = await fault.folder(tmp_path)
    stack = await Stack.open(folder / "ladder.db", **writer)
    try:
        yield stack
    finally:
        with contextlib.suppress(Exception):
            await fault.clear(stack)
        await fault.cleanup()
        await stack.close()


# --- load ---------------------------------------------------------------------------------


async def player(stack: Stack, user: User, until: float, rng: random.Random) -> list[Sent]:
    """One player: a command every 0.5–1.5 s until `until` (a third of them writes)."""
    sent = []
    while time.monotonic() < until:
        command = rng.choice(("help", "profile", "setcountry", "termsofservice", "help", "help"))
        sent.append(await stack.run(user, command))
        await asyncio.sleep(min(rng.uniform(0.5, 1.5), max(until - time.monotonic(), 0)))
    return sent


async def helper(stack: Stack, user: User, until: float) -> list[Sent]:
    """Someone reading /help every 5 ms: enough log rows that the table must grow."""
    sent = []
    while time.monotonic() < until:
        sent.append(await stack.run(user, "help"))
        await asyncio.sleep(0.005)
    return sent


def check_answers(sent: list[Sent], fault: Fault) -> dict[str, int]:
    """Every command answered once, in time, with its own message or StorageBusyError's."""
    counts = {"commands": len(sent), "busy": 0, "slowest_ms": 0}
    for s in sent:
        assert s.answers == 1, (s.command, s.interaction.response.messages)
        assert not was_apology(s.interaction), (s.command, s.text)
        assert s.seconds < DISCORD_DEADLINE, f"/{s.command} answered after {s.seconds:.2f} s"
        counts["slowest_ms"] = max(counts["slowest_ms"], round(s.seconds * 1000))
        if BUSY_TEXT in s.text:
            assert s.command in WRITES, (s.command, s.text)
            counts["busy"] += 1
        elif REFUSALS["terms"] in s.text:  # the player declined the terms (a tenth do)
            assert RULES[s.command].access is Access.TERMS
        else:
            assert ANSWERS[s.command] in s.text, (s.command, s.text)
    return counts


async def rows_land(stack: Stack, within: float = 30.0) -> None:
    """Wait until the writer holds no row (it retries on its own backoff, up to 5 s apart)."""
    limit = time.monotonic() + within
    while time.monotonic() < limit:
        if not stack.writer.stats().queue_depth:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"rows still queued after {within} s: {stack.writer.stats()}")


async def logged_ids(stack: Stack) -> list[int]:
    rows = await stack.db.fetchall("SELECT interaction_id FROM command_calls")
    return [r[0] for r in rows]


def records(caplog: pytest.LogCaptureFixture, logger: str, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno == level]


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("fault_type", FAULTS, ids=lambda f: f.name)
async def test_commands_are_answered_during_a_fault_and_every_queued_row_lands(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fault_type: type[Fault]
) -> None:
    caplog.set_level(logging.INFO)
    fault = fault_type()
    rng = random.Random(3)
    users = [User(10**17 + n, f"player{n}") for n in range(10)]
    async with faulty_stack(fault, tmp_path) as stack:
        # Known players, so that /setcountry and /profile do real work.
        seeded = [await stack.run(user, "accept") for user in users]
        # Their log rows land before the fault: "nothing written during it" counts from here.
        await asyncio.wait_for(stack.writer.written_at_least(stack.writer.stats().enqueued), 10)
        before = stack.writer.stats().written
        await fault.apply(stack)
        until = time.monotonic() + FAULT_SECONDS
        loads = [player(stack, u, until, rng) for u in users]
        loads.append(helper(stack, User(10**17 - 1, "helper"), until))
        sent = [s for batch in await asyncio.gather(*loads) for s in batch]
        during = stack.writer.stats()
        await fault.clear(stack)

        counts = check_answers(sent, fault)
        writes = [s for s in sent if s.command in WRITES]
        # A write that changes nothing (the country it already has) commits nothing and
        # succeeds; a full disk may still take an UPDATE in place. The rest are refused.
        if fault.writes_fail:
            assert counts["busy"] > 0
        assert during.failed_batches >= 1 and fault.error in (during.last_error or "")
        if fault.writes_fail:  # (a full disk still takes a batch that fits in free pages)
            assert during.written == before, "nothing can be written while the fault lasts"
        assert during.dropped == 0

        await rows_land(stack)
        after = await stack.run(users[0], "setcountry")
        assert "country saved" in after.text  # writes work again
        await rows_land(stack)
        ids = await logged_ids(stack)
        assert sorted(ids) == sorted(s.interaction.id for s in [*seeded, *sent, after])
        stats = stack.writer.stats()
        assert (stats.dropped, stats.lost, stats.rejected) == (0, 0, 0)

    warnings = [r.getMessage() for r in records(caplog, LOG, logging.WARNING)]
    assert len(warnings) == 1 and "cannot write" in warnings[0], warnings
    assert [r for r in records(caplog, LOG, logging.INFO) if "writing again" in r.getMessage()]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    print(
        f"\n{fault.name}: {counts['commands']} commands in {FAULT_SECONDS} s from "
        f"{len(users) + 1} players, {len(writes)} player writes "
        f"({counts['busy']} refused as busy), "
        f"slowest answer {counts['slowest_ms']} ms, {during.failed_batches} failed log batches "
        f"({during.queue_depth} rows waiting), 0 lost"
    )


async def test_a_burst_of_writes_during_a_lock_is_answered_within_3_s(tmp_path: Path) -> None:
    """20 player writes arrive together while another process holds the write lock.

    Each write waits BUSY_TIMEOUT_MS (200 ms) for SQLite's lock while holding the bot's own
    asyncio write lock, so the writes fail one after another: the n-th is answered after about
    n × 200 ms. Match buttons (Confirm, reports) are writes too, so a wave of 10 matches is such
    a burst. Discord drops an interaction not answered within 3 s ("This interaction failed").
    """
    fault = LockedByAnotherProcess()
    users = [User(10**17 + n, f"player{n}") for n in range(20)]
    async with faulty_stack(fault, tmp_path) as stack:
        for user in users:
            await stack.run(user, "accept")
        await fault.apply(stack)
        sent = await asyncio.gather(*(stack.run(u, "setcountry") for u in users))
        await fault.clear(stack)
    assert all(BUSY_TEXT in s.text and s.answers == 1 for s in sent)
    slowest = max(s.seconds for s in sent)
    print(f"\n20 writes at once under a lock: slowest answer {slowest * 1000:.0f} ms "
          f"(busy_timeout {BUSY_TIMEOUT_MS} ms each, one after another)")  # fmt: skip
    assert slowest < DISCORD_DEADLINE, (
        f"the last of 20 simultaneous writes was answered after {slowest:.2f} s"
    )


async def test_rows_beyond_the_queue_bound_are_dropped_counted_logged_once_and_memory_stays_flat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A long fault: the queue fills up to its bound; later rows are dropped, not hoarded."""
    caplog.set_level(logging.INFO)
    bound, batch = 1_000, 4096
    fault = ReadOnly()
    user = User(10**17, "flooder")
    async with faulty_stack(fault, tmp_path, max_queue=bound) as stack:
        await fault.apply(stack)
        sent, depths = [], []
        for _ in range(3_000):  # fills the queue (and the batch the writer holds) and more
            sent.append(await stack.run(user, "help"))
            depths.append(stack.writer.stats().queue_depth)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            for n in range(20_000):  # all of these must be dropped, costing no memory
                s = await stack.run(user, "help")
                assert s.answers == 1
                if n % 1000 == 0:
                    depths.append(stack.writer.stats().queue_depth)
            grown = tracemalloc.get_traced_memory()[0] - base
        finally:
            tracemalloc.stop()
        during = stack.writer.stats()
        await fault.clear(stack)
        await rows_land(stack)
        stored = len(await logged_ids(stack))
        final = stack.writer.stats()

    assert all(s.answers == 1 and not was_apology(s.interaction) for s in sent)
    assert max(depths) <= bound + batch, max(depths)  # the queue, plus the batch being retried
    assert during.dropped == 23_000 - during.enqueued > 0
    assert grown < 512 * 1024, f"memory grew by {grown:,} bytes while every row was dropped"
    assert stored == final.written == during.enqueued  # every row that was queued landed
    assert final.lost == 0
    drops = [r.getMessage() for r in caplog.records if r.name == LOG and "drop" in
             r.getMessage().lower()]  # fmt: skip
    print(f"\nqueue bound {bound}: {during.enqueued} rows queued and written after the fault, "
          f"{during.dropped} dropped, deepest queue {max(depths)}, memory growth while dropping "
          f"20,000 rows {grown:,} bytes, drop log lines {len(drops)}")  # fmt: skip
    assert len(drops) == 1, (
        f"{during.dropped} rows were dropped and the log says so {len(drops)} times: "
        "CommandLogWriter.record() counts drops (stats().dropped) but never logs them"
    )
    assert f"{bound}" in drops[0] or "full" in drops[0].lower()
