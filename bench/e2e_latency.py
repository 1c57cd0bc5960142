"""End-to-end latency of the real bot, through the fake Discord of the e2e tests.

    python bench/e2e_latency.py                   # 200 runs of each command
    python bench/e2e_latency.py --runs 50 --json bench/results/e2e_latency.json

It starts the fake Discord (tests/e2e/fake_discord.py) and the real ``bot.py`` on a fresh
database in a temporary folder, makes one player who has accepted the terms of service, then
sends each command ``--runs`` times, one after another. For each it measures the time from
sending INTERACTION_CREATE on the gateway to the bot's first answer arriving (the interaction
callback), which is what Discord holds to 3 seconds. It prints median, p90, p99 and max per
command, and exits 1 if the bot broke a Discord rule on the way.

What is measured is the bot plus local loopback, not Discord: real latency adds the network
round trips to Discord on both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from e2e.discord_objects import FakeUser, SentInteraction  # noqa: E402
from e2e.fake_discord import FakeDiscord  # noqa: E402
from e2e.harness import BotProcess  # noqa: E402

Scenario = Callable[[FakeDiscord, FakeUser], Awaitable[SentInteraction]]

SCENARIOS: dict[str, Scenario] = {
    "/help": lambda fake, user: fake.slash(user, "help"),
    "/leaderboard": lambda fake, user: fake.slash(user, "leaderboard"),
    "/profile": lambda fake, user: fake.slash(user, "profile"),
    "/termsofservice": lambda fake, user: fake.slash(user, "termsofservice"),
    "/setcountry autocomplete": lambda fake, user: fake.autocomplete(
        user, "setcountry", focused="country", value="fr"),
}


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]


async def accept_terms(fake: FakeDiscord, user: FakeUser) -> None:
    terms = await (await fake.slash(user, "termsofservice")).reply()
    await (await fake.click(user, terms, label="Accept")).response()


async def measure(fake: FakeDiscord, user: FakeUser, scenario: Scenario,
                  runs: int) -> list[float]:
    latencies = []
    for _ in range(runs):
        inter = await scenario(fake, user)
        callback = await inter.response()
        latencies.append(callback.latency * 1000)
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
                [(u, f"p{u}", f"p{u}", ("FR", "KR", "US")[u % 3], now, now)
                 for u in range(1, players + 1)],
            )
            await conn.executemany(
                "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses,"
                " last_played_at) VALUES (?, ?, ?, 10, 5, 5, ?)",
                [(u, race, 1000 + (u * 7919 + i * 104729) % 1000, now)
                 for u in range(1, players + 1) for i, race in enumerate(RACES)],
            )
        await db.close()

    asyncio.run(seed())


async def run(
    runs: int, names: list[str], log_level: str, players: int
) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ladderbot-bench-") as tmp:
        async with FakeDiscord() as fake:
            bot = BotProcess(fake, Path(tmp), env={"LOG_LEVEL": log_level})
            if players:
                await asyncio.to_thread(seed_ladder, bot.database_path, players)
            await bot.start()
            try:
                player = fake.user("bench-player")
                await accept_terms(fake, player)
                for name in names:
                    started = time.perf_counter()
                    latencies = await measure(fake, player, SCENARIOS[name], runs)
                    results[name] = {
                        "runs": runs,
                        "median_ms": statistics.median(latencies),
                        "p90_ms": percentile(latencies, 0.90),
                        "p99_ms": percentile(latencies, 0.99),
                        "max_ms": max(latencies),
                        "wall_s": time.perf_counter() - started,
                    }
            finally:
                await bot.stop()
            await fake.settle()
            if fake.violations or fake.unknown_routes:
                for violation in fake.violations:
                    print(f"violation: {violation}", file=sys.stderr)
                for route in fake.unknown_routes:
                    print(f"unknown route: {route}", file=sys.stderr)
                results["_errors"] = {"violations": len(fake.violations),
                                      "unknown_routes": len(fake.unknown_routes)}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="invocations per command")
    parser.add_argument("--commands", default=",".join(SCENARIOS),
                        help=f"comma-separated, from: {', '.join(SCENARIOS)}")
    parser.add_argument("--log-level", default="INFO", help="the bot's LOG_LEVEL (INFO)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--players", type=int, default=10_000,
                        help="ranked players (x2 races) seeded for /leaderboard (10000)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.commands.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown commands {unknown}")

    results = asyncio.run(run(args.runs, names, args.log_level, args.players))
    errors = results.pop("_errors", None)
    baseline = results.get("/help", {}).get("median_ms")
    print(f"{'command':<26}{'runs':>6}{'median':>10}{'p90':>10}{'p99':>10}{'max':>10}"
          f"{'x /help':>9}  (ms)")
    for name, row in results.items():
        ratio = f"{row['median_ms'] / baseline:9.2f}" if baseline else f"{'-':>9}"
        print(f"{name:<26}{row['runs']:>6}{row['median_ms']:>10.2f}{row['p90_ms']:>10.2f}"
              f"{row['p99_ms']:>10.2f}{row['max_ms']:>10.2f}{ratio}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if errors:
        print(f"the bot broke Discord rules: {errors}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
