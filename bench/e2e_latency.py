"""End-to-end latency of the real bot, through the fake Discord of the e2e tests.

    python bench/e2e_latency.py                        # 1000 runs of each command, GC both ways
    python bench/e2e_latency.py --players 100000 --gc off,freeze --runs 2000
    python bench/e2e_latency.py --runs 50 --gc freeze --json bench/results/e2e_latency.json

It starts the local Discord (localdiscord/) and the real ``bot.py`` on a database
in a temporary folder seeded with ``--players`` ranked players, makes one player who has
accepted the terms of service, then sends each command ``--runs`` times, one after another,
after 5 unmeasured runs. For each it measures the time from sending INTERACTION_CREATE on the
gateway to the bot's first answer arriving (the interaction callback), which is what Discord
holds to 3 seconds. It prints median, p90, p99, p99.9 and max per command, and exits 1 if the
bot broke a Discord rule on the way.

``--gc`` runs the bot once per variant, one after the other, each on its own copy of the same
seeded database: ``off`` with the start-up heap left to the garbage collector
(``LADDERBOT_GC_FREEZE=0``), ``freeze`` with it frozen after start-up
(``app.gc_tuning.freeze_startup_heap``). Until bot.py makes that call itself, the bot is started
through a small wrapper that makes it right after ``build_bot``; the wrapper also times every
collection in the bot (``gc.callbacks``) and reports them, so the pauses are shown beside the
acks they cause. This process (the fake Discord) collects between commands, not while
measuring, so its own pauses are not counted against the bot.

What is measured is the bot plus local loopback, not Discord: real latency adds the network
round trips to Discord on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # localdiscord
sys.path.insert(0, str(REPO_ROOT / "tests"))

from e2e import harness  # noqa: E402
from e2e.harness import BotProcess  # noqa: E402

from localdiscord import FakeDiscord, FakeUser, SentInteraction  # noqa: E402

Scenario = Callable[[FakeDiscord, FakeUser], Awaitable[SentInteraction]]

SCENARIOS: dict[str, Scenario] = {
    "/help": lambda fake, user: fake.slash(user, "help"),
    "/leaderboard": lambda fake, user: fake.slash(user, "leaderboard"),
    "/profile": lambda fake, user: fake.slash(user, "profile"),
    "/termsofservice": lambda fake, user: fake.slash(user, "termsofservice"),
    "/setcountry autocomplete": lambda fake, user: fake.autocomplete(
        user, "setcountry", focused="country", value="fr"
    ),
}
GC_VARIANTS = {"off": "0", "freeze": "1"}
WARMUP = 5  # unmeasured runs of each command first  # the value of LADDERBOT_GC_FREEZE

# The bot program, run through a wrapper: bot.py's main() with two additions for benches.
#   freeze_startup_heap() right after build_bot; on SIGUSR1, a JSON report (RSS, live views,
#   collections) to LADDERBOT_BENCH_REPORT.
BOT_WRAPPER = """\
import asyncio, gc, json, os, signal, sys, time
sys.path.insert(0, {root!r})
import bot
from app.gc_tuning import freeze_startup_heap

built = {{}}
pauses = {{g: {{"count": 0, "total_ms": 0.0, "max_ms": 0.0, "collected": 0}} for g in range(3)}}
full_passes = []  # (time.monotonic() at the start, ms): the clock the bench's process reads too
started = [0.0, 0.0]

def timed(phase, info):
    if phase == "start":
        started[:] = time.perf_counter(), time.monotonic()
        return
    row = pauses[info["generation"]]
    ms = (time.perf_counter() - started[0]) * 1000
    row["count"] += 1
    row["total_ms"] += ms
    row["max_ms"] = max(row["max_ms"], ms)
    row["collected"] += info["collected"]
    if info["generation"] == 2 and len(full_passes) < 1000:
        full_passes.append((started[1], ms))

_build_bot = bot.build_bot

async def build_bot(*args, **kwargs):
    made = await _build_bot(*args, **kwargs)
    built["bot"], built["loop"] = made, asyncio.get_running_loop()
    freeze_startup_heap()
    gc.callbacks.append(timed)
    return made

bot.build_bot = build_bot

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def report(signum, frame):
    state = built["bot"]._connection
    data = {{
        "rss_kib": status("VmRSS"), "hwm_kib": status("VmHWM"),
        "views": len(state._view_store.all_views()),
        "view_entries": len(state._view_store._views),
        "modals": len(state._modal_store._modals),
        "tasks": len(asyncio.all_tasks(built["loop"])),
        "frozen": gc.get_freeze_count(), "gc_counts": gc.get_count(), "pauses": pauses,
        "full_passes": full_passes,
    }}
    path = os.environ["LADDERBOT_BENCH_REPORT"]
    with open(path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)

signal.signal(signal.SIGUSR1, report)
sys.exit(bot.main([]))
"""


def write_bot_wrapper(folder: Path) -> Path:
    """Write the wrapper program into `folder` and make BotProcess start it instead of bot.py."""
    path = folder / "bench_bot.py"
    path.write_text(BOT_WRAPPER.format(root=str(REPO_ROOT)), encoding="utf-8")
    harness.BOT_SCRIPT = path
    return path


def wrapper_env(workdir: Path, **extra: str) -> dict[str, str]:
    return {"LADDERBOT_BENCH_REPORT": str(workdir / "report.json"), **extra}


async def bot_report(bot: BotProcess, within: float = 10.0) -> dict:
    """Ask the wrapped bot for its report (SIGUSR1) and read it."""
    assert bot.proc is not None
    path = Path(bot.environment()["LADDERBOT_BENCH_REPORT"])
    await asyncio.to_thread(path.unlink, missing_ok=True)
    bot.proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(path.exists):
        if time.monotonic() > deadline:
            raise TimeoutError("the bot wrote no report")
        await asyncio.sleep(0.01)
    return json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "runs": len(latencies),
        "median_ms": statistics.median(latencies),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999),
        "max_ms": max(latencies),
    }


async def accept_terms(fake: FakeDiscord, user: FakeUser) -> None:
    terms = await (await fake.slash(user, "termsofservice")).reply()
    await (await fake.click(user, terms, label="Accept")).response()


async def measure(
    fake: FakeDiscord, user: FakeUser, scenario: Scenario, runs: int
) -> list[tuple[float, float]]:
    """(time.monotonic() when sent, ack latency in ms) of each run; this process does not
    collect garbage meanwhile (see above)."""
    for _ in range(WARMUP):  # first calls fill caches and import lazily: not what is measured
        await (await scenario(fake, user)).response()
    latencies = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(runs):
            inter = await scenario(fake, user)
            callback = await inter.response()
            latencies.append((inter.injected_at, callback.latency * 1000))
    finally:
        gc.enable()
    return latencies


RACES = ("bw_zerg", "sc2_terran")


def seed_ladder(path: Path, players: int) -> None:
    """Give the leaderboard `players` ranked players with two races each, played today."""
    sys.path.insert(0, str(REPO_ROOT))
    from storage.database import Database, utc_now

    async def seed() -> None:
        db = await Database.open(path)
        now = utc_now()
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO players (discord_uid, discord_name, player_name, country,"
                " accepted_tos, completed_setup, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                [
                    (u, f"p{u}", f"p{u}", ("FR", "KR", "US")[u % 3], now, now)
                    for u in range(1, players + 1)
                ],
            )
            await conn.executemany(
                "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses,"
                " last_played_at) VALUES (?, ?, ?, 10, 5, 5, ?)",
                [
                    (u, race, 1000 + (u * 7919 + i * 104729) % 1000, now)
                    for u in range(1, players + 1)
                    for i, race in enumerate(RACES)
                ],
            )
        await db.close()

    asyncio.run(seed())


async def run_variant(
    fake: FakeDiscord,
    workdir: Path,
    seeded: Path,
    variant: str,
    runs: int,
    names: list[str],
    log_level: str,
) -> tuple[dict[str, list[tuple[float, float]]], dict]:
    """One bot with the GC `variant`: (latencies by command, the bot's report at the end)."""
    await asyncio.to_thread(workdir.mkdir)
    await asyncio.to_thread(shutil.copy, seeded, workdir / "ladder.db")
    env = wrapper_env(workdir, LOG_LEVEL=log_level, LADDERBOT_GC_FREEZE=GC_VARIANTS[variant])
    bot = BotProcess(fake, workdir, env=env, name=workdir.name)
    await bot.start()
    latencies: dict[str, list[tuple[float, float]]] = {}
    try:
        player = fake.user(f"bench-{workdir.name}")
        await accept_terms(fake, player)
        for name in names:
            latencies[name] = await measure(fake, player, SCENARIOS[name], runs)
        report = await bot_report(bot)
    finally:
        await bot.stop()
    return latencies, report


def merge_reports(reports: list[dict]) -> dict:
    """The bots' reports of one variant as one: collections added up, the worst pause kept."""
    merged = {**reports[-1], "rounds": len(reports)}
    merged["full_passes"] = [p for r in reports for p in r["full_passes"]]
    merged["pauses"] = {
        gen: {
            "count": sum(r["pauses"][gen]["count"] for r in reports),
            "total_ms": sum(r["pauses"][gen]["total_ms"] for r in reports),
            "max_ms": max(r["pauses"][gen]["max_ms"] for r in reports),
            "collected": sum(r["pauses"][gen]["collected"] for r in reports),
        }
        for gen in reports[-1]["pauses"]
    }
    return merged


async def run(
    runs: int, names: list[str], log_level: str, players: int, variants: list[str], rounds: int
) -> tuple[dict[str, dict], dict[str, dict], list[str]]:
    """Each round runs every variant, in the order given, then reversed (ABBA): a machine
    getting slower or faster during the run weighs on both alike."""
    # Per variant and command: (sent at, latency in ms) of every ack.
    latencies: dict[str, dict[str, list[tuple[float, float]]]] = {
        v: {name: [] for name in names} for v in variants
    }
    reports: dict[str, list[dict]] = {v: [] for v in variants}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ladderbot-bench-") as tmp:
        folder = Path(tmp)
        write_bot_wrapper(folder)
        seeded = folder / "seeded.db"
        await asyncio.to_thread(seed_ladder, seeded, players)
        async with FakeDiscord() as fake:
            for round_ in range(rounds):
                for variant in variants if round_ % 2 == 0 else variants[::-1]:
                    workdir = folder / f"{variant}-{round_ + 1}"
                    got, report = await run_variant(
                        fake, workdir, seeded, variant, runs, names, log_level
                    )
                    for name, values in got.items():
                        latencies[variant][name] += values
                    reports[variant].append(report)
            await fake.settle()
            errors += [f"violation: {v}" for v in fake.violations]
            errors += [f"unknown route: {r}" for r in fake.unknown_routes]
    results = {
        v: {n: summary([ms for _, ms in sent]) for n, sent in by.items()}
        for v, by in latencies.items()
    }
    merged = {v: merge_reports(r) for v, r in reports.items()}
    for v in variants:
        merged[v]["acks_hit"] = acks_hit(latencies[v], merged[v]["full_passes"])
    return results, merged, errors


def acks_hit(latencies: dict[str, list[tuple[float, float]]], passes: list[list[float]]) -> dict:
    """The acks a full collection overlapped (sent before it ended, answered after it began),
    and the worst of all the others. Both processes read the same monotonic clock."""
    hit: list[tuple[str, float]] = []
    others: list[float] = []
    for name, sent in latencies.items():
        for at, ms in sent:
            overlapped = any(at < t0 + gc_ms / 1000 and at + ms / 1000 > t0 for t0, gc_ms in passes)
            if overlapped:
                hit.append((name, ms))
            else:
                others.append(ms)
    return {
        "hit": sorted(hit, key=lambda item: -item[1]),
        "others_p999_ms": percentile(others, 0.999) if others else 0.0,
        "others_max_ms": max(others, default=0.0),
        "acks": len(hit) + len(others),
    }


def print_tables(results: dict[str, dict], reports: dict[str, dict]) -> None:
    variants = list(results)
    print(
        f"{'gc':<8}{'command':<26}{'runs':>6}{'median':>9}{'p90':>9}{'p99':>9}{'p99.9':>9}"
        f"{'max':>9}{'x /help':>9}  (ms)"
    )
    for variant in variants:
        baseline = results[variant].get("/help", {}).get("median_ms")
        for name, row in results[variant].items():
            ratio = f"{row['median_ms'] / baseline:9.2f}" if baseline else f"{'-':>9}"
            print(
                f"{variant:<8}{name:<26}{row['runs']:>6}{row['median_ms']:>9.2f}"
                f"{row['p90_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['p999_ms']:>9.2f}"
                f"{row['max_ms']:>9.2f}{ratio}"
            )
    if "off" in results and "freeze" in results:
        print("\nfreeze ÷ off, same command (below 1: faster with the frozen start-up heap)")
        print(f"{'command':<34}{'median':>9}{'p99':>9}{'p99.9':>9}{'max':>9}")
        for name, off in results["off"].items():
            on = results["freeze"][name]
            cells = "".join(
                f"{on[k] / off[k]:9.2f}" for k in ("median_ms", "p99_ms", "p999_ms", "max_ms")
            )
            print(f"{name:<34}{cells}")
    print(
        "\nCollections inside the bots while they answered (gc.callbacks, all rounds added up;"
        " generation 2 = full)"
    )
    print(
        f"{'gc':<8}{'frozen':>9}{'gen':>5}{'count':>7}{'max ms':>9}{'total ms':>10}"
        f"{'freed':>8}{'RSS MiB':>9}"
    )
    for variant in variants:
        report = reports[variant]
        for gen in ("0", "1", "2"):
            row = report["pauses"][gen]
            first = gen == "0"
            frozen = f"{report['frozen']:>9}" if first else " " * 9
            rss = f"{report['rss_kib'] / 1024:9.1f}" if first else ""
            print(
                f"{variant if first else '':<8}{frozen}{gen:>5}{row['count']:>7}"
                f"{row['max_ms']:>9.2f}{row['total_ms']:>10.1f}{row['collected']:>8}{rss}"
            )
    print("\nAcks a full collection overlapped (sent before it ended, answered after it began)")
    for variant in variants:
        seen = reports[variant]["acks_hit"]
        shown = ", ".join(f"{name} {ms:.1f}" for name, ms in seen["hit"]) or "none"
        print(
            f"{variant:<8}{len(seen['hit'])} of {seen['acks']} (ms): {shown}; every other ack: "
            f"p99.9 {seen['others_p999_ms']:.2f}, max {seen['others_max_ms']:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="invocations per command (1000)")
    parser.add_argument(
        "--commands",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--gc",
        default="off,freeze",
        help="comma-separated GC variants, run in this order: off, freeze",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="bots started per variant, alternating ABBA; runs are pooled (2)",
    )
    parser.add_argument("--log-level", default="INFO", help="the bot's LOG_LEVEL (INFO)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--players",
        type=int,
        default=10_000,
        help="ranked players (x2 races) seeded for /leaderboard (10000)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.commands.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown commands {unknown}")
    variants = [v.strip() for v in args.gc.split(",") if v.strip()]
    if not variants or set(variants) - set(GC_VARIANTS):
        parser.error(f"--gc takes variants from {list(GC_VARIANTS)}")

    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} python bench/e2e_latency.py "
        f"{' '.join(argv if argv is not None else sys.argv[1:])}".rstrip()
    )
    print(
        f"# {args.runs} sequential runs of each command per bot, {args.rounds} bot(s) per GC "
        f"variant (ABBA), pooled; /help is the trivial baseline; {args.players:,} players "
        f"x 2 races seeded; {os.cpu_count()} CPUs"
    )
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    results, reports, errors = asyncio.run(
        run(args.runs, names, args.log_level, args.players, variants, args.rounds)
    )
    print_tables(results, reports)
    print(
        f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"results": results, "bot": reports}, indent=2) + "\n", encoding="utf-8"
        )
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
