"""The command pipeline's own cost on a trivial command, with the player cache warm.

    python bench/bench_pipeline.py [--commands 20000]

Measures, in one run: (base) awaiting a no-op handler directly, and (pipeline) the same handler
through `CommandPipeline.run`: flow timing, the player read (a cache hit), the guard checks, the
log row queued for the real `CommandLogWriter`, and the flow line. The difference is the
pipeline's overhead per command. Real SQLite file, real writer; the interaction is a small
stand-in with only the attributes the pipeline reads (there is no Discord here).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cache.players import PlayerCache
from cogs.pipeline import CommandPipeline
from ladder.guards import Access, CommandRule
from storage.command_log import CommandLogWriter
from storage.database import Database
from storage.players import PlayerRepository

UID = 1234


def interaction(number: int) -> Any:  # a stand-in for nextcord.Interaction
    """What the pipeline reads of an interaction: id, user, guild, command name, locale."""
    return SimpleNamespace(
        id=(1_700_000_000_000 - 1_420_070_400_000) << 22 | number,
        user=SimpleNamespace(id=UID, name="bench"),
        guild_id=None,
        application_command=SimpleNamespace(qualified_name="profile"),
        data={},
        locale="ko",  # a player whose Discord app is in Korean: the pipeline sets the language
    )


async def main(commands: int) -> None:
    logging.disable(logging.WARNING)  # the flow lines are DEBUG; keep the timing clean
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bench.db")
        players = PlayerRepository(db, PlayerCache())
        await players.record_terms(UID, "bench", accepted=True)
        writer = CommandLogWriter(db)
        writer.start()
        pipeline = CommandPipeline(players, writer, admin_ids=frozenset(), dm_only=True)
        rule = CommandRule(Access.TERMS)

        async def handler() -> None:
            return None

        await pipeline.run(interaction(0), rule, handler)  # warm the cache
        clock = time.perf_counter_ns
        base, piped = [], []
        for number in range(1, commands + 1):
            started = clock()
            await handler()
            base.append(clock() - started)
            started = clock()
            await pipeline.run(interaction(number), rule, handler)
            piped.append(clock() - started)
        lost = await writer.close()
        rows = (await db.fetchone("SELECT count(*) FROM command_calls"))[0]
        stats = players.cache.stats()
        await db.close()

    def pct(values: list[int], q: float) -> float:
        return sorted(values)[int(q * (len(values) - 1))] / 1000

    print(f"commands: {commands}, rows written: {rows}, lost: {lost}, cache hits: {stats.hits}")
    print(f"{'':24} {'p50 µs':>8} {'p99 µs':>8}")
    print(f"{'handler alone':24} {pct(base, 0.5):8.2f} {pct(base, 0.99):8.2f}")
    print(f"{'through the pipeline':24} {pct(piped, 0.5):8.2f} {pct(piped, 0.99):8.2f}")
    overhead = statistics.median(p - b for p, b in zip(piped, base, strict=True)) / 1000
    print(f"pipeline overhead (median of per-command differences): {overhead:.2f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().commands))
