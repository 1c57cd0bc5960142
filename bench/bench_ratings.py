"""Rating systems and seasons at size: replay the rating log under each system, and a season change.

    python bench/bench_ratings.py [--path /tmp/ladderbot-bench/ratings.db]
                                  [--players 100000] [--races 1] [--matches 1000000]

The database comes from bench/gen_ladder_db.py (made once, then reused). Each step runs in a
fresh child process, so its peak RSS (ru_maxrss, the interpreter included) is its own:

  * replay-<system>: read the season's rating log (`SeasonRepository.season_log`), then
    `ladder.rating_systems.replay_season` under the system: read s, compute s, peak RSS.
  * command-<system>: `bot.py ratings replay --system <system> --dry-run` as the host runs
    it (`app.ratings_cli.replay_all`): the same transaction a real run commits (every
    match's step, every rating), rolled back.
  * season-change: `SeasonService.start` on a copy of the database: archive every rating,
    soft reset (pull), records to zero, in one transaction.

Each line also has the step's CPU seconds (cpu_s, setup included) and the load average,
because on a shared machine wall times stretch with everyone else's work.

Targets (issue 14): a season change <= 5 s and <= 300 MB peak RSS at 100k players; a full
Glicko-2 replay of 1M matches <= 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_PATH = Path("/tmp/ladderbot-bench/ratings.db")
STEPS = ("replay-elo", "replay-glicko2", "command-elo", "command-glicko2", "season-change")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _replay(path: Path, system_name: str) -> dict[str, Any]:
    from ladder.config import RatingConfig
    from ladder.rating_systems import rating_system, replay_season
    from storage.database import Database
    from storage.seasons import SeasonRepository

    db = await Database.open(path)
    try:
        t0 = time.perf_counter()
        log = await SeasonRepository().season_log(db.conn, 1)  # streamed (the reader buffers)
        t1 = time.perf_counter()
        out = replay_season(rating_system(RatingConfig(system=system_name)), log)
        t2 = time.perf_counter()
    finally:
        await db.close()
    return {"entries": len(log), "ratings": len(out.states), "read_s": t1 - t0,
            "compute_s": t2 - t1}  # fmt: skip


async def _command(path: Path, system_name: str) -> dict[str, Any]:
    from app.ratings_cli import replay_all
    from ladder.config import LadderConfig
    from storage.database import Database

    db = await Database.open(path)
    try:
        t0 = time.perf_counter()
        summary = await replay_all(db, LadderConfig(map_pool=("A", "B", "C", "D", "E")),
                                   system_name, dry_run=True)  # fmt: skip
        t1 = time.perf_counter()
    finally:
        await db.close()
    return {"entries": summary.log_entries, "total_s": t1 - t0}


async def _season_change(copy: Path) -> dict[str, Any]:
    from cache.players import PlayerCache
    from ladder.config import LadderConfig, SeasonConfig
    from services.ladder_core import LadderCore
    from services.seasons import SeasonService
    from storage.database import Database
    from storage.players import PlayerRepository

    config = LadderConfig(map_pool=("A", "B", "C", "D", "E"), season=SeasonConfig("pull", 0.5))
    db = await Database.open(copy)
    try:
        core = LadderCore(db, PlayerRepository(db, PlayerCache()), config)
        seasons = SeasonService(core)
        t0, c0 = time.perf_counter(), time.process_time()
        started = await seasons.start(1, "Bench season")
        t1, c1 = time.perf_counter(), time.process_time()
        rss = _rss_mb()
        # What the bot does after the commit (outside the transaction): every new rating into
        # the in-memory standings.
        from datetime import UTC, datetime

        from storage.leaderboard import LeaderboardRepository

        standings = await LeaderboardRepository(db).load_standings(datetime.now(UTC))
        t2 = time.perf_counter()
        c2 = time.process_time()
        standings.apply(await core.ratings.all(core.reader))
        t3, c3 = time.perf_counter(), time.process_time()
    finally:
        await db.close()
    return {"archived": started.archived, "ranked": started.ranked, "total_s": t1 - t0,
            "change_cpu_s": c1 - c0, "peak_rss_mb_change": rss,
            "standings_refresh_s": t3 - t2, "refresh_cpu_s": c3 - c2}  # fmt: skip


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_step(step: str, path: Path) -> dict[str, Any]:
    # CPU seconds of the whole step (SQLite runs on aiosqlite's thread, in this process): on a
    # shared machine, wall time grows with everyone else's load, CPU time much less.
    cpu = time.process_time()
    if step.startswith("replay-"):
        result = asyncio.run(_replay(path, step.removeprefix("replay-")))
    elif step.startswith("command-"):
        result = asyncio.run(_command(path, step.removeprefix("command-")))
    else:
        copy = path.with_name("season-change.db")
        _remove(copy)
        shutil.copyfile(path, copy)
        try:
            result = asyncio.run(_season_change(copy))
        finally:
            _remove(copy)
    return {**result, "cpu_s": time.process_time() - cpu, "peak_rss_mb": _rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--races", type=int, default=1)
    parser.add_argument("--matches", type=int, default=1_000_000)
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=STEPS, action="append", help="run only these steps")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.path)))
        return
    if not args.path.exists():
        from gen_ladder_db import generate  # bench/ is on sys.path: the script's folder

        args.path.parent.mkdir(parents=True, exist_ok=True)
        made = generate(args.path, args.players, args.races, args.matches, 1)
        print(f"generated {made['path']}: {made['players']:,} players, {made['entries']:,} "
              f"ratings, {made['finished']:,} rated matches, {made['size_mb']:.0f} MB")  # fmt: skip
    for step in args.only or STEPS:
        out = subprocess.run(
            [sys.executable, __file__, "--path", str(args.path), "--step", step],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        shown = ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in result.items()
        )
        load = os.getloadavg()[0]
        print(f"{step:<16} {shown}, load {load:.1f}", flush=True)


if __name__ == "__main__":
    main()
