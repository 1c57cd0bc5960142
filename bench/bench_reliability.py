"""Reliability, the long runs: the figures behind tests/reliability, at full size.

A  clean stop under load: tests/reliability/flood_driver.py (bot.serve() itself, with the real
   Database, CommandLogWriter, PlayerRepository and CommandPipeline) floods --commands
   commands from 50 tasks; SIGTERM, then SIGINT, arrives once --signal-at were recorded.
   Every record() call is logged by the driver as it happens; the rows are then counted.
B  --cycles SIGKILLs mid-flood on one database file: integrity_check after each, rows lost
   against the bound from the driver's side file (recorded - written at the last snapshot),
   Database.open and a restart every time; the worst case is the most rows lost in one kill.
C  long database faults in-process while commands keep coming: another process holding the
   write lock for --lock-seconds, the connection read-only (PRAGMA query_only) for
   --readonly-seconds under a flood larger than the queue bound: answers, answer times,
   retries, drops, queue depth, memory (RSS and tracemalloc), and the drain once it clears.
D  answer time of N player writes arriving together while another process holds the lock.

  python bench/bench_reliability.py [--commands 100000] [--cycles 20] [--lock-seconds 5]
      [--readonly-seconds 30] [--out bench/results/reliability.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from storage.database import BUSY_TIMEOUT_MS  # noqa: E402
from tests.reliability.fakes import BUSY_TEXT, WRITES, Stack, User, was_apology  # noqa: E402
from tests.reliability.processes import (  # noqa: E402
    FloodProcess,
    integrity,
    logged_ids,
    torn_player_writes,
)

LINES: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    LINES.append(line)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- A: clean stop under load ------------------------------------------------------------


def clean_stop(base: Path, commands: int, signal_at: int, sig: signal.Signals) -> None:
    out = base / f"stop-{sig.name}-{commands}"
    flood = FloodProcess(out / "ladder.db", out, commands=commands).start()
    try:
        flood.wait_for(lambda p: p["recorded"] >= signal_at, f"{signal_at} recorded", 600)
        sent_at = time.monotonic()
        status = flood.stop(sig, within=600)
        exit_s = time.monotonic() - sent_at
    finally:
        flood.kill()
    r = flood.report()
    records = flood.records()
    logged = logged_ids(out / "ladder.db")
    recorded = {i for i, _ in records}
    dropped = sum(not a for _, a in records)
    missing = len(recorded - set(logged))
    dupes = sum(n > 1 for n in Counter(logged).values())
    rate = r["recorded"] / r["seconds_total"]
    endless = " (a flood that never ends)" if not commands else ""
    say(f"A {sig.name}{endless}: exit {status}; {r['recorded']:,} commands recorded "
        f"({signal_at:,} when signalled, {r['recorded_at_stop']:,} when serve() began to stop), "
        f"{len(logged):,} rows in command_calls, missing {missing}, duplicated {dupes}, "
        f"dropped {dropped}, writer lost {r['writer_lost']}")  # fmt: skip
    say(f"  commands taken after the signal {r['started_after_stop']:,} (handlers run "
        f"{r['handled_after_stop']:,}); still running when the client closed "
        f"{r['running_at_close']}; unanswered {r['unanswered']}; wait_idle waited "
        f"{r['seconds_stop_to_close']:.2f} s; signal → exit {exit_s:.2f} s; flood "
        f"{rate:,.0f} commands/s overall; deepest log queue {r['max_queue_depth']:,}; "
        f"integrity {integrity(out / 'ladder.db')[0]}")  # fmt: skip


# --- B: SIGKILL cycles ---------------------------------------------------------------------


def recorded_at_least(count: int) -> Callable[[dict[str, Any]], bool]:
    """A flood's progress check: `count` commands recorded and the writer has written."""
    return lambda p: p["recorded"] >= count and p["writer_written"] > 0


def kill_cycles(base: Path, cycles: int) -> None:
    db = base / "kills" / "ladder.db"
    rng = random.Random(2026)
    known: set[int] = set()
    results = []
    started = time.monotonic()
    for cycle in range(cycles):
        flood = FloodProcess(db, base / "kills" / f"run{cycle}", seed=cycle + 1).start()
        after = rng.randrange(500, 20_000)
        try:
            flood.wait_for(recorded_at_least(after), f"{after} recorded", 600)
            flood.kill()
        finally:
            flood.kill()
        last = flood.progress()
        assert last is not None
        records = flood.records()
        recorded = {i for i, _ in records}
        known |= recorded
        check, keys = integrity(db)
        torn = torn_player_writes(db)
        ids = logged_ids(db)
        in_db = len(recorded & set(ids))
        lost = len(recorded) - in_db
        bound = len(recorded) - last["writer_written"]
        ok = (
            check == "ok"
            and not keys
            and not torn
            and len(ids) == len(set(ids))
            and set(ids) <= known
            and in_db >= last["writer_written"]
            and lost <= bound
        )
        results.append((cycle, len(recorded), lost, bound, ok))
        if not ok:
            say(
                f"B cycle {cycle}: FAILED check={check} keys={keys[:3]} torn={torn[:3]} "
                f"in_db={in_db} written_seen={last['writer_written']} lost={lost} bound={bound}"
            )
    elapsed = time.monotonic() - started
    worst = max(results, key=lambda r: r[2])
    say(f"B {cycles} SIGKILL cycles in {elapsed:.0f} s: all checks ok: "
        f"{all(r[4] for r in results)}; commands recorded {sum(r[1] for r in results):,}, "
        f"lost {sum(r[2] for r in results):,} (only rows not yet committed)")  # fmt: skip
    say(f"  worst case: cycle {worst[0]}, {worst[2]:,} rows lost of {worst[1]:,} recorded "
        f"(bound from the side file {worst[3]:,}); lost per kill: median "
        f"{statistics.median(r[2] for r in results):,.0f}, max {worst[2]:,}")  # fmt: skip
    say("  per cycle (recorded/lost/bound): "
        + ", ".join(f"{r[1]}/{r[2]}/{r[3]}" for r in results))  # fmt: skip


# --- C and D: faults in-process ------------------------------------------------------------

HOLD = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
    "conn.execute('ROLLBACK')\n"
)


async def hold_lock(path: Path) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD, str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and await proc.stdout.readline() == b"locked\n"
    return proc


async def release(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    await proc.wait()


async def drain(stack: Stack, within: float = 120) -> float:
    """Seconds until the writer holds no row (polling its counters)."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if not stack.writer.stats().queue_depth:
            break
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def steady_players(stack: Stack, users: list[User], until: float, gap: tuple[float, float]):
    rng = random.Random(4)

    async def one(user: User):
        sent = []
        while time.monotonic() < until:
            command = rng.choice(("help", "profile", "setcountry", "termsofservice", "help"))
            sent.append(await stack.run(user, command))
            await asyncio.sleep(min(rng.uniform(*gap), max(until - time.monotonic(), 0)))
        return sent

    return [s for batch in await asyncio.gather(*(one(u) for u in users)) for s in batch]


def answer_summary(sent) -> str:
    times = sorted(s.seconds for s in sent)
    writes = [s for s in sent if s.command in WRITES]
    busy = sum(BUSY_TEXT in s.text for s in writes)
    bad = sum(s.answers != 1 or was_apology(s.interaction) for s in sent)
    late = sum(t >= 3.0 for t in times)
    return (f"{len(sent):,} commands, {len(writes)} player writes ({busy} answered busy), "
            f"unanswered/apologies {bad}, answer p50 {times[len(times) // 2] * 1000:.0f} ms, "
            f"max {times[-1] * 1000:.0f} ms, over 3 s {late}")  # fmt: skip


async def long_lock(base: Path, seconds: float) -> None:
    stack = await Stack.open(base / "lock" / "ladder.db")
    users = [User(10**17 + n, f"p{n}") for n in range(20)]
    for u in users:
        await stack.run(u, "accept")
    proc = await hold_lock(stack.db.path)
    sent = await steady_players(stack, users, time.monotonic() + seconds, (0.5, 1.5))
    during = stack.writer.stats()
    await release(proc)
    drained = await drain(stack)
    after = stack.writer.stats()
    rows = (await stack.db.fetchone("SELECT count(*) FROM command_calls"))[0]
    await stack.close()
    say(f"C lock held by another process for {seconds:.0f} s, 20 players (a command every "
        f"0.5–1.5 s): {answer_summary(sent)}")  # fmt: skip
    say(
        f"  log writer: {during.failed_batches} failed batches, {during.queue_depth} rows "
        f"waiting at the end of the fault; drained {drained:.2f} s after it cleared; rows "
        f"{rows:,} = accepted {after.enqueued:,}; dropped {after.dropped}, lost {after.lost}"
    )


async def long_readonly(base: Path, seconds: float) -> None:
    stack = await Stack.open(base / "ro" / "ladder.db")  # bot.py's writer: max_queue 100,000
    users = [User(10**17 + n, f"p{n}") for n in range(20)]
    for u in users:
        await stack.run(u, "accept")
    warnings: list[logging.LogRecord] = []
    counter = logging.Handler(logging.WARNING)
    counter.emit = warnings.append  # type: ignore[method-assign, assignment]
    writer_log = logging.getLogger("storage.command_log")
    writer_log.addHandler(counter)
    writer_log.setLevel(logging.WARNING)  # counted here, not printed
    writer_log.propagate = False
    await stack.db.conn.execute("PRAGMA query_only = ON")
    tracemalloc.start()
    rss0, traced0 = rss_kb(), tracemalloc.get_traced_memory()[0]
    until = time.monotonic() + seconds
    flooder = User(10**17 - 1, "flooder")
    depths, samples = [], []

    async def flood() -> int:
        n = 0
        while time.monotonic() < until:
            for _ in range(200):
                await stack.run(flooder, "help")
                n += 1
            depths.append(stack.writer.stats().queue_depth)
            samples.append((rss_kb(), tracemalloc.get_traced_memory()[0]))
            await asyncio.sleep(0)
        return n

    flooded, sent = await asyncio.gather(flood(), steady_players(stack, users, until, (0.5, 1.5)))
    during = stack.writer.stats()
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    await stack.db.conn.execute("PRAGMA query_only = OFF")
    drained = await drain(stack)
    after = stack.writer.stats()
    rows = (await stack.db.fetchone("SELECT count(*) FROM command_calls"))[0]
    await stack.close()
    full_at = next((i for i, d in enumerate(depths) if d >= 100_000), None)
    later = samples[full_at:] if full_at is not None else []
    say(f"C read-only (PRAGMA query_only) for {seconds:.0f} s under a flood: {flooded:,} /help "
        f"from one task + 20 players: {answer_summary(sent)}")  # fmt: skip
    writer_log.removeHandler(counter)
    writer_log.propagate = True
    drops = sum("drop" in w.getMessage().lower() for w in warnings)
    failures = sum("cannot write" in w.getMessage() for w in warnings)
    say(f"  log queue: deepest {max(depths):,} (bound 100,000 + one batch of up to 4,096 "
        f"being retried); dropped {during.dropped:,}; {during.failed_batches} failed batches; "
        f"WARNINGs: {failures} about the failing writes, {drops} about the drops")  # fmt: skip
    if later:
        say(
            f"  memory once the queue was full: RSS {later[0][0] / 1024:.1f} → "
            f"{later[-1][0] / 1024:.1f} MiB, traced {later[0][1] / 2**20:.1f} → "
            f"{later[-1][1] / 2**20:.1f} MiB over {len(later) * 200:,} more commands (dropped)"
        )
    say(f"  memory from the start of the fault: RSS +{(samples[-1][0] - rss0) / 1024:.1f} MiB, "
        f"traced +{(samples[-1][1] - traced0) / 2**20:.1f} MiB (peak "
        f"{traced_peak / 2**20:.1f} MiB): the queued rows themselves")  # fmt: skip
    say(f"  after it cleared: drained {after.written - during.written:,} rows in {drained:.2f} s; "
        f"rows {rows:,} = accepted {after.enqueued:,}; lost {after.lost}")  # fmt: skip


async def bursts(base: Path) -> None:
    stack = await Stack.open(base / "burst" / "ladder.db")
    users = [User(10**17 + n, f"p{n}") for n in range(40)]
    for u in users:
        await stack.run(u, "accept")
    proc = await hold_lock(stack.db.path)
    parts = []
    for n in (1, 5, 10, 15, 20, 40):
        sent = await asyncio.gather(*(stack.run(u, "setcountry") for u in users[:n]))
        parts.append(f"{n}: {max(s.seconds for s in sent) * 1000:.0f} ms")
    await release(proc)
    await stack.close()
    say(f"D N player writes at once under another process's lock (busy_timeout "
        f"{BUSY_TIMEOUT_MS} ms each, serialised by the bot's write lock), slowest answer: "
        + ", ".join(parts))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--signal-at", type=int, help="default: 90%% of --commands")
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--lock-seconds", type=float, default=5.0)
    parser.add_argument("--readonly-seconds", type=float, default=30.0)
    parser.add_argument("--only", default="ABCD", help="which parts to run, e.g. AB")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench/results/reliability.txt")
    args = parser.parse_args()
    args.signal_at = args.signal_at or args.commands * 9 // 10
    # The in-process parts log a WARNING per refused write and per slow command: not here.
    logging.basicConfig(level=logging.ERROR)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    say(f"ladderbot reliability benchmark, {now}")
    say(f"command: python bench/bench_reliability.py {' '.join(sys.argv[1:])}".rstrip())
    say(f"machine: Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores (shared)")  # fmt: skip
    say()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ladderbot-reliability-") as tmp:
        base = Path(tmp)
        if "A" in args.only:
            for sig in (signal.SIGTERM, signal.SIGINT):
                clean_stop(base, args.commands, args.signal_at, sig)
            # And with commands still arriving for as long as serve() lets them in.
            clean_stop(base, 0, args.commands * 3 // 10, signal.SIGTERM)
            say()
        if "B" in args.only:
            kill_cycles(base, args.cycles)
            say()
        if "C" in args.only:
            asyncio.run(long_lock(base, args.lock_seconds))
            asyncio.run(long_readonly(base, args.readonly_seconds))
            say()
        if "D" in args.only:
            asyncio.run(bursts(base))
            say()
    load = os.getloadavg()
    say(f"total {time.monotonic() - started:.0f} s; load average at the end "
        f"{load[0]:.1f}/{load[1]:.1f}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
