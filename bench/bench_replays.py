"""A bystander's latency while hostile replays are uploaded, through the real bot and client.

    python bench/bench_replays.py                      # 200 bystander /help calls per phase
    python bench/bench_replays.py --runs 500 --uploaders 3 --out bench/results/replays.txt

It starts the local Discord (localdiscord/) and the real ``bot.py`` on a fresh database, makes
two players with a match in progress (the uploaders) and a bystander who accepted the terms.
Phase "idle": the bystander sends /help ``--runs`` times, one after another, and each ack's
latency (INTERACTION_CREATE sent → the interaction callback arriving) is recorded. Phase
"hostile": the same (and on until they finish) while ``--uploaders`` players each send
``--rounds`` rounds of hostile files back to back with
/replay — 5 MB of random bytes, a real replay's first 1 KB followed by 5 MB of random bytes
(an MPQ header whose tables point nowhere), a truncated real replay, a zip, and a file declared
1 KB that is 6 MB (cut off while downloading). Each upload's time to its refusal is recorded
too, by kind. Not a timed test: numbers depend on the machine; it exits 1 if a hostile upload
was not refused, or if the bot broke a Discord rule.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # localdiscord
sys.path.insert(0, str(REPO_ROOT / "tests"))

from e2e.flows import ladder_data_dir, matched_pair, onboard, press  # noqa: E402
from e2e.harness import BotProcess  # noqa: E402

from localdiscord import FakeDiscord, FakeFile, FakeUser  # noqa: E402

REPLAY = (
    REPO_ROOT / "tests" / "data" / "replays" / "5.0.0.80949_EverDream_JiaanN_vs_Rairden.SC2Replay"
)
MB = 2**20


def hostile_files() -> dict[str, FakeFile]:
    real = REPLAY.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("game.SC2Replay", real)
    return {
        "5 MB random": FakeFile("a.SC2Replay", os.urandom(5 * MB - 1)),
        "MPQ header + random": FakeFile("b.SC2Replay", real[:1024] + os.urandom(5 * MB - 2048)),
        "truncated replay": FakeFile("c.SC2Replay", real[: len(real) // 3]),
        "a zip": FakeFile("d.SC2Replay", buf.getvalue()),
        "6 MB declared 1 KB": FakeFile("e.SC2Replay", os.urandom(6 * MB), declared_size=1024),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(share * len(ordered) + 0.999999) - 1))]


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<24} {len(values):>5} {statistics.median(values):>9.1f} "
        f"{percentile(values, 0.9):>9.1f} {percentile(values, 0.99):>9.1f} {max(values):>9.1f}"
    )


async def bystander(
    fake: FakeDiscord, user: FakeUser, runs: int, until: asyncio.Event | None = None
) -> list[float]:
    """/help `runs` times, and on until `until` is set (if given)."""
    latencies: list[float] = []
    while len(latencies) < runs or (until is not None and not until.is_set()):
        inter = await fake.slash(user, "help")
        callback = await inter.response()
        latencies.append(callback.latency * 1000)
    return latencies


async def uploader(
    fake: FakeDiscord, user: FakeUser, files: dict[str, FakeFile],
    times: dict[str, list[float]], failures: list[str], rounds: int, done: asyncio.Event,
) -> None:  # fmt: skip
    for _ in range(rounds):
        for kind, file in files.items():
            started = time.monotonic()
            reply = await (await fake.slash(user, "replay", {"file": file})).reply(within=60)
            times.setdefault(kind, []).append((time.monotonic() - started) * 1000)
            if "Replay verified" in reply.text or "not verified" in reply.text:
                failures.append(f"{kind}: {reply.text[:200]}")
    done.set()


async def run(runs: int, uploaders: int, rounds: int) -> tuple[str, bool]:
    with tempfile.TemporaryDirectory(prefix="bench-replays-") as folder:
        base = Path(folder)
        data = ladder_data_dir(base)
        async with FakeDiscord() as fake:
            bot = BotProcess(fake, base, env={"DATA_DIR": str(data), "LOG_LEVEL": "INFO"})
            await bot.start()
            try:
                players = await onboard(fake, *(f"Up{i}" for i in range(2 * uploaders)))
                for i in range(uploaders):
                    a, b = players[2 * i], players[2 * i + 1]
                    dm_a, dm_b = await matched_pair(fake, a, b, i + 1)
                    await press(fake, a, dm_a, "Confirm")
                    await press(fake, b, dm_b, "Confirm")
                watcher = fake.user("bystander")
                await (await fake.slash(watcher, "help")).response()  # warm up
                idle = await bystander(fake, watcher, runs)
                times: dict[str, list[float]] = {}
                failures: list[str] = []
                files = hostile_files()
                done = [asyncio.Event() for _ in range(uploaders)]
                tasks = [
                    asyncio.create_task(
                        uploader(fake, players[2 * i], files, times, failures, rounds, done[i])
                    )
                    for i in range(uploaders)
                ]
                everyone = asyncio.Event()
                waiter = asyncio.create_task(_all_set(done, everyone))
                hostile = await bystander(fake, watcher, runs, everyone)
                await asyncio.gather(*tasks, waiter)
                violations = fake.take_violations()
            finally:
                await bot.stop()
    header = f"{'':<24} {'n':>5} {'median':>9} {'p90':>9} {'p99':>9} {'max':>9}  (ms)"
    lines = [
        f"bench_replays: {runs}+ bystander /help acks per phase, {uploaders} hostile uploader(s)"
        f" x {rounds} round(s) of {len(times)} kinds,"
        f" {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}",
        "",
        "Bystander /help ack latency",
        header,
        line("idle", idle),
        line("during hostile uploads", hostile),
        "",
        "Hostile upload: /replay sent → refusal shown",
        header,
        *(line(kind, values) for kind, values in times.items()),
    ]
    ok = not failures and not violations
    if failures:
        lines += ["", "NOT REFUSED:", *failures]
    if violations:
        lines += ["", f"Discord rule violations: {violations}"]
    return "\n".join(lines) + "\n", ok


async def _all_set(events: list[asyncio.Event], then: asyncio.Event) -> None:
    for event in events:
        await event.wait()
    then.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="bystander calls per phase")
    parser.add_argument("--uploaders", type=int, default=2, help="hostile upload loops at once")
    parser.add_argument("--rounds", type=int, default=3, help="hostile files each uploader sends")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    text, ok = asyncio.run(run(args.runs, args.uploaders, args.rounds))
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
