"""What answering /leaderboard many times leaves behind in the bot: RSS, live views, ack times.

    python bench/bench_leaderboard_views.py                  # 1000 calls
    python bench/bench_leaderboard_views.py --calls 300 --players 5000

The real bot (``bot.py`` through bench/e2e_latency.py's wrapper) runs against the fake Discord
on a seeded database. One player accepts the terms, runs /leaderboard 20 times (warm-up), then
``--calls`` times one after another, then clicks Next on the first and on the last of those
messages. Around that, the bot reports its RSS (/proc/self/status), the views nextcord holds
(``ViewStore``: views, and entries, one per component), its modals, asyncio tasks and garbage
collections. This process (the fake) does not collect garbage while the calls run, so its own
pauses are not counted against the bot. The start-up heap is frozen, as bot.py does.

What it compares is the bot with itself: the acks of the first 100 calls against the last 100,
and what the bot holds before the calls against after (views, tasks, RSS). A leaderboard that
keeps something per message shows up as growth there.

It used to also run an ``old`` variant, cogs/leaderboard.py at 883ffe0 (a LadderView per
message, kept 10 minutes), loaded in place of the current one. That file imports cogs/views.py,
which no longer exists, so it cannot run in today's bot any more and the variant is gone; its
measured numbers stay in bench/results/leaderboard_views.txt and bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # localdiscord
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from e2e.harness import BotProcess
from e2e_latency import (
    accept_terms,
    bot_report,
    percentile,
    seed_ladder,
    wrapper_env,
    write_bot_wrapper,
)

from localdiscord import FakeDiscord
from localdiscord.protocol import UPDATE_MESSAGE

WARMUP = 20
WINDOW = 100  # ack times of the first and the last WINDOW calls are compared


def ms(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


async def run_variant(
    fake: FakeDiscord, workdir: Path, seeded: Path, name: str, calls: int
) -> dict:
    await asyncio.to_thread(workdir.mkdir)
    await asyncio.to_thread(lambda: (workdir / "ladder.db").write_bytes(seeded.read_bytes()))
    extra = {"LOG_LEVEL": "WARNING"}
    bot = BotProcess(fake, workdir, env=wrapper_env(workdir, **extra), name=f"bot-{name}")
    await bot.start()
    try:
        player = fake.user(f"reader-{name}")
        await accept_terms(fake, player)
        for _ in range(WARMUP):
            await (await fake.slash(player, "leaderboard")).reply()
        await fake.settle()
        before = await bot_report(bot)
        acks, messages = [], []
        started = time.perf_counter()
        gc.collect()
        gc.disable()  # this process's own pauses (the fake's) are not the bot's
        try:
            for _ in range(calls):
                inter = await fake.slash(player, "leaderboard")
                acks.append((await inter.response()).latency * 1000)
                messages.append(await inter.reply())
        finally:
            gc.enable()
        wall = time.perf_counter() - started
        await fake.settle()
        after = await bot_report(bot)
        clicks: list[bool | float] = []  # per click: right page?, its latency (ms)
        for message in (messages[0], messages[-1]):
            click = await fake.click(player, message, label="Next")
            callback = await click.response()
            updated = await click.reply()
            clicks.append(callback.type == UPDATE_MESSAGE and "Page 2 of" in updated.text)
            clicks.append(callback.latency * 1000)
        await fake.settle()
        final = await bot_report(bot)
    finally:
        await bot.stop()
    return {
        "calls": calls,
        "wall_s": wall,
        "before": before,
        "after": after,
        "final": final,
        "first": ms(acks[:WINDOW]),
        "last": ms(acks[-WINDOW:]),
        "all": ms(acks),
        "clicks_ok": all(clicks[0::2]),
        "click_ms": clicks[1::2],
    }


async def run(args: argparse.Namespace) -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory(prefix="ladderbot-views-") as tmp:
        folder = Path(tmp)
        write_bot_wrapper(folder)
        seeded = folder / "seeded.db"
        await asyncio.to_thread(seed_ladder, seeded, args.players)
        async with FakeDiscord() as fake:
            results["bot"] = await run_variant(fake, folder / "bot", seeded, "bot", args.calls)
            await fake.settle()
            problems = [str(v) for v in fake.violations] + list(fake.unknown_routes)
    if problems:
        raise SystemExit("the bot broke Discord rules:\n" + "\n".join(problems))
    return results


def report(results: dict[str, dict]) -> None:
    print(
        f"{'code':<6}{'calls':>6}{'RSS before':>11}{'after':>8}{'growth':>8}{'KiB/call':>9}"
        f"{'views':>8}{'entries':>9}{'tasks':>8}{'modals':>7}  (MiB; views, entries, tasks: "
        "before → after)"
    )
    for name, r in results.items():
        b, a = r["before"], r["after"]
        growth = (a["rss_kib"] - b["rss_kib"]) / 1024
        print(
            f"{name:<6}{r['calls']:>6}{b['rss_kib'] / 1024:>11.1f}{a['rss_kib'] / 1024:>8.1f}"
            f"{growth:>8.1f}{(a['rss_kib'] - b['rss_kib']) / r['calls']:>9.1f}"
            f"{b['views']:>4}→{a['views']:<4}{b['view_entries']:>4}→{a['view_entries']:<5}"
            f"{b['tasks']:>3}→{a['tasks']:<4}{b['modals']:>3}→{a['modals']:<3}"
        )
    print(
        f"\n{'code':<6}{'acks: first ' + str(WINDOW):>24}{'last ' + str(WINDOW):>24}"
        f"{'all':>24}{'last ÷ first':>17}{'Next on first / last':>24}"
    )
    head = f"{'median':>10}{'p99':>7}{'max':>7}"
    print(f"{'':<6}{head}{head}{head}{'median':>10}{'max':>7}")
    for name, r in results.items():
        f, la = r["first"], r["last"]
        cells = "".join(
            f"{d['median']:>10.2f}{d['p99']:>7.2f}{d['max']:>7.2f}" for d in (f, la, r["all"])
        )
        clicks = " / ".join(f"{c:.2f}" for c in r["click_ms"])
        ok = "ok" if r["clicks_ok"] else "FAILED"
        print(
            f"{name:<6}{cells}{la['median'] / f['median']:>10.2f}{la['max'] / f['max']:>7.2f}"
            f"{clicks:>18} ms {ok}"
        )
    print(
        "\nCollections in the bot (gc.callbacks): count and objects freed during the calls,"
        " max ms since start-up"
    )
    for name, r in results.items():
        b, a = r["before"]["pauses"], r["after"]["pauses"]
        cells = "   ".join(
            f"gen {g}: {a[g]['count'] - b[g]['count']:>4}, {a[g]['max_ms']:6.2f},"
            f" {a[g]['collected'] - b[g]['collected']:>6}"
            for g in ("0", "1", "2")
        )
        print(f"{name:<6}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000, help="/leaderboard calls (1000)")
    parser.add_argument("--players", type=int, default=1000, help="seeded players (1000)")
    args = parser.parse_args(argv)
    if args.calls < WINDOW:
        parser.error(f"--calls must be at least {WINDOW}")
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"python bench/bench_leaderboard_views.py {shown}".rstrip()
    )
    print(
        f"# {args.calls} /leaderboard calls after {WARMUP} warm-up ones, one player, "
        f"{args.players:,} players x 2 races seeded; {os.cpu_count()} CPUs"
    )
    results = asyncio.run(run(args))
    report(results)
    print(
        f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min)"
    )
    return 0 if all(r["clicks_ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
