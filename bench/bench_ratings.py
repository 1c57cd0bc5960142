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
  * season-change: `SeasonService.start` on a copy of the database, as the bot runs it: the
    standings are loaded first (not timed), then the change is timed from the call to its
    return: archive every rating, soft reset (pull), records to zero, in one transaction,
    then every new rating read and handed to the in-memory standings (`apply_cpu_s`: that
    last call's own CPU). `rss_before_mb`: the process with the standings loaded.

    python bench/bench_ratings.py --only season-change --repeat 5 --code /tmp/wt_season --code .

runs the step 5 times on an older checkout (a `git worktree add /tmp/wt_season <commit>`)
and on this one, taking turns, and prints the medians of each.

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
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# A step runs on the checkout named by --code (the child's environment), else on this one.
sys.path.insert(0, os.environ.get("LADDERBOT_BENCH_CODE", str(ROOT)))

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
    from datetime import UTC, datetime

    from cache.players import PlayerCache
    from ladder.config import LadderConfig, SeasonConfig
    from services.ladder_core import LadderCore
    from services.seasons import SeasonService
    from storage.database import Database
    from storage.leaderboard import LeaderboardRepository
    from storage.players import PlayerRepository

    config = LadderConfig(map_pool=("A", "B", "C", "D", "E"), season=SeasonConfig("pull", 0.5))
    db = await Database.open(copy)
    try:
        core = LadderCore(db, PlayerRepository(db, PlayerCache()), config)
        # As in the bot: the standings are in memory before the change, and the service hands
        # them every new rating after its commit (bot.py: on_season_changed=standings.apply).
        standings = await LeaderboardRepository(db).load_standings(datetime.now(UTC))
        rss_before = _rss_mb()
        refresh: list[float] = []

        def apply(rows: Any) -> None:
            c = time.process_time()
            standings.apply(rows)
            refresh.append(time.process_time() - c)

        seasons = SeasonService(core, on_season_changed=apply)
        t0, c0 = time.perf_counter(), time.process_time()
        started = await seasons.start(1, "Bench season")
        t1, c1 = time.perf_counter(), time.process_time()
    finally:
        await db.close()
    return {"archived": started.archived, "ranked": started.ranked, "total_s": t1 - t0,
            "change_cpu_s": c1 - c0, "apply_cpu_s": sum(refresh),
            "rss_before_mb": rss_before, "peak_rss_mb_change": _rss_mb()}  # fmt: skip


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
    parser.add_argument("--repeat", type=int, default=1, help="run each step N times")
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        help="run the steps on the ladderbot checkout at this path (e.g. a git worktree of an"
        " older commit) instead of this one; repeat to compare several, taking turns",
    )
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
    codes = args.code or [ROOT]
    for step in args.only or STEPS:
        runs: dict[Path, list[dict[str, Any]]] = {code: [] for code in codes}
        for _ in range(args.repeat):
            for code in codes:  # taking turns, so a change in the machine's load hits all
                result = _run_child(step, args.path, code)
                runs[code].append(result)
                label = step if len(codes) == 1 else f"{step} [{code}]"
                print(f"{label:<16} {_shown(result)}, load {os.getloadavg()[0]:.1f}", flush=True)
        if args.repeat > 1:
            for code, results in runs.items():
                medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
                label = step if len(codes) == 1 else f"{step} [{code}]"
                print(f"{label:<16} MEDIAN of {len(results)}: {_shown(medians)}", flush=True)


def _run_child(step: str, path: Path, code: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--path", str(path), "--step", step],
        capture_output=True, text=True, check=True,
        env={**os.environ, "LADDERBOT_BENCH_CODE": str(code.resolve())},
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _shown(result: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in result.items()
    )


if __name__ == "__main__":
    main()
