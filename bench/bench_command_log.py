"""Benchmark: three ways to log a command to `command_calls`, side by side in one run.

  A  await an INSERT + COMMIT per command through the bot's aiosqlite connection (db.transaction)
  B  asyncio.create_task + loop.run_in_executor(sync INSERT + COMMIT) per command (the seed design)
  C  storage.command_log.CommandLogWriter: record() onto a deque, one batched writer task

Each run gets a fresh SQLite file opened with `Database.open` (the real migrations: the real
command_calls table and its three indexes) and the same rows, written with the same INSERT text.
`--tasks` tasks share the commands; each logs one command, then yields (`await asyncio.sleep(0)`)
like a handler that returns. A ticker task sleeps 1 ms in a loop and records its overshoot.

Per variant: hot path p50/p99 (time a command spends logging: A the awaited insert, B the
create_task call, C record()), rows/s committed (first record -> every row committed, i.e. for C
until close() has drained), "during" (rows committed while the producers still ran), writer/s
(the rows left when the producers stopped / the time to commit them: the writer's own rate),
loop lag p99/max, rows lost (expected - rows in the table afterwards).
Every variant runs --repeat times, interleaved; the table shows the median run of each metric.

Why two rates: while 50 tasks keep the event loop busy, CPython's GIL goes to the loop thread
whenever it asks (it releases and retakes it around every select()), so a thread waiting for it
(aiosqlite's, B's executor threads) barely runs: "during" is ~0 for C. A bot's loop is idle
between Discord events, so writer/s is what the bot gets; rows/s shows the worst case.

Reference rows: "idle loop" is the ticker alone (this machine's own scheduling noise), and
"S sqlite3 ceiling" inserts the same rows with the same statements and batches as C from one
thread with no event loop: the most C could reach here. --variants adds C tuning variants.

    python bench/bench_command_log.py [--commands 100000] [--tasks 50] [--baseline-commands 5000]
        [--players 500] [--repeat 3] [--variants]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pg_server import bench_server, server_settings
from storage import command_log
from storage.command_log import CommandLogWriter, CommandRow
from storage.database import BUSY_TIMEOUT_MS, CONNECTION_PRAGMAS, Database
from storage.postgres import ROWS_TABLE, PostgresDatabase
from storage.postgres_command_log import COLUMNS, PostgresCommandLogWriter, copy_record

DISCORD_EPOCH_MS = 1420070400000
COMMANDS = ["ladder queue", "setup", "profile", "admin resolve", "report win", "leaderboard"]
ROW_SQL = command_log._insert_sql(1)  # the writer's own one-row INSERT: same row shape for all


def make_rows(n: int, players: int, seed: int = 1) -> list[tuple]:
    """n command rows (CommandRow) from `players` players, in time order, 10% DMs, ~6% errors."""
    rng = random.Random(seed)
    uids = [rng.randrange(10**17, 10**18) for _ in range(players)]
    start_ms = 1_750_000_000_000 - DISCORD_EPOCH_MS
    rows = []
    for i in range(n):
        player = rng.randrange(players)
        rows.append(
            (
                ((start_ms + i * 3) << 22) | rng.randrange(1 << 22),  # interaction snowflake
                uids[player],
                f"player{player}",
                COMMANDS[i % len(COMMANDS)],
                None if i % 10 == 0 else 987654321098765432,
                rng.random() * 200,
                "ok" if i % 17 else "error",
                "slash",
            )
        )
    return rows


def pct(sorted_values: list[int], q: float) -> int:
    if not sorted_values:
        return 0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


@dataclass
class Result:
    name: str
    commands: int
    hot_p50_us: float | None
    hot_p99_us: float | None
    rows_per_s: float | None
    lag_p99_ms: float | None
    lag_max_ms: float | None
    lost: int | None
    note: str = ""
    cpu_us_per_row: float | None = None  # process CPU time (all threads) per committed row
    # Rows committed while the producers still ran, and the rate at which the rest was committed
    # once they had stopped (the writer then has the GIL to itself but for the ticker).
    during: int | None = None
    writer_rows_per_s: float | None = None
    # PostgreSQL: CPU time of the server processes of the run's database, per committed row,
    # and the WAL the server wrote meanwhile, per committed row.
    server_cpu_us_per_row: float | None = None
    wal_bytes_per_row: float | None = None


@dataclass
class Phases:
    """When the producers stopped, how many rows were committed by then, and the end."""

    produced_ns: int
    committed_then: int
    end_ns: int

    def writer_rate(self, total: int) -> float:
        return (total - self.committed_then) / ((self.end_ns - self.produced_ns) / 1e9)


def result(
    name, rows, hot, elapsed_ns, lags, lost, note="", cpu_s=None, phases: Phases | None = None
) -> Result:
    committed = len(rows) - lost
    return Result(
        name=name,
        commands=len(rows),
        hot_p50_us=pct(hot, 0.50) / 1000,
        hot_p99_us=pct(hot, 0.99) / 1000,
        rows_per_s=(len(rows) - lost) / (elapsed_ns / 1e9),
        lag_p99_ms=pct(lags, 0.99) / 1e6,
        lag_max_ms=(lags[-1] if lags else 0) / 1e6,
        lost=lost,
        note=note,
        cpu_us_per_row=cpu_s / committed * 1e6 if cpu_s is not None and committed else None,
        during=phases.committed_then if phases else None,
        writer_rows_per_s=phases.writer_rate(committed) if phases else None,
    )


class Ticker:
    """Sleeps 1 ms in a loop and records how late it wakes up, in ns."""

    def __init__(self) -> None:
        self.lags: list[int] = []
        self._stop = False
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        pc = time.perf_counter_ns
        while not self._stop:
            t0 = pc()
            await asyncio.sleep(0.001)
            self.lags.append(pc() - t0 - 1_000_000)

    async def stop(self) -> list[int]:
        self._stop = True
        await self._task
        return sorted(self.lags)


async def drive(rows: list[tuple], tasks: int, log_one: Callable, *, awaited: bool) -> list[int]:
    """Run the commands from `tasks` tasks; return each command's logging time in ns, sorted.

    A command times `await log_one(*row)` (A) or `log_one(*row)` (B, C), then yields.
    """
    timings: list[list[int]] = [[] for _ in range(tasks)]

    async def worker(k: int) -> None:
        pc = time.perf_counter_ns
        append = timings[k].append
        for i in range(k, len(rows), tasks):
            row = rows[i]
            if awaited:
                t0 = pc()
                await log_one(*row)
                append(pc() - t0)
            else:
                t0 = pc()
                log_one(*row)
                append(pc() - t0)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(k) for k in range(tasks)))
    return sorted(t for ts in timings for t in ts)


def count_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM command_calls").fetchone()[0]


async def idle_loop(seconds: float) -> Result:
    ticker = Ticker()
    await asyncio.sleep(seconds)
    lags = await ticker.stop()
    return Result(
        "idle loop (ticker alone)", 0, None, None, None, pct(lags, 0.99) / 1e6, lags[-1] / 1e6, None
    )


async def variant_a(path: Path, rows: list[tuple], tasks: int) -> Result:
    db = await Database.open(path)
    failures = 0

    async def log_one(*row) -> None:
        nonlocal failures
        try:
            async with db.transaction() as conn:
                await conn.execute(ROW_SQL, row)
        except sqlite3.Error:
            failures += 1

    ticker = Ticker()
    cpu0, t0 = time.process_time(), time.perf_counter_ns()
    hot = await drive(rows, tasks, log_one, awaited=True)
    elapsed, cpu = time.perf_counter_ns() - t0, time.process_time() - cpu0
    lags = await ticker.stop()
    await db.close()
    lost = len(rows) - count_rows(path)
    note = f"{failures} inserts failed" if failures else ""
    return result("A await insert+commit", rows, hot, elapsed, lags, lost, note, cpu)


async def variant_b(path: Path, rows: list[tuple], tasks: int) -> Result:
    db = await Database.open(path)  # migrations only: B writes through its own connections
    await db.close()
    local = threading.local()
    connections: list[sqlite3.Connection] = []
    failures = 0

    def sync_insert(row: tuple) -> None:
        nonlocal failures
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = NORMAL")
            connections.append(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(ROW_SQL, row)
            conn.execute("COMMIT")
        except sqlite3.Error:
            failures += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[None]] = set()

    async def in_executor(row: tuple) -> None:
        await loop.run_in_executor(None, sync_insert, row)

    def log_one(*row) -> None:
        task = asyncio.create_task(in_executor(row))
        pending.add(task)
        task.add_done_callback(pending.discard)

    ticker = Ticker()
    cpu0, t0 = time.process_time(), time.perf_counter_ns()
    hot = await drive(rows, tasks, log_one, awaited=False)
    produced, committed_then = time.perf_counter_ns(), len(rows) - len(pending)
    while pending:
        await asyncio.gather(*list(pending))
    end, cpu = time.perf_counter_ns(), time.process_time() - cpu0
    elapsed = end - t0
    lags = await ticker.stop()
    for conn in connections:
        conn.close()
    lost = len(rows) - count_rows(path)
    note = f"{failures} inserts failed: database is locked" if failures else ""
    phases = Phases(produced, committed_then, end)
    return result("B create_task+executor", rows, hot, elapsed, lags, lost, note, cpu, phases)


async def variant_c(
    path: Path, rows: list[tuple], tasks: int, name: str, setup: tuple[str, ...] = (), **config
) -> Result:
    db = await Database.open(path)
    for sql in setup:
        await db.conn.execute(sql)
    before = count_rows(path)
    writer = CommandLogWriter(db, max_queue=len(rows) + 1, **config)
    writer.start()
    ticker = Ticker()
    cpu0, t0 = time.process_time(), time.perf_counter_ns()
    hot = await drive(rows, tasks, writer.record, awaited=False)
    produced, committed_then = time.perf_counter_ns(), writer.stats().written
    lost_in_close = await writer.close(timeout=120)
    end, cpu = time.perf_counter_ns(), time.process_time() - cpu0
    elapsed = end - t0
    lags = await ticker.stop()
    stats = writer.stats()
    await db.close()
    lost = len(rows) + before - count_rows(path)
    note = f"dropped={stats.dropped} lost_in_close={lost_in_close} failed={stats.failed_batches}"
    phases = Phases(produced, committed_then, end)
    return result(name, rows, hot, elapsed, lags, lost, note, cpu, phases)


def sqlite_ceiling(path: Path, rows: list[tuple], max_batch: int) -> Result:
    """C's statements and batches from one plain sqlite3 connection: no loop, no GIL contention."""
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in CONNECTION_PRAGMAS:  # the bot's own connection settings
        conn.execute(pragma)
    cpu0, t0 = time.thread_time(), time.perf_counter_ns()
    for b in range(0, len(rows), max_batch):
        batch = rows[b : b + max_batch]
        conn.execute("BEGIN IMMEDIATE")
        start = 0
        for size in command_log.CHUNK_SIZES:
            end = start + (len(batch) - start) // size * size
            if end > start:
                params = [
                    list(chain.from_iterable(batch[i : i + size])) for i in range(start, end, size)
                ]
                conn.executemany(command_log._insert_sql(size), params)
                start = end
        conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter_ns() - t0, time.thread_time() - cpu0
    conn.close()
    lost = len(rows) - count_rows(path)
    return Result(
        "S sqlite3 ceiling (no loop)",
        len(rows),
        None,
        None,
        (len(rows) - lost) / (elapsed / 1e9),
        None,
        None,
        lost,
        "same statements and batches as C, one thread",
        cpu / (len(rows) - lost) * 1e6,
    )


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


# name: CommandLogWriter settings; module CHUNK_SIZES override; schema what-if (index dropped).
# A million older rows from 20,000 players, as a bot that has run for a while has: an index's
# hot pages then no longer fit a small page cache (the empty table of the other runs hides that).
PREFILL = (
    "INSERT INTO command_calls (called_ms, discord_uid, player_name, command, duration_ms,"
    " outcome) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)"
    " SELECT 1740000000000 + i * 10, 100000000000000000 + (i * 7919) % 20000, 'player',"
    " CASE i % 4 WHEN 0 THEN 'profile' WHEN 1 THEN 'setup' WHEN 2 THEN 'leaderboard'"
    " ELSE 'ladder queue' END, (i % 997) / 10.0, 'ok' FROM n"
)
BIG_CACHE = "PRAGMA cache_size = -32768"  # 32 MiB; the bot keeps SQLite's default, 2 MiB

# name: CommandLogWriter settings; module CHUNK_SIZES override; `setup` SQL run before (what-ifs
# for the schema's owner, never shipped).
C_VARIANTS: dict[str, dict] = {
    "C executemany, 1 row/statement": {"chunk_sizes": (1,)},
    "C 4096 rows/statement": {"chunk_sizes": (4096, 128, 16, 1)},
    "C max_batch=500 (small txns)": {"batch_size": 500, "max_batch": 500},
    "C max_batch=4096 (before)": {"max_batch": 4096},
    "C on 1M older rows": {"setup": (PREFILL,)},
    "C on 1M older rows, cache 32 MiB": {"setup": (PREFILL, BIG_CACHE)},
    "C what-if: no by_player index": {"setup": ("DROP INDEX command_calls_by_player",)},
    # The schema before migration 0004: 0003's three stats indexes (on called_ms here).
    "C what-if: + 0003's 3 indexes": {
        "setup": tuple(
            f"CREATE INDEX what_if_{column} ON command_calls (command, {column}, called_ms)"
            for column in ("outcome", "duration_ms", "discord_uid")
        )
    },
}


async def run_c(path: Path, rows, tasks, name: str, config: dict) -> Result:
    config = dict(config)
    sizes = config.pop("chunk_sizes", None)
    saved = command_log.CHUNK_SIZES
    if sizes:
        command_log.CHUNK_SIZES = sizes
    try:
        return await variant_c(path, rows, tasks, name, **config)
    finally:
        command_log.CHUNK_SIZES = saved


# --- PostgreSQL (--postgres) ---------------------------------------------------------------
# A durable throw-away server (bench/pg_server.py: PostgreSQL's defaults for fsync,
# synchronous_commit and full_page_writes); every run gets a fresh database copied from a
# template migrated once with the working tree's migrations_pg.


class PgRuns:
    """The server, a migrated template, and a fresh database per run."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.names = itertools.count()
        self.template_ready = False

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server.url("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def fresh(self) -> str:
        if not self.template_ready:
            await self._admin("CREATE DATABASE bench_template")
            db = await PostgresDatabase.open(self.server.url("bench_template"))
            await db.close()
            self.template_ready = True
        name = f"bench_{next(self.names)}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE bench_template STRATEGY FILE_COPY")
        return self.server.url(name)

    async def drop(self, url: str) -> None:
        await self._admin(f"DROP DATABASE {url.rsplit('/', 1)[1]} WITH (FORCE)")


async def server_cpu_s(conn: Any) -> float:
    """CPU seconds so far of every server process connected to this connection's database."""
    pids = [
        r[0]
        for r in await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        )
    ]
    return _cpu_s_of(pids)


def _cpu_s_of(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class PgSyncOffWriter(PostgresCommandLogWriter):
    """What-if: each batch's transaction commits without waiting for its WAL flush."""

    async def _copy(self, rows: Sequence[CommandRow]) -> None:
        records = rows  # queued by record() in COPY's shape
        async with self._pg.pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.copy_records_to_table(ROWS, records=records, columns=COLUMNS)


class PgStagingWriter(PostgresCommandLogWriter):
    """What-if: COPY into a temporary table, then one INSERT ... SELECT into command_calls."""

    async def _copy(self, rows: Sequence[CommandRow]) -> None:
        records = rows  # queued by record() in COPY's shape
        columns = ", ".join(COLUMNS)
        async with self._pg.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS command_calls_staging"
                f" ON COMMIT DELETE ROWS AS SELECT {columns} FROM command_calls WITH NO DATA"
            )
            await conn.copy_records_to_table(
                "command_calls_staging", records=records, columns=COLUMNS
            )
            await conn.execute(
                f"INSERT INTO {ROWS} ({columns}) SELECT {columns} FROM command_calls_staging"
            )


class PgRecordsInWriterTask(PostgresCommandLogWriter):
    """Before: record() queues CommandRow and the writer task turns each into COPY's record."""

    record = CommandLogWriter.record  # type: ignore[assignment]

    async def _copy(self, rows: Sequence[CommandRow]) -> None:
        await super()._copy([copy_record(row) for row in rows])


class PgYieldingWriter(PostgresCommandLogWriter):
    """What-if: the records handed to asyncpg as an async iterator that gives the loop back
    every 1024 rows (given a list, asyncpg encodes ~512 KB, ~5,000 rows, in one go)."""

    async def _copy(self, rows: Sequence[CommandRow]) -> None:
        async def records() -> Any:
            for start in range(0, len(rows), 1024):
                for record in rows[start : start + 1024]:
                    yield record
                await asyncio.sleep(0)

        async with self._pg.connection() as conn:
            await conn.copy_records_to_table(ROWS, records=records(), columns=COLUMNS)


# COPY writes the table behind the view command_calls (migration 0017).
ROWS = ROWS_TABLE["command_calls"]
# Migration 0015 undone: command_calls_by_time a B-tree again, to compare in the same run.
BEFORE_0015 = (
    "DROP INDEX command_calls_by_time",
    f"CREATE INDEX command_calls_by_time ON {ROWS} (called_ms)",
)
# Migration 0017 undone: called_at computed and stored for every row written (0004's column).
BEFORE_0017 = (
    f"ALTER TABLE {ROWS} ADD COLUMN called_at TEXT GENERATED ALWAYS AS (ms_text(called_ms)) STORED",
)
PG_PREFILL = (
    "INSERT INTO command_calls (called_ms, discord_uid, player_name, command, duration_ms,"
    " outcome) SELECT 1740000000000 + i * 10, 100000000000000000 + (i * 7919) % 20000,"
    " 'player', (ARRAY['profile', 'setup', 'leaderboard', 'ladder queue'])[i % 4 + 1],"
    " (i % 997) / 10.0, 'ok' FROM generate_series(0::bigint, 999999) AS i",
    f"VACUUM ANALYZE {ROWS}",
)
# name: writer class and CommandLogWriter settings; `setup` SQL run first on the run's database.
P_VARIANTS: dict[str, dict] = {
    "P 1 batch in flight (before)": {"max_in_flight": 1},
    "P 3 batches in flight": {"max_in_flight": 3},
    "P records made by the writer": {"writer": PgRecordsInWriterTask},
    "P as before (both undone)": {"writer": PgRecordsInWriterTask, "max_in_flight": 1},
    "P loop given back every 1024 rows": {"writer": PgYieldingWriter},
    "P before 0015 (by_time B-tree)": {"setup": BEFORE_0015},
    "P before 0017 (stored called_at)": {"setup": BEFORE_0017},
    "P synchronous_commit off": {"writer": PgSyncOffWriter},
    "P staging table + INSERT SELECT": {"writer": PgStagingWriter},
    "P max_batch=4096": {"max_batch": 4096},
    "P on 1M older rows": {"setup": PG_PREFILL},
    "P what-if: no by_player": {"setup": ("DROP INDEX command_calls_by_player",)},
    "P what-if: no indexes": {
        "setup": (
            "DROP INDEX command_calls_by_time, command_calls_by_command, command_calls_by_player",
        )
    },
}


async def variant_p(pg: PgRuns, rows: list[tuple], tasks: int, name: str, config: dict) -> Result:
    config = dict(config)
    setup = config.pop("setup", ())
    writer_class = config.pop("writer", PostgresCommandLogWriter)
    url = await pg.fresh()
    try:
        admin = await asyncpg.connect(url)
        try:
            for sql in setup:
                await admin.execute(sql)
            before = await admin.fetchval("SELECT count(*) FROM command_calls")
        finally:
            await admin.close()
        db = await PostgresDatabase.open(url)
        try:
            writer = writer_class(db, max_queue=len(rows) + 1, **config)
            writer.start()
            async with db.pool.acquire() as probe:
                server0 = await server_cpu_s(probe)
                wal0 = await probe.fetchval("SELECT pg_current_wal_lsn()::text")
            ticker = Ticker()
            cpu0, t0 = time.process_time(), time.perf_counter_ns()
            hot = await drive(rows, tasks, writer.record, awaited=False)
            produced, committed_then = time.perf_counter_ns(), writer.stats().written
            lost_in_close = await writer.close(timeout=120)
            end, cpu = time.perf_counter_ns(), time.process_time() - cpu0
            lags = await ticker.stop()
            async with db.pool.acquire() as probe:
                server_cpu = await server_cpu_s(probe) - server0
                wal = await probe.fetchval(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)", wal0
                )
                after = await probe.fetchval("SELECT count(*) FROM command_calls")
        finally:
            await db.close()
    finally:
        await pg.drop(url)
    stats = writer.stats()
    lost = len(rows) + before - after
    note = f"dropped={stats.dropped} lost_in_close={lost_in_close} failed={stats.failed_batches}"
    res = result(
        name, rows, hot, end - t0, lags, lost, note, cpu, Phases(produced, committed_then, end)
    )
    if len(rows) > lost:
        res.server_cpu_us_per_row = server_cpu / (len(rows) - lost) * 1e6
        res.wal_bytes_per_row = float(wal) / (len(rows) - lost)
    return res


async def pg_ceiling(pg: PgRuns, rows: list[tuple], max_batch: int) -> Result:
    """P's COPYs with the records ready, from one connection, nothing else on the loop."""
    records = [copy_record(row) for row in rows]
    url = await pg.fresh()
    try:
        conn = await asyncpg.connect(url)
        try:
            server0 = await server_cpu_s(conn)
            wal0 = await conn.fetchval("SELECT pg_current_wal_lsn()::text")
            cpu0, t0 = time.process_time(), time.perf_counter_ns()
            for b in range(0, len(records), max_batch):
                await conn.copy_records_to_table(
                    ROWS, records=records[b : b + max_batch], columns=COLUMNS
                )
            elapsed, cpu = time.perf_counter_ns() - t0, time.process_time() - cpu0
            server_cpu = await server_cpu_s(conn) - server0
            wal = await conn.fetchval(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)", wal0
            )
            lost = len(rows) - await conn.fetchval("SELECT count(*) FROM command_calls")
        finally:
            await conn.close()
    finally:
        await pg.drop(url)
    committed = len(rows) - lost
    return Result(
        "PS COPY ceiling (records ready)",
        len(rows),
        None,
        None,
        committed / (elapsed / 1e9),
        None,
        None,
        lost,
        "P's COPY batches from one connection, records made beforehand",
        cpu / committed * 1e6,
        server_cpu_us_per_row=server_cpu / committed * 1e6,
        wal_bytes_per_row=float(wal) / committed,
    )


def median_result(runs: list[Result]) -> Result:
    def med(field: str):
        values = [getattr(r, field) for r in runs if getattr(r, field) is not None]
        return statistics.median(values) if values else None

    first = runs[0]
    lost = [r.lost for r in runs if r.lost is not None]
    notes = sorted({r.note for r in runs if r.note})
    return Result(
        first.name,
        first.commands,
        med("hot_p50_us"),
        med("hot_p99_us"),
        med("rows_per_s"),
        med("lag_p99_ms"),
        med("lag_max_ms"),
        max(lost) if lost else None,
        " | ".join(notes)[:100],
        med("cpu_us_per_row"),
        med("during"),
        med("writer_rows_per_s"),
        med("server_cpu_us_per_row"),
        med("wal_bytes_per_row"),
    )


def fmt(value, spec: str, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}{spec}}"


def summary(table: dict[str, Result]) -> list[tuple[str, bool | None, str]]:
    """Ratios and targets for the rows that ran: (label, met or None for a plain figure, value)."""
    a, b, c, s = (table.get(key) for key in ("A", "B", "C", "S"))
    p, ps = table.get("P"), table.get("PS")
    lines: list[tuple[str, bool | None, str]] = []
    if a and b and c and s:
        lines.append(
            (
                "rows/s ratios",
                None,
                f"C/B {c.rows_per_s / b.rows_per_s:.1f}x, C/A {c.rows_per_s / a.rows_per_s:.1f}x,"
                f" C/S (share of the sqlite3 ceiling) {c.rows_per_s / s.rows_per_s:.2f}; writer/s:"
                f" C/B {c.writer_rows_per_s / b.writer_rows_per_s:.1f}x,"
                f" C/S {c.writer_rows_per_s / s.rows_per_s:.2f}",
            )
        )
    if c:
        lines += [
            ("C hot path p50 <= 2.5 µs", c.hot_p50_us <= 2.5, f"{c.hot_p50_us:.2f} µs"),
            ("C hot path p99 <= 10 µs", c.hot_p99_us <= 10, f"{c.hot_p99_us:.2f} µs"),
            (
                "C >= 150k rows/s committed by the writer",
                c.writer_rows_per_s >= 150_000,
                f"{c.writer_rows_per_s:.0f}",
            ),
            (
                "C >= 150k rows/s committed, end to end",
                c.rows_per_s >= 150_000,
                f"{c.rows_per_s:.0f} ({c.during:.0f} rows committed while the producers ran)",
            ),
            (
                "C loop lag p99 <= 2 ms",
                c.lag_p99_ms <= 2,
                f"{c.lag_p99_ms:.2f} ms (idle loop alone: {table['idle'].lag_p99_ms:.2f} ms)",
            ),
            ("C zero rows lost", c.lost == 0, f"{c.lost}"),
        ]
    if b and c:
        lines.append(
            (
                "C >= 10x B rows/s (writer, end to end)",
                c.writer_rows_per_s >= 10 * b.writer_rows_per_s
                and c.rows_per_s >= 10 * b.rows_per_s,
                f"{c.writer_rows_per_s / b.writer_rows_per_s:.1f}x,"
                f" {c.rows_per_s / b.rows_per_s:.1f}x",
            )
        )
    if p:
        lines += [
            (
                "P >= 100k rows/s committed by the writer",
                p.writer_rows_per_s >= 100_000,
                f"{p.writer_rows_per_s:.0f}",
            ),
            (
                "P >= 100k rows/s committed, end to end",
                p.rows_per_s >= 100_000,
                f"{p.rows_per_s:.0f} ({p.during:.0f} rows committed while the producers ran)",
            ),
            ("P zero rows lost", p.lost == 0, f"{p.lost}"),
            (
                "P loop lag p99 / max",
                None,
                f"{p.lag_p99_ms:.2f} / {p.lag_max_ms:.2f} ms",
            ),
        ]
        if c:
            lines.append(
                (
                    "P/C (PostgreSQL / SQLite)",
                    None,
                    f"writer/s {p.writer_rows_per_s / c.writer_rows_per_s:.2f},"
                    f" end to end {p.rows_per_s / c.rows_per_s:.2f}",
                )
            )
        if ps:
            lines.append(
                (
                    "P writer/s / PS (share of the COPY ceiling)",
                    None,
                    f"{p.writer_rows_per_s / ps.rows_per_s:.2f}",
                )
            )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100_000, help="commands for C and S")
    parser.add_argument("--tasks", type=int, default=50, help="concurrent command tasks")
    parser.add_argument(
        "--baseline-commands", type=int, default=5_000, help="commands for A and B (they are slow)"
    )
    parser.add_argument("--players", type=int, default=500, help="distinct discord_uid values")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant (medians shown)")
    parser.add_argument("--variants", action="store_true", help="also run C tuning variants")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the SQLite files")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also PostgreSQL: P (PostgresCommandLogWriter) and PS (its COPY ceiling) on a"
        " durable throw-away server; with --variants, P's variants too",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated rows to run among A,B,C,S,P,PS (default: all that apply)",
    )
    args = parser.parse_args()

    calibration = time.perf_counter()
    sum(range(10_000_000))  # a fixed pure-Python workload, to compare machines and moments
    calibration_ms = (time.perf_counter() - calibration) * 1000
    rows = make_rows(args.commands, args.players)
    base_rows = rows[: args.baseline_commands]
    print(f"$ python {' '.join(sys.argv)}")
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"sum(range(10**7)) took {calibration_ms:.0f} ms"
    )
    print(
        f"# {args.tasks} tasks, {args.players} players; A, B: {len(base_rows)} commands; "
        f"C, S: {len(rows)} commands; median of {args.repeat} interleaved runs per variant"
    )
    only = set(args.only.split(",")) if args.only else None

    def wanted(key: str) -> bool:
        return only is None or key in only or (key[0] in "CP" and key[0] in only)

    server = bench_server() if args.postgres else None
    pg = PgRuns(server) if server else None
    if server:
        print(f"# PostgreSQL: {await server_settings(server.url())}")
    plan: list[tuple[str, Callable]] = [
        ("A", lambda p: variant_a(p, base_rows, args.tasks)),
        ("B", lambda p: variant_b(p, base_rows, args.tasks)),
        ("C", lambda p: run_c(p, rows, args.tasks, "C CommandLogWriter (defaults)", {})),
    ]
    if args.variants:
        for name, config in C_VARIANTS.items():
            plan.append((name, lambda p, n=name, c=config: run_c(p, rows, args.tasks, n, c)))
    if pg:
        plan.append(
            ("P", lambda p: variant_p(pg, rows, args.tasks, "P PostgresCommandLogWriter", {}))
        )
        if args.variants:
            for name, config in P_VARIANTS.items():
                plan.append(
                    (name, lambda p, n=name, c=config: variant_p(pg, rows, args.tasks, n, c))
                )
    plan = [(key, run) for key, run in plan if wanted(key)]
    runs: dict[str, list[Result]] = {key: [] for key, _ in plan}
    runs["idle"] = []
    try:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            folder = Path(tmp)
            for rep in range(args.repeat):
                runs["idle"].append(await idle_loop(1.0))
                for i, (key, run) in enumerate(plan):
                    runs[key].append(await run(folder / f"{rep}-{i}.db"))
                if wanted("S"):
                    ceiling = await asyncio.to_thread(
                        sqlite_ceiling, folder / f"{rep}-s.db", rows, command_log.MAX_BATCH
                    )
                    runs.setdefault("S", []).append(ceiling)
                if pg and wanted("PS"):
                    runs.setdefault("PS", []).append(
                        await pg_ceiling(pg, rows, command_log.MAX_BATCH)
                    )
    finally:
        if server:
            server.stop()

    table = {key: median_result(rs) for key, rs in runs.items()}
    order = ["idle", *(key for key, _ in plan), "S", "PS"]
    order = [key for key in order if key in table]
    header = (
        f"{'variant':32} {'commands':>8} {'hot p50 µs':>10} {'hot p99 µs':>10} "
        f"{'rows/s':>8} {'during':>7} {'writer/s':>8} {'CPU µs/row':>10} {'lag p99 ms':>10} "
        f"{'lag max ms':>10} {'lost':>5} {'srv µs/row':>10} {'WAL B/row':>9}  note"
    )
    print(header)
    print("-" * len(header))
    for key in order:
        r = table[key]
        print(
            f"{r.name:32} {r.commands:8d} {fmt(r.hot_p50_us, '.2f', 10)} "
            f"{fmt(r.hot_p99_us, '.2f', 10)} {fmt(r.rows_per_s, '.0f', 8)} "
            f"{fmt(r.during, '.0f', 7)} {fmt(r.writer_rows_per_s, '.0f', 8)} "
            f"{fmt(r.cpu_us_per_row, '.1f', 10)} {fmt(r.lag_p99_ms, '.2f', 10)} "
            f"{fmt(r.lag_max_ms, '.2f', 10)} "
            f"{fmt(r.lost, 'd', 5)} {fmt(r.server_cpu_us_per_row, '.1f', 10)} "
            f"{fmt(r.wal_bytes_per_row, '.0f', 9)}  {r.note}"
        )
    print(
        "\nrows/s: first record -> every row committed. during: rows committed while the 50"
        " producers ran.\nwriter/s: the rows left when they stopped / the time to commit them"
        " (the writer's own rate)."
    )
    for label, ok, value in summary(table):
        print(
            f"  {'met   ' if ok else 'MISSED'} {label}" if ok is not None else f"  {label}", end=""
        )
        print(f": {value}")
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
