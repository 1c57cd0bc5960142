"""One big matchmaking wave, DMed by the real bot through the fake Discord at Discord's pace.

    python bench/bench_wave_dms.py                      # 2000 players, 50 req/s, 16 then 1 at once
    python bench/bench_wave_dms.py --players 500 --rate-limit 0 --concurrency 16
    python bench/bench_wave_dms.py --no-queue-messages --json out.json

For each variant it starts the local Discord (localdiscord/) with its opt-in global
rate limit: ``--rate-limit`` requests for the bot token in any one second, answered 429
``global`` beyond that, as Discord does with 50 (0: the fake does not limit, but nextcord still
holds itself to 50 a second, its ``max_global_requests``). It writes ``--players`` players
straight into a database made by the bot's migrations (terms accepted, setup done, one race,
all at the starting MMR: one wave pairs them all) and puts them in the queue, each with the
queue message /queue would have left in their DMs. Then it starts the real ``bot.py`` on a
copy of data/ whose ladder.toml has a short ``wave_interval_seconds``: the first wave makes
every match at once, and the bot DMs both players of each and edits their queue messages.

``--concurrency`` is how many DMs and edits the bot's Notifier sends at once. The shipped
value (cogs.matches.DM_CONCURRENCY) runs ``bot.py`` as it is; any other runs it through a
two-line wrapper that builds the Notifier with that ``concurrency`` and changes nothing else
(1 = one after another, the way the bot sent a wave before).

Measured, per match DM, from the wave (``matches.created_at``) to the DM's arrival at the fake
(the fake's clock and the bot's are the same machine's): p50, p90, p99, max; the time to the
last DM and to the last queue-message edit. Then the confirmation window: for every DM, the
slack ``confirm_deadline - arrival`` of its match as stored once the wave is out (the bot
starts a match's window when its DMs are sent), which must be about the whole window; how
many DMs arrived after ``created_at + window`` (where the deadline would be if the window
started at the wave); and every match the deadline loop cancelled before the window after its
second DM could have run out. Also the REST requests by route, the 429s, and the most
requests the fake served in any one second.

The players never confirm: once a match's deadline passes it is cancelled as a no-show, and
its two messages are edited, as on a real ladder where some players are away. Each variant
stops by itself after ``--timeout`` seconds at most. Exit status 1 if a player got no DM or
two, or a DM left its player less than the window minus ``--margin`` seconds, or a match was
cancelled early.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

from e2e import harness  # noqa: E402
from e2e.harness import BotProcess  # noqa: E402

from cogs.matches import DM_CONCURRENCY  # noqa: E402
from localdiscord import FakeDiscord, FakeUser  # noqa: E402
from storage.database import Database, format_time, parse_time  # noqa: E402

WAVE_SECONDS = 2.0  # the first wave comes this long after the bot is ready
RACE = "bw_terran"
DM_ROUTE = "/channels/{channel_id}/messages"
EDIT_ROUTE = "/channels/{channel_id}/messages/{message_id}"
EXEMPT = ("/interactions/", "/webhooks/")  # not bound by the global rate limit

# bot.py with one change: the Notifier sends `concurrency` DMs and edits at once.
BOT_WRAPPER = """\
import functools, sys
sys.path.insert(0, {root!r})
import cogs.bot
from cogs.matches import Notifier
cogs.bot.Notifier = functools.partial(Notifier, concurrency={concurrency})
import bot
sys.exit(bot.main([]))
"""


@dataclass
class Run:
    """What one variant measured (seconds unless named otherwise)."""

    players: int
    rate_limit: int
    concurrency: int
    window: float
    queue_messages: bool
    matches: int = 0
    dms: int = 0
    players_without_dm: int = 0
    players_with_two_dms: int = 0
    latency: list[float] = field(default_factory=list)  # wave -> each DM's arrival
    slack: list[float] = field(default_factory=list)  # stored deadline - each DM's arrival
    queue_edits: list[float] = field(default_factory=list)  # wave -> each queue-message edit
    late_at_wave_deadline: int = 0  # DMs after created_at + window
    cancelled_early: int = 0  # cancelled before their window after the second DM ran out
    cancelled_before_dm: int = 0  # cancelled before one of their DMs arrived
    cancelled: int = 0
    routes: Counter = field(default_factory=Counter)
    throttled: int = 0  # 429 answers
    peak_per_second: int = 0
    served_rate: float = 0.0  # limited requests served a second, wave -> last DM
    timed_out: bool = False
    stop_problem: str = ""
    wall: float = 0.0

    def summary(self) -> dict:
        return {
            "players": self.players,
            "rate_limit": self.rate_limit,
            "concurrency": self.concurrency,
            "window": self.window,
            "queue_messages": self.queue_messages,
            "matches": self.matches,
            "dms": self.dms,
            "players_without_dm": self.players_without_dm,
            "players_with_two_dms": self.players_with_two_dms,
            "latency": stats(self.latency),
            "slack": stats(self.slack),
            "queue_edits": stats(self.queue_edits),
            "late_at_wave_deadline": self.late_at_wave_deadline,
            "cancelled": self.cancelled,
            "cancelled_early": self.cancelled_early,
            "cancelled_before_dm": self.cancelled_before_dm,
            "routes": dict(self.routes),
            "throttled": self.throttled,
            "peak_per_second": self.peak_per_second,
            "served_rate": round(self.served_rate, 1),
            "timed_out": self.timed_out,
            "stop_problem": self.stop_problem,
            "wall": round(self.wall, 1),
        }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def stats(values: list[float]) -> dict:
    if not values:
        return {}
    return {
        "n": len(values),
        "min": round(min(values), 3),
        "p50": round(statistics.median(values), 3),
        "p90": round(pct(values, 0.90), 3),
        "p99": round(pct(values, 0.99), 3),
        "max": round(max(values), 3),
    }


def data_dir(folder: Path, window: float) -> Path:
    """A copy of data/ with a short wave interval and the given confirmation window."""
    data = folder / "data"
    shutil.copytree(REPO_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db*"))
    toml = data / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    for key, value in {
        "wave_interval_seconds": WAVE_SECONDS,
        "confirmation_window_seconds": window,
    }.items():
        lines = [
            f"{key} = {value}" if ln.startswith(f"{key} = ") else ln for ln in text.split("\n")
        ]
        assert lines != text.split("\n"), f"ladder.toml has no {key}"
        text = "\n".join(lines)
    toml.write_text(text, encoding="utf-8")
    return data


async def seed(path: Path, fake: FakeDiscord, users: list[FakeUser], queue_messages: bool) -> None:
    """Players who finished /setup, all queued with one race, in a database the bot made."""
    db = await Database.open(path)
    await db.close()
    now = datetime.now(UTC)
    joined = format_time(now - timedelta(seconds=30))
    stamp = format_time(now - timedelta(days=1))
    players, queue = [], []
    for n, user in enumerate(users):
        players.append(
            (user.id, user.username, f"Wave{n:05d}", f"Wave{n:05d}#{1000 + n}", "FR", "EU",
             1, stamp, 1, stamp, 0, stamp, stamp)
        )  # fmt: skip
        channel_id = message_id = None
        if queue_messages:
            # What /queue left in the player's DMs in an earlier run.
            channel = fake.dm_channel(user)
            message = fake.plant_message(
                channel,
                {
                    "embeds": [{"title": "You are in the queue", "description": "Waiting"}],
                    "components": [],
                },
            )
            channel_id, message_id = channel.id, message.id
        queue.append((user.id, json.dumps([RACE]), "[]", joined, channel_id, message_id))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, player_name, battletag, country,"
            " region, accepted_tos, accepted_tos_at, completed_setup, completed_setup_at,"
            " banned, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            players,
        )
        conn.executemany(
            "INSERT INTO queue_entries (discord_uid, races, vetoes, joined_at, channel_id,"
            " message_id) VALUES (?, ?, ?, ?, ?, ?)",
            queue,
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def rows(path: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def epoch(moment: datetime | None) -> float:
    assert moment is not None
    return moment.timestamp()


async def run_variant(args: argparse.Namespace, concurrency: int, rate_limit: int) -> Run:
    run = Run(args.players, rate_limit, concurrency, args.window, args.queue_messages)
    folder = Path(tempfile.mkdtemp(prefix="ladderbot-wave-", dir=args.dir))
    started = time.monotonic()
    old_script = harness.BOT_SCRIPT
    try:
        async with FakeDiscord(global_rate_limit=rate_limit or None) as fake:
            users = [fake.user(f"wave{n}") for n in range(args.players)]
            by_channel = {fake.dm_channel(u).id: u.id for u in users}
            workdir = folder / "bot"
            workdir.mkdir()
            await seed(workdir / "ladder.db", fake, users, args.queue_messages)
            queue_message_ids = {m.id for m in fake.messages.values()}
            if concurrency != DM_CONCURRENCY:
                wrapper = folder / "bench_bot.py"
                wrapper.write_text(
                    BOT_WRAPPER.format(root=str(REPO_ROOT), concurrency=concurrency),
                    encoding="utf-8",
                )
                harness.BOT_SCRIPT = wrapper
            env = {"DATA_DIR": str(data_dir(folder, args.window)), "LOG_LEVEL": "INFO"}
            bot = BotProcess(fake, workdir, env=env)
            # Wall clock = monotonic + offset, in this process, which is also the fake's.
            offset = time.time() - time.monotonic()
            await bot.start(within=120)
            try:
                arrivals, edits = await watch(
                    fake,
                    run,
                    by_channel,
                    queue_message_ids,
                    args.timeout - (time.monotonic() - started),
                )
                measure(run, fake, workdir / "ladder.db", arrivals, edits, offset, args.margin)
            finally:
                try:
                    await bot.stop(within=30)
                except AssertionError as exc:  # figures stand; the stop is reported beside them
                    run.stop_problem = str(exc).splitlines()[0]
            run.wall = time.monotonic() - started
    finally:
        harness.BOT_SCRIPT = old_script
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return run


async def watch(
    fake: FakeDiscord,
    run: Run,
    by_channel: dict[int, int],
    queue_message_ids: set[int],
    seconds: float,
) -> tuple[dict[int, list[float]], dict[int, float]]:
    """Follow the fake's request log until every player has a match DM (and every queue
    message its edit), or the time is up: {uid: [DM arrivals]}, {message id: first edit}."""
    arrivals: dict[int, list[float]] = {}
    edits: dict[int, float] = {}
    seen = 0
    deadline = time.monotonic() + max(seconds, 1.0)
    while True:
        new = fake.requests[seen:]
        seen += len(new)
        for r in new:
            if r.status >= 300:
                continue
            if r.method == "POST" and r.route == DM_ROUTE:
                uid = by_channel.get(int(r.path.split("/")[2]))
                if uid is not None:
                    arrivals.setdefault(uid, []).append(r.at)
            elif r.method == "PATCH" and r.route == EDIT_ROUTE:
                message_id = int(r.path.split("/")[4])
                if message_id in queue_message_ids:
                    edits.setdefault(message_id, r.at)
        if len(arrivals) >= run.players and len(edits) >= len(queue_message_ids):
            await asyncio.sleep(1.0)  # a second DM to someone would show up now
            continue_after = fake.requests[seen:]
            if not any(r.method == "POST" and r.route == DM_ROUTE for r in continue_after):
                return arrivals, edits
        if time.monotonic() > deadline:
            run.timed_out = True
            return arrivals, edits
        await asyncio.sleep(0.2)


def measure(
    run: Run,
    fake: FakeDiscord,
    database: Path,
    arrivals: dict[int, list[float]],
    edits: dict[int, float],
    offset: float,
    margin: float,
) -> None:
    matches = rows(database, "SELECT * FROM matches ORDER BY id")
    run.matches = len(matches)
    run.dms = sum(len(times) for times in arrivals.values())
    run.players_without_dm = run.players - len(arrivals)
    run.players_with_two_dms = sum(len(times) > 1 for times in arrivals.values())
    if not matches:
        return
    wave = min(epoch(parse_time(m["created_at"])) for m in matches)
    last_dm = wave
    for m in matches:
        created = epoch(parse_time(m["created_at"]))
        deadline = epoch(parse_time(m["confirm_deadline"]))
        times = [
            t + offset
            for uid in (m["player1_uid"], m["player2_uid"])
            for t in arrivals.get(uid, [])
        ]
        for at in times:
            run.latency.append(at - created)
            run.slack.append(deadline - at)
            run.late_at_wave_deadline += at > created + run.window
            last_dm = max(last_dm, at)
        if m["status"] == "cancelled":
            run.cancelled += 1
            ended = epoch(parse_time(m["ended_at"]))
            if len(times) < 2 or ended < max(times):
                run.cancelled_before_dm += 1
            if len(times) < 2 or ended < max(times) + run.window - margin:
                run.cancelled_early += 1
    run.queue_edits = [at + offset - wave for at in edits.values()]
    limited = [r for r in fake.requests if r.route != "/gateway" and not r.route.startswith(EXEMPT)]
    run.routes = Counter(
        f"{r.method} {r.route} {r.status}" for r in limited if r.at + offset >= wave
    )
    run.throttled = sum(r.status == 429 for r in limited)
    served = sorted(r.at for r in limited if r.status != 429)
    # Sliding count: the most served requests within any one second.
    j = 0
    for i, at in enumerate(served):
        while served[j] <= at - 1.0:
            j += 1
        run.peak_per_second = max(run.peak_per_second, i - j + 1)
    in_wave = [at for at in served if wave <= at + offset <= last_dm]
    if last_dm > wave:
        run.served_rate = len(in_wave) / (last_dm - wave)


def report(runs: list[Run], args: argparse.Namespace) -> None:
    print(
        f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC python bench/bench_wave_dms.py "
        f"{' '.join(sys.argv[1:])}".rstrip()
    )
    print(
        f"# {args.players} players queued (one race, one MMR: one wave, {args.players // 2}"
        f" matches); confirmation window {args.window:g} s; queue messages"
        f" {'edited' if args.queue_messages else 'absent'}; {os.cpu_count()} CPUs"
    )
    print()
    print(
        f"{'rate/s':>6} {'conc':>4} | {'DMs':>5} {'first':>6} {'p50':>6} {'p90':>6} {'p99':>6}"
        f" {'max':>6} | {'q-edit last':>11} | {'slack min':>9} {'p1':>6} {'p50':>6} |"
        f" {'late@wave':>9} {'cancel<DM':>9} {'early':>5} | {'429s':>5} {'peak/s':>6}"
        f" {'served/s':>8} | {'wall':>5}"
    )
    for r in runs:
        lat, sl = r.latency or [math.nan], r.slack or [math.nan]
        edits = r.queue_edits or [math.nan]
        print(
            f"{r.rate_limit or 'off':>6} {r.concurrency:>4} | {r.dms:>5} {min(lat):>6.1f}"
            f" {statistics.median(lat):>6.1f} {pct(lat, 0.9):>6.1f} {pct(lat, 0.99):>6.1f}"
            f" {max(lat):>6.1f} | {max(edits):>11.1f} | {min(sl):>9.2f} {pct(sl, 0.01):>6.2f}"
            f" {statistics.median(sl):>6.2f} | {r.late_at_wave_deadline:>9}"
            f" {r.cancelled_before_dm:>9} {r.cancelled_early:>5} | {r.throttled:>5}"
            f" {r.peak_per_second:>6} {r.served_rate:>8.1f} | {r.wall:>5.0f}"
            + ("  TIMED OUT" if r.timed_out else "")
        )
    print()
    print("seconds; DM columns: wave (matches.created_at) -> the DM's arrival at the fake;")
    print("q-edit last: wave -> the last queue message edited; slack: stored confirm_deadline")
    print("- arrival, per DM; late@wave: DMs after created_at + window (the deadline if the")
    print("window started at the wave); cancel<DM: matches cancelled as no-shows before one of")
    print("their DMs arrived; early: cancelled before arrival of the 2nd DM + window - margin;")
    print("peak/s: most requests served in any one second; served/s: wave -> last DM;")
    print("rate off: the fake does not limit, nextcord still sends at most 50 a second.")
    for r in runs:
        print()
        print(
            f"requests after the wave, rate {r.rate_limit or 'off'}, concurrency {r.concurrency}:"
        )
        for key, count in sorted(r.routes.items()):
            print(f"  {count:>6}  {key}")
        if len(r.latency) > 1 and r.rate_limit:
            print(f"  DMs/s {len(r.latency) / max(r.latency):.1f}")


def check(runs: list[Run], margin: float) -> list[str]:
    problems = []
    for r in runs:
        name = f"rate {r.rate_limit or 'off'}, concurrency {r.concurrency}"
        if r.timed_out:
            problems.append(f"{name}: timed out")
        if r.stop_problem:
            problems.append(f"{name}: {r.stop_problem}")
        if r.players_without_dm or r.players_with_two_dms:
            problems.append(
                f"{name}: {r.players_without_dm} players without a DM,"
                f" {r.players_with_two_dms} with two"
            )
        if r.slack and min(r.slack) < r.window - margin:
            problems.append(f"{name}: smallest slack {min(r.slack):.2f} s < window - margin")
        if r.cancelled_early:
            problems.append(f"{name}: {r.cancelled_early} matches cancelled early")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=2000)
    parser.add_argument(
        "--rate-limit",
        default="50",
        help="the fake's global limit, requests/s, comma-separated variants; 0 = off (50)",
    )
    parser.add_argument(
        "--concurrency",
        default=f"{DM_CONCURRENCY},1",
        help=f"the Notifier's DMs at once, comma-separated variants ({DM_CONCURRENCY},1)",
    )
    parser.add_argument("--window", type=float, default=60.0, help="confirmation window, s")
    parser.add_argument(
        "--margin", type=float, default=5.0, help="slack allowed below the window, s (5)"
    )
    parser.add_argument(
        "--queue-messages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="players have a queue message the wave edits (default: yes)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="per variant, s (900)")
    parser.add_argument("--dir", default=None, help="where the temporary folders go")
    parser.add_argument("--keep", action="store_true", help="keep the folders (bot logs)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.players < 2 or args.players % 2:
        parser.error("--players must be an even number of at least 2")
    variants = [
        (int(rate), int(conc))
        for rate in args.rate_limit.split(",")
        for conc in args.concurrency.split(",")
    ]
    runs = []
    for rate, conc in variants:
        print(f"... rate {rate or 'off'}, concurrency {conc}", file=sys.stderr, flush=True)
        runs.append(asyncio.run(run_variant(args, conc, rate)))
    report(runs, args)
    if args.json:
        args.json.write_text(json.dumps([r.summary() for r in runs], indent=1), encoding="utf-8")
    problems = check(runs, args.margin)
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
