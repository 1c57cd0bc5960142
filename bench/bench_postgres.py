"""Benchmark: the same ladder on PostgreSQL and on SQLite, in one run on one machine.

    python bench/bench_postgres.py [--players 100000] [--matches 1000000] [--source FILE]
                                   [--runs 300] [--rounds 2] [--skip-migrate-check]

1. Data: bench/gen_ladder_db.py builds the ladder (`--players` players × 2 races, `--matches`
   finished matches, every number consistent), or `--source` names a file it built before.
2. Migrate: `python bot.py migrate --to <url> --db <a copy of the file>` into an empty database
   on a throw-away PostgreSQL that keeps the defaults a production server has (fsync,
   synchronous_commit and full_page_writes on: bench/pg_server.py). Wall time of the command,
   and when each line it printed appeared (the copy, then the checks: row counts and the rating
   log replayed on PostgreSQL).
3. Commands end to end: the real bot.py against the local Discord (localdiscord/), once on the
   SQLite file and once on the migrated database, in ABBA order over `--rounds` rounds. Each
   command runs `--runs` times, one after another, after 5 unmeasured runs, as the player with
   the most games (so /profile shows a full history): the time from INTERACTION_CREATE on the
   gateway to the bot's first answer. /help is the floor (no database).
   Target from issue #17: no command slower than 2x its SQLite median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import asyncpg  # noqa: E402
from e2e.harness import BotProcess  # noqa: E402
from e2e_latency import WARMUP, percentile  # noqa: E402

from bench.pg_server import bench_server, server_settings  # noqa: E402
from localdiscord import FakeDiscord, FakeUser  # noqa: E402

COMMANDS = ("help", "leaderboard", "profile")


def generate(path: Path, players: int, matches: int) -> float:
    """Build the ladder file with gen_ladder_db.py; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "gen_ladder_db.py"), "--players",
         str(players), "--matches", str(matches), "--path", str(path)],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("players", "ratings", "matches", "rating_log")
        }


def busiest_player(path: Path) -> int:
    """The discord_uid with the most games: its /profile has the longest history."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT r.discord_uid FROM ratings AS r JOIN players AS p USING (discord_uid)"
            " WHERE p.accepted_tos = 1 AND p.completed_setup = 1 AND p.banned = 0"
            " GROUP BY r.discord_uid ORDER BY sum(r.games) DESC LIMIT 1"
        ).fetchone()
    return int(row[0])


def migrate(source: Path, url: str) -> tuple[float, list[tuple[float, str]]]:
    """Run `bot.py migrate`; return its wall time and (seconds since start, line) it printed."""
    env = dict(os.environ)
    env.update({"DATABASE_PATH": str(source), "DISCORD_TOKEN": "unused", "LOG_FILE": ""})
    env.pop("DATABASE_URL", None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "bot.py"), "migrate", "--to", url, "--db", str(source)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines = [(time.perf_counter() - started, line.rstrip()) for line in proc.stdout]
    code = proc.wait()
    elapsed = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"migrate exited with {code}: {lines}")
    return elapsed, lines


async def autovacuums(url: str) -> int:
    """Autovacuum workers busy on the migrated database (a bulk load sets them off)."""
    conn = await asyncpg.connect(url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            )
        )
    finally:
        await conn.close()


async def measure(fake: FakeDiscord, user: FakeUser, command: str, runs: int) -> list[float]:
    for _ in range(WARMUP):
        await (await fake.slash(user, command)).response()
    latencies = []
    for _ in range(runs):
        inter = await fake.slash(user, command)
        callback = await inter.response()
        latencies.append(callback.latency * 1000)
    return latencies


async def run_bot(
    fake: FakeDiscord, workdir: Path, user: FakeUser, runs: int, env: dict[str, str]
) -> tuple[dict[str, list[float]], float]:
    """One bot on one backend: (latencies by command, seconds it took to start)."""
    bot = BotProcess(fake, workdir, env={"LOG_LEVEL": "WARNING", **env}, name=workdir.name)
    started = time.perf_counter()
    await bot.start(within=600)
    start_s = time.perf_counter() - started
    try:
        return {c: await measure(fake, user, c, runs) for c in COMMANDS}, start_s
    finally:
        await bot.stop(within=60)


def row(latencies: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(latencies),
        "p90": percentile(latencies, 0.90),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, help="a file gen_ladder_db.py built (kept)")
    parser.add_argument("--runs", type=int, default=300, help="runs of each command per bot")
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds of the two bots")
    args = parser.parse_args()

    print(f"$ python {' '.join(sys.argv)}")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs;"
        f" load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory(prefix="ladderbot-pgbench-") as tmp:
        folder = Path(tmp)
        source = args.source
        if source is None:
            source = folder / "generated.db"
            seconds = await asyncio.to_thread(generate, source, args.players, args.matches)
            print(f"# generated in {seconds:.0f} s")
        print(f"# data: {counts(source)}, {source.stat().st_size / 2**20:.0f} MiB")
        server = await asyncio.to_thread(bench_server)
        try:
            print(f"# PostgreSQL: {await server_settings(server.url())}")
            admin = await asyncpg.connect(server.url())
            await admin.execute("CREATE DATABASE ladder")
            await admin.close()
            url = server.url("ladder")
            copy = folder / "migrate-source.db"
            await asyncio.to_thread(shutil.copy, source, copy)

            print("\n## migrate")
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            elapsed, lines = await asyncio.to_thread(migrate, copy, url)
            print(f"$ python bot.py migrate --to {url} --db <copy of the data>")
            for at, line in lines:
                print(f"  [{at:7.1f} s] {line}")
            print(f"migrate wall time: {elapsed:.1f} s (load average before: {load})")

            print("\n## commands end to end (ms, bot.py against the local Discord)")
            uid = busiest_player(source)
            backends = {
                "sqlite": lambda work: {"DATABASE_PATH": str(work / "ladder.db")},
                "postgresql": lambda work: {"DATABASE_URL": url},
            }
            latencies: dict[str, dict[str, list[float]]] = {
                b: {c: [] for c in COMMANDS} for b in backends
            }
            async with FakeDiscord() as fake:
                user = fake.user("busiest", user_id=uid)
                for round_ in range(args.rounds):
                    order = list(backends) if round_ % 2 == 0 else list(backends)[::-1]
                    for backend in order:
                        work = folder / f"{backend}-{round_}"
                        await asyncio.to_thread(work.mkdir)
                        if backend == "sqlite":
                            await asyncio.to_thread(shutil.copy, source, work / "ladder.db")
                        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                        vacuums = await autovacuums(server.url("ladder"))
                        got, start_s = await run_bot(
                            fake, work, user, args.runs, backends[backend](work)
                        )
                        shown = ", ".join(
                            f"/{c} {statistics.median(v):.2f} / {percentile(v, 0.9):.2f}"
                            for c, v in got.items()
                        )
                        print(
                            f"# round {round_ + 1} {backend}: started in {start_s:.1f} s, load"
                            f" average before {load}, autovacuum workers at start {vacuums};"
                            f" median / p90 ms: {shown}"
                        )
                        for command, values in got.items():
                            latencies[backend][command] += values
                            slow = [f"#{i + 1} {v:.0f}" for i, v in enumerate(values) if v > 20]
                            if slow:  # when in the run: after the start, or all along
                                print(f"#   /{command} over 20 ms (run, ms): {', '.join(slow)}")
                violations = list(fake.violations)
        finally:
            server.stop()

    print(f"{'backend':<12}{'command':<14}{'runs':>6}{'median':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    table = {b: {c: row(v) for c, v in by.items()} for b, by in latencies.items()}
    for backend, by in table.items():
        for command, r in by.items():
            print(
                f"{backend:<12}{'/' + command:<14}{len(latencies[backend][command]):>6}"
                f"{r['median']:>9.2f}{r['p90']:>9.2f}{r['p99']:>9.2f}{r['max']:>9.2f}"
            )
    print("\nPostgreSQL / SQLite, same command")
    failed = False
    for command in COMMANDS:
        pg, lite = table["postgresql"][command], table["sqlite"][command]
        ratio = pg["median"] / lite["median"]
        ok = ratio <= 2
        failed |= not ok
        print(
            f"  {'met   ' if ok else 'MISSED'} /{command} median <= 2x SQLite's: {ratio:.2f}x"
            f" (p99 {pg['p99'] / lite['p99']:.2f}x)"
        )
    if violations:
        print(f"Discord rules broken: {violations}")
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
