"""One matchmaking wave with 1k and 10k players queued, for three MMR distributions.

    python bench/bench_matchmaking.py

Targets (issue 3): 1k queued ≤ 10 ms, 10k queued ≤ 100 ms per wave. Prints min and median of
15 waves per case (different RNG seeds, the same queue). Each case runs twice: with nobody met
lately, and "+ rematches" (issue 15), where every player met his two nearest-MMR neighbours in
the last minutes and played each last on a map: the worst case of the rematch rule, since the
closest opponents are exactly the ones to pass over.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ladder.config import load_ladder_config
from ladder.matchmaking import NO_RECENT, QueueEntry, RaceRating, RecentPairings, pair_key, run_wave

CONFIG = load_ladder_config(Path(__file__).resolve().parent.parent / "data" / "ladder.toml")
START = datetime(2026, 1, 1, tzinfo=UTC)
CASES = {
    "gauss(1500, 250), 1-3 races": lambda rng: int(rng.gauss(1500, 250)),
    "everyone 1500 (season start)": lambda rng: 1500,
    "uniform 0..1,000,000 (few pairs)": lambda rng: rng.randint(0, 1_000_000),
}


def make_queue(size: int, seed: int, mmr) -> list[QueueEntry]:
    """A queue of `size` players with 1–3 races each and up to 4 vetoes."""
    rng = random.Random(seed)
    return [
        QueueEntry(
            uid,
            tuple(
                RaceRating(race, mmr(rng))
                for race in rng.sample(CONFIG.race_codes, rng.choice((1, 1, 2, 3)))
            ),
            START + timedelta(seconds=rng.random() * 600),
            frozenset(rng.sample(CONFIG.map_pool, rng.randint(0, CONFIG.max_vetoes))),
            rng.randint(0, 5),
        )
        for uid in range(size)
    ]


def neighbours_met(queue: list[QueueEntry]) -> RecentPairings:
    """Every player met the two players nearest his best-known MMR, on the first map."""
    ranked = sorted(queue, key=lambda e: e.races[0].mmr)
    keys = {
        pair_key(a.uid, b.uid)
        for step in (1, 2)
        for a, b in zip(ranked, ranked[step:], strict=False)
    }
    return RecentPairings(frozenset(keys), dict.fromkeys(keys, CONFIG.map_pool[0]))


def main() -> None:
    print(f"{'case':46} {'queued':>7} {'min ms':>8} {'median ms':>10}  result")
    for name, mmr in CASES.items():
        for size in (1_000, 10_000):
            queue = make_queue(size, size, mmr)
            for label, recent in (("", NO_RECENT), (" + rematches", neighbours_met(queue))):
                times = []
                for seed in range(15):
                    gc.collect()
                    started = time.perf_counter()
                    wave = run_wave(
                        queue, CONFIG.matchmaking, CONFIG.map_pool, random.Random(seed), recent
                    )
                    times.append(time.perf_counter() - started)
                times.sort()
                print(
                    f"{(name + label)[:46]:46} {size:>7} {times[0] * 1e3:8.1f}"
                    f" {times[len(times) // 2] * 1e3:10.1f}"
                    f"  {len(wave.pairings)} pairs, {len(wave.waiting)} waiting"
                )


if __name__ == "__main__":
    main()
