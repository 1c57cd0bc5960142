"""Open-loop load on the real bot through the fake Discord: where it bends, and how it degrades.

    python bench/bench_load.py                            # levels 0,100,250,500,750,1000/s
    python bench/bench_load.py --quick                    # 0,100,250,500 for 6 s each
    python bench/bench_load.py --variants echo,bot,before=dd4bfb2 --levels 0,250,500,1000
    python bench/bench_load.py --soak 600 --soak-rate 500 # RSS over 10 minutes at one rate
    options: --duration S, --players N, --matches N, --users N, --seed N, --out PATH,
             --rounds N (the levels N times over, a knee per round),
             --profile LEVEL (py-spy record of the bot during that level, if py-spy is there)

Every variant is one bot process against its own fake Discord (tests/e2e/fake_discord.py), all
started before the first level and kept running; the levels are interleaved, each level
running every variant in turn (the order reversed from one level to the next), so a machine
getting busier or quieter weighs on all of them alike. Variants:

* ``bot``: ``bot.py`` of this working tree, the production program and its ``build_bot``,
  on a copy of a ladder of ``--players`` players (2 races each, ``--matches`` finished
  matches; bench/gen_ladder_db.py) in which ``--users`` of them, all onboarded, send the load.
* ``NAME=REV``: the same, with ``bot.py`` and everything it imports from ``git archive REV``
  (a before/after figure on one machine in one run); its database is made by its own code.
  ``NAME=.`` is this working tree again, under another name: with ``--env NAME:KEY=VALUE``
  (e.g. ``LADDERBOT_EVENT_LOOP=asyncio``) or ``--hide NAME:MODULE`` (the bot runs as if
  MODULE, e.g. ``orjson``, were not installed) it compares one switch side by side.
* ``echo``: the floor: a nextcord bot with one command that answers at once, under the same
  load (every command is ``/echo``), same client library, same fake, same generator.

At each level the generator sends INTERACTION_CREATE events at Poisson arrival times (open
loop: the next one is sent when it is due, whatever the bot is doing) with the issue's mix:
40% /profile, 30% /leaderboard, 15% /help, 10% /queue, 5% /setcountry autocomplete, each from
one of the ``--users`` players at random. One more player, the bystander, runs /profile every
100 ms, and its latency (event sent → the bot's first answer arriving) is what is timed.

Per level and variant: offered and answered commands a second (answered = first answer within
Discord's 3 s, counted for the events of this level), the bystander's p50/p99/max, the events
that got no answer within 3 s ("missed", the bot's expired drops included) and those answered
after it ("late": the bot did the work for nothing), the bot process's RSS and CPU (from /proc),
and the machine's load average. The knee is the highest level at which the bystander's p99
stays within 2x its p99 at level 0 and no event of the level (load or bystander) missed 3 s.
With ``--rounds N`` it is judged per round, and once more over all rounds pooled per level
(the same rule on N times the bystander answers: a steadier p99 than one round's 2nd worst).

Is the generator the bottleneck? It runs in this process (with the fake Discord), not in the
bot's, and it measures itself: every event's lateness (sent − due) is reported per level, with
this process's CPU. When the generator keeps its schedule (lateness p99 of a few ms) and this
process has CPU to spare, the load offered is the load asked for and whatever the bot does not
answer is the bot's. The echo variant is the same generator and fake against a bot that does
nothing: its answered/s and latency show what this harness sustains.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

try:
    from localdiscord import FakeDiscord, FakeUser, SentInteraction
    from localdiscord.protocol import APPLICATION_COMMAND, AUTOCOMPLETE
except ImportError:  # the fake before it moved out of tests/e2e
    from e2e.discord_objects import (  # type: ignore[no-redef]
        APPLICATION_COMMAND,
        AUTOCOMPLETE,
        FakeUser,
        SentInteraction,
    )
    from e2e.fake_discord import FakeDiscord  # type: ignore[no-redef]

WINDOW_S = 3.0  # Discord's deadline for the first answer
BYSTANDER_PERIOD_S = 0.1
DEFAULT_LEVELS = (0, 100, 250, 500, 750, 1000)
QUICK_LEVELS = (0, 100, 250, 500)
MIX = (  # (weight, command, kind)
    (40, "profile", APPLICATION_COMMAND),
    (30, "leaderboard", APPLICATION_COMMAND),
    (15, "help", APPLICATION_COMMAND),
    (10, "queue", APPLICATION_COMMAND),
    (5, "setcountry", AUTOCOMPLETE),
)
TYPED_COUNTRIES = ("fr", "ger", "kor", "uni", "s", "bra", "po", "ca")

ECHO_BOT = """\
import os, sys
import nextcord
from nextcord.ext import commands

nextcord.VoiceClient.warn_nacl = False
nextcord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
bot = commands.Bot(intents=nextcord.Intents.none())


@bot.slash_command(name="echo", description="Answer at once")
async def echo(interaction: nextcord.Interaction) -> None:
    await interaction.response.send_message("echo", ephemeral=True)


bot.run(os.environ["DISCORD_TOKEN"])
"""


# --- the bot processes ---------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    root: Path | None  # the code's folder; None for echo
    fake: FakeDiscord | None = None
    proc: asyncio.subprocess.Process | None = None
    workdir: Path | None = None
    users: list[FakeUser] = field(default_factory=list)
    bystander: FakeUser | None = None
    commands: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)
    bystander_data: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)  # --env: added to the bot's environment
    hidden: list[str] = field(default_factory=list)  # --hide: modules its imports cannot find

    @property
    def echo(self) -> bool:
        return self.root is None


def export(rev: str, folder: Path) -> Path:
    """`git archive REV` unpacked into `folder`."""
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def seed(root: Path, path: Path, players: int, matches: int, seed_: int) -> None:
    """A ladder made by the variant's own gen_ladder_db.py (its own migrations)."""
    subprocess.run(
        [sys.executable, str(root / "bench" / "gen_ladder_db.py"), "--players", str(players),
         "--matches", str(matches), "--path", str(path), "--seed", str(seed_)],
        check=True, cwd=root, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def load_users(path: Path, count: int, rng: random.Random) -> list[tuple[int, str]]:
    """`count` + 1 onboarded, unbanned players of the seeded ladder (the last: the bystander)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT discord_uid, discord_name FROM players WHERE completed_setup = 1"
            " AND accepted_tos = 1 AND banned = 0 ORDER BY discord_uid"
        ).fetchall()
    return rng.sample(rows, count + 1)


def data_without_cooldowns(root: Path, workdir: Path) -> Path | None:
    """A copy of the variant's data/ with its [cooldowns] off, or None if it has none. The load
    is the issue's 200 players at up to 1000/s, 5 commands/s each: with the cooldowns on, most
    would be refused (cheaply) and the bench would not measure the commands' work."""
    from tests.e2e.harness import NO_COOLDOWNS, set_ladder_settings  # the tests' own switch

    toml = root / "data" / "ladder.toml"
    text = toml.read_text(encoding="utf-8") if toml.exists() else ""
    if "[cooldowns]" not in text:
        return None
    data = workdir / "data"
    shutil.copytree(root / "data", data, ignore=shutil.ignore_patterns("*.db*"))
    (data / "ladder.toml").write_text(set_ladder_settings(text, NO_COOLDOWNS), encoding="utf-8")
    return data


async def start_variant(variant: Variant, folder: Path, args: argparse.Namespace) -> None:
    fake = variant.fake = await FakeDiscord().start()
    rng = random.Random(args.seed)
    workdir = variant.workdir = folder / variant.name
    workdir.mkdir()
    if variant.echo:
        script = workdir / "echo_bot.py"
        script.write_text(ECHO_BOT, encoding="utf-8")
        cwd = workdir
        people = [(10**17 + i, f"echo{i}") for i in range(args.users + 1)]
    else:
        assert variant.root is not None
        script, cwd = variant.root / "bot.py", variant.root
        db = workdir / "ladder.db"
        seeded = folder / f"seeded-{variant.root.name}.db"
        if not seeded.exists():
            await asyncio.to_thread(seed, variant.root, seeded, args.players, args.matches,
                                    args.seed)  # fmt: skip
        await asyncio.to_thread(shutil.copy, seeded, db)
        people = await asyncio.to_thread(load_users, db, args.users, rng)
    for uid, name in people:
        user = FakeUser(int(uid), str(name))
        fake.users[user.id] = user
        variant.users.append(user)
    variant.bystander = variant.users.pop()
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DATABASE_PATH": str(workdir / "ladder.db"),
        "ADMIN_IDS": "",
        "DM_ONLY": "true",
        "LOG_LEVEL": "INFO",
        "LOG_FILE": "",
        "COMMAND_GUILD_IDS": "",
        "ADMIN_CHANNEL_ID": "",
        "PYTHONUNBUFFERED": "1",
        "WEB_ENABLED": "false",  # the website: not measured here, and one port for all
    }
    env.update(variant.env)
    if variant.hidden:  # a module on the path first that refuses to import: "not installed"
        shadow = workdir / "hidden"
        shadow.mkdir()
        for module in variant.hidden:
            refusal = f"raise ModuleNotFoundError('{module} hidden by bench_load --hide')\n"
            (shadow / f"{module}.py").write_text(refusal, encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shadow), env.get("PYTHONPATH")]))
    quiet = None if variant.echo or args.cooldowns else data_without_cooldowns(cwd, workdir)
    if quiet is not None:
        env["DATA_DIR"] = str(quiet)
    after = fake.ready_count
    log = (workdir / "bot.log").open("wb")
    variant.proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=log, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    synced = asyncio.create_task(fake.wait_synced(after=after, within=120))
    exited = asyncio.create_task(variant.proc.wait())
    await asyncio.wait({synced, exited}, return_when=asyncio.FIRST_COMPLETED)
    if exited.done():
        synced.cancel()
        tail = (workdir / "bot.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{variant.name} exited at start:\n{tail}")
    exited.cancel()
    synced.result()
    # Each command's data once (the fake checks it against the registered command); the
    # generator then only picks one and sends it.
    user = variant.users[0]
    if variant.echo:
        data = fake._command_data(user, "echo", {}, None, focused=None, forged=False)
        variant.commands = [(APPLICATION_COMMAND, "echo", data)]
        variant.weights = [1]
        variant.bystander_data = data
        return
    for weight, name, kind in MIX:
        if kind == AUTOCOMPLETE:
            for typed in TYPED_COUNTRIES:
                data = fake._command_data(user, name, {"country": typed}, None,
                                          focused="country", forged=False)  # fmt: skip
                variant.commands.append((kind, name, data))
                variant.weights.append(weight / len(TYPED_COUNTRIES))  # type: ignore[arg-type]
        else:
            data = fake._command_data(user, name, {}, None, focused=None, forged=False)
            variant.commands.append((kind, name, data))
            variant.weights.append(weight)
    variant.bystander_data = fake._command_data(user, "profile", {}, None, focused=None,
                                                forged=False)  # fmt: skip


async def stop_variant(variant: Variant) -> None:
    if variant.proc is not None and variant.proc.returncode is None:
        variant.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(variant.proc.wait(), 30)
        except TimeoutError:
            variant.proc.kill()
            await variant.proc.wait()
    if variant.fake is not None:
        await variant.fake.close()


# --- measuring -----------------------------------------------------------------------------


def proc_cpu_s(pid: int | str) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int | str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def pct(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(max(1, math.ceil(share * len(ordered))), len(ordered)) - 1]


@dataclass
class Level:
    variant: str
    rate: int
    duration: float
    sent: int = 0
    answered: int = 0
    missed: int = 0
    late: int = 0
    by_command: Counter[str] = field(default_factory=Counter)
    bystander_ms: list[float] = field(default_factory=list)
    bystander_missed: int = 0
    lateness_ms: list[float] = field(default_factory=list)
    bot_cpu: float = 0.0  # share of one core
    gen_cpu: float = 0.0
    rss_mib: float = 0.0
    rss_max_mib: float = 0.0
    load: str = ""
    drain_s: float = 0.0

    @property
    def answered_per_s(self) -> float:
        return self.answered / self.duration

    @property
    def offered_per_s(self) -> float:
        return self.sent / self.duration


async def run_level(variant: Variant, rate: int, duration: float, rng: random.Random) -> Level:
    fake, pid = variant.fake, variant.proc.pid  # type: ignore[union-attr]
    assert fake is not None and variant.bystander is not None
    watcher, watcher_data = variant.bystander, variant.bystander_data
    assert watcher_data is not None
    level = Level(variant.name, rate, duration)
    load: list[tuple[str, SentInteraction]] = []
    watched: list[SentInteraction] = []
    violations_before = len(fake.violations)
    rss_samples: list[float] = []
    inject = getattr(fake, "inject", None) or fake.inject  # public once in localdiscord

    async def generator(t0: float) -> None:
        if rate <= 0:
            return
        due = t0 + rng.expovariate(rate)
        end = t0 + duration
        users, commands, weights = variant.users, variant.commands, variant.weights
        while due < end:
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
                continue
            kind, name, data = rng.choices(commands, weights)[0]
            inter = await inject(kind, rng.choice(users), data)
            level.lateness_ms.append((inter.injected_at - due) * 1000)
            load.append((name, inter))
            due += rng.expovariate(rate)

    async def bystander(t0: float) -> None:
        tick = t0
        while tick < t0 + duration:
            now = time.monotonic()
            if tick > now:
                await asyncio.sleep(tick - now)
            watched.append(await inject(APPLICATION_COMMAND, watcher, watcher_data))
            tick += BYSTANDER_PERIOD_S

    async def sampler(t0: float) -> None:
        while time.monotonic() < t0 + duration:
            rss_samples.append(proc_rss_mib(pid))
            await asyncio.sleep(1.0)

    gc.collect()
    gc.disable()  # this process's own pauses are not the bot's
    try:
        cpu0, own0, t0 = proc_cpu_s(pid), time.process_time(), time.monotonic()
        await asyncio.gather(generator(t0), bystander(t0), sampler(t0))
        wall = time.monotonic() - t0
        level.bot_cpu = (proc_cpu_s(pid) - cpu0) / wall
        level.gen_cpu = (time.process_time() - own0) / wall
        level.rss_mib = proc_rss_mib(pid)
        level.rss_max_mib = max([*rss_samples, level.rss_mib])
        level.load = loadavg()
        # Every event gets its answer or its 3 s.
        everyone = [inter for _, inter in load] + watched
        # Polled: a wait woken by every request would scan thousands of events each time.
        while any(i.callback is None and time.monotonic() < i.injected_at + WINDOW_S + 0.2  # noqa: ASYNC110
                  for i in everyone):  # fmt: skip
            await asyncio.sleep(0.05)
    finally:
        gc.enable()
    late_ids = {v.interaction_id for v in fake.violations[violations_before:]
                if v.rule == "late-response"}  # fmt: skip
    level.sent = len(load)
    for name, inter in load:
        if inter.callback is not None:
            level.answered += 1
            level.by_command[name] += 1
        else:
            level.missed += 1
            level.late += inter.id in late_ids
    for inter in watched:
        if inter.callback is not None:
            level.bystander_ms.append(inter.callback.latency * 1000)
        else:
            level.bystander_missed += 1
            level.late += inter.id in late_ids
    # Let the bot finish what it still does (late answers of an overload) before the next.
    quiet_since, seen, drained = time.monotonic(), len(fake.requests), time.monotonic()
    while time.monotonic() - quiet_since < 0.5 and time.monotonic() - drained < 60:
        await asyncio.sleep(0.1)
        if len(fake.requests) != seen:
            seen, quiet_since = len(fake.requests), time.monotonic()
    level.drain_s = time.monotonic() - drained - 0.5
    forget(fake)
    return level


def forget(fake: FakeDiscord) -> None:
    """Drop what the fake recorded, so its memory and its lookups stay small between levels."""
    fake.interactions.clear()
    fake.messages.clear()
    fake.requests.clear()
    fake.gateway_received.clear()
    for session in fake.sessions:
        session.events.clear()
    for conn in fake.connections:
        conn.sent.clear()


# --- reporting -----------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    return "—" if math.isnan(value) else f"{value:,.{digits}f}"


def table(levels: list[Level]) -> list[str]:
    lines = [
        "| variant | offered/s | answered/s | bystander p50 / p99 / max ms | missed 3 s (load + "
        "bystander) | answered late | bot CPU (ms per answer) | bot RSS MiB (max) | generator "
        "late p50 / p99 / max ms | bench CPU | loadavg |",
        "|---|---:|---:|---|---:|---:|---|---:|---|---:|---|",
    ]
    for lv in levels:
        by = lv.bystander_ms
        missed = lv.missed + lv.bystander_missed
        share = missed / max(1, lv.sent + len(by) + lv.bystander_missed)
        answers = lv.answered + len(by)
        cpu_ms = f"{lv.bot_cpu * lv.duration * 1000 / answers:.2f}" if answers else "—"
        lines.append(
            f"| {lv.variant} | {lv.rate} ({lv.offered_per_s:.0f}) | {lv.answered_per_s:.0f} | "
            f"{fmt(pct(by, 0.5))} / {fmt(pct(by, 0.99))} / {fmt(max(by, default=math.nan))} | "
            f"{missed} ({share:.0%}) | {lv.late} | {lv.bot_cpu:.0%} ({cpu_ms}) | {lv.rss_mib:.0f} "
            f"({lv.rss_max_mib:.0f}) | {fmt(pct(lv.lateness_ms, 0.5), 2)} / "
            f"{fmt(pct(lv.lateness_ms, 0.99), 2)} / {fmt(max(lv.lateness_ms, default=math.nan))}"
            f" | {lv.gen_cpu:.0%} | {lv.load} |"
        )
    return lines


def knee(levels: list[Level]) -> tuple[int | None, str]:
    """The highest level with bystander p99 ≤ 2x level 0's and nothing missed; and a verdict."""
    base = next((lv for lv in levels if lv.rate == 0), None)
    if base is None or not base.bystander_ms:
        return None, "no level 0: no knee"
    limit = 2 * pct(base.bystander_ms, 0.99)
    ok = [lv.rate for lv in levels
          if lv.bystander_ms and pct(lv.bystander_ms, 0.99) <= limit
          and lv.missed + lv.bystander_missed == 0]  # fmt: skip
    best = max(ok, default=None)
    words = f"knee {best}/s (bystander p99 ≤ {limit:.1f} ms = 2x unloaded, no 3 s miss)"
    at = {lv.rate: lv for lv in levels}
    if best and best * 2 in at:
        ratio = at[best * 2].answered_per_s / max(1e-9, at[best].answered_per_s)
        words += f"; at 2x the knee answered/s is {ratio:.0%} of the knee's"
    return best, words


# --- main ----------------------------------------------------------------------------------


async def run(
    args: argparse.Namespace,
    specs: list[tuple[str, str | None]],
    envs: dict[str, dict[str, str]],
    hidden: dict[str, list[str]],
) -> list[str]:
    rng = random.Random(args.seed)
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ladderbot-load-") as tmp:
        folder = Path(tmp)
        variants = []
        for name, rev in specs:
            if name == "echo":
                root = None
            elif rev is None or rev == ".":
                root = REPO_ROOT
            else:
                root = await asyncio.to_thread(export, rev, folder / f"code-{name}")
            variants.append(Variant(name, root, env=envs.get(name, {}),
                                    hidden=hidden.get(name, [])))  # fmt: skip
        try:
            for variant in variants:
                await start_variant(variant, folder, args)
            warm = min(2.0, args.duration)
            for variant in variants:  # caches, lazy imports, first connections: not measured
                await run_level(variant, 50, warm, rng)
            if args.soak:
                return await soak(variants[0], args, rng)
            results: list[Level] = []
            steps = [(r, rate) for r in range(1, args.rounds + 1) for rate in args.levels]
            for i, (round_no, rate) in enumerate(steps):
                order = variants if i % 2 == 0 else variants[::-1]
                for variant in order:
                    if args.profile == rate and round_no == 1 and not variant.echo:
                        profile_level(variant, args, folder)
                    level = await run_level(variant, rate, args.duration, rng)
                    if args.rounds > 1:  # each round's levels are judged on their own
                        level.variant = f"{variant.name} #{round_no}"
                    results.append(level)
                    print(table([level])[-1], flush=True)
            for variant in variants:
                if variant.echo:
                    continue
                await stop_variant(variant)
                assert variant.workdir is not None
                out += outcomes(variant)
                if args.logs:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(variant.workdir / "bot.log", args.logs / f"{variant.name}.log")
        finally:
            for variant in variants:
                await stop_variant(variant)
    names = [v.name for v in variants]
    ordered = sorted(results, key=lambda lv: (names.index(lv.variant.split(" #")[0]),
                                              lv.variant, lv.rate))  # fmt: skip
    lines = table(ordered)
    lines.append("")
    labels = list(dict.fromkeys(lv.variant for lv in ordered))
    knees: dict[str, list[int | None]] = {}
    for label in labels:
        best, words = knee([lv for lv in ordered if lv.variant == label])
        knees.setdefault(label.split(" #")[0], []).append(best)
        lines.append(f"* {label}: {words}")
    if args.rounds > 1:
        lines.append("")
        for name, found in knees.items():
            shown = ", ".join(f"{k}/s" if k is not None else "none" for k in found)
            met = {rate: sum(1 for k in found if k is not None and k >= rate)
                   for rate in args.levels if rate}  # fmt: skip
            lines.append(f"* {name}: knee by round {shown}; at least " + ", ".join(
                f"{rate}/s in {n} of {len(found)}" for rate, n in met.items()))
        lines.append("")
        for name in knees:
            pooled = pool([lv for lv in ordered if lv.variant.split(" #")[0] == name])
            count = min(len(lv.bystander_ms) for lv in pooled)
            lines.append(f"* {name}, all rounds pooled (at least {count} bystander answers a "
                         f"level): {knee(pooled)[1]}")  # fmt: skip
    return [*lines, "", *out]


def pool(levels: list[Level]) -> list[Level]:
    """One Level per rate, every round's events added up: a p99 of N rounds x 150 bystander
    answers is their 1.5N-th worst, where one round's is its 2nd worst (one stall moves it)."""
    by_rate: dict[int, Level] = {}
    for lv in levels:
        into = by_rate.setdefault(lv.rate, Level(lv.variant.split(" #")[0], lv.rate, 0.0))
        into.duration += lv.duration
        into.sent += lv.sent
        into.answered += lv.answered
        into.missed += lv.missed
        into.bystander_missed += lv.bystander_missed
        into.bystander_ms += lv.bystander_ms
    return [by_rate[rate] for rate in sorted(by_rate)]


def outcomes(variant: Variant) -> list[str]:
    """command_calls outcomes of the whole run (the bot has stopped: its log is drained)."""
    assert variant.workdir is not None
    with sqlite3.connect(variant.workdir / "ladder.db") as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM command_calls GROUP BY outcome ORDER BY 2 DESC"
        ).fetchall()
    log = (variant.workdir / "bot.log").read_text(encoding="utf-8", errors="replace")
    warnings = sum(" WARNING " in line for line in log.splitlines())
    tracebacks = log.count("Traceback")
    slow_gc = log.count("Slow garbage collection")
    overran = log.count("keeps overrunning")  # storage/database.py: sent to the reader's thread
    shown = ", ".join(f"{o} {n}" for o, n in rows)
    lines = [f"* {variant.name}: command_calls {shown}; log: {warnings} WARNING lines, "
             f"{tracebacks} tracebacks, {slow_gc} collector passes over 20 ms, {overran} "
             "statements sent to the reader's thread (overran the loop's budget)"]  # fmt: skip
    lines += [f"  {line.split(' INFO ', 1)[-1][:160]}" for line in log.splitlines()
              if "keeps overrunning" in line][:5]  # fmt: skip
    passes = [line.split("Garbage collector passes: ", 1)[1] for line in log.splitlines()
              if "Garbage collector passes: " in line]  # fmt: skip
    if passes:  # app/gc_tuning.py logs every pass's totals at exit, from start-up on
        lines.append(f"  collector, whole run: {passes[-1]}")
    if tracebacks:  # the first, shortened
        first = log[log.index("Traceback") :].splitlines()
        end = next((i for i, line in enumerate(first[1:], 1) if not line.startswith(" ")), 0)
        lines.append("  first traceback ends: " + " | ".join(first[max(1, end - 3) : end + 1]))
    return lines


def profile_level(variant: Variant, args: argparse.Namespace, folder: Path) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("# --profile: py-spy is not installed in this venv", file=sys.stderr)
        return
    assert variant.proc is not None
    path = Path(args.profile_out or folder / "profile.txt")
    subprocess.Popen(
        [str(spy), "record", "-p", str(variant.proc.pid), "-d", str(int(args.duration)),
         "-r", "200", "-f", "raw", "-o", str(path), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    print(f"# profiling {variant.name} at {args.profile}/s into {path}", file=sys.stderr)


async def soak(variant: Variant, args: argparse.Namespace, rng: random.Random) -> list[str]:
    """One rate for --soak seconds, in slices of --duration: RSS and answers per slice."""
    slices: list[Level] = []
    started = time.monotonic()
    while time.monotonic() - started < args.soak:
        level = await run_level(variant, args.soak_rate, args.duration, rng)
        slices.append(level)
        print(table([level])[-1], flush=True)
    rss = [lv.rss_mib for lv in slices]
    lines = table(slices)
    first = rss[0]
    lines += ["", f"* RSS over {time.monotonic() - started:.0f} s at {args.soak_rate}/s: first "
              f"{first:.1f} MiB, min {min(rss):.1f}, max {max(rss):.1f}, last {rss[-1]:.1f} "
              f"({(max(rss) - first) / first:+.1%} / {(min(rss) - first) / first:+.1%} of the "
              f"first)"]  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=None, help="offered commands/s, comma-separated")
    parser.add_argument("--duration", type=float, default=None, help="seconds per level (15)")
    parser.add_argument("--quick", action="store_true", help="levels 0,100,250,500 of 6 s")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the levels this many times; a knee per round")  # fmt: skip
    parser.add_argument(
        "--variants",
        default="echo,bot",
        help="comma-separated: echo, bot (this tree), NAME=REV (git archive), NAME=. (this "
        "tree under another name)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="an environment variable for variant NAME's bot (repeatable)",
    )
    parser.add_argument(
        "--hide",
        action="append",
        default=[],
        metavar="NAME:MODULE",
        help="variant NAME's bot runs as if MODULE were not installed",
    )
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--matches", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=200, help="players sending the load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cooldowns", action="store_true",
                        help="keep data/ladder.toml's cooldowns (off by default: see "
                             "data_without_cooldowns)")  # fmt: skip
    parser.add_argument("--soak", type=float, default=0, help="seconds at --soak-rate")
    parser.add_argument("--soak-rate", type=int, default=500)
    parser.add_argument("--profile", type=int, default=None, help="py-spy the bot at this level")
    parser.add_argument("--profile-out", default=None)
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    parser.add_argument("--logs", type=Path, help="copy each bot's log into this folder")
    args = parser.parse_args(argv)
    levels = args.levels or ",".join(map(str, QUICK_LEVELS if args.quick else DEFAULT_LEVELS))
    args.levels = [int(x) for x in levels.split(",") if x.strip()]
    args.duration = args.duration or (6.0 if args.quick else 15.0)
    if args.soak:
        args.duration = args.duration if args.duration != 15.0 else 30.0
    specs: list[tuple[str, str | None]] = []
    for spec in args.variants.split(","):
        name, _, rev = spec.strip().partition("=")
        specs.append((name, rev or None))
    if args.soak and len(specs) != 1:
        parser.error("--soak takes one variant")
    names = {name for name, _ in specs}
    envs: dict[str, dict[str, str]] = {}
    hidden: dict[str, list[str]] = {}
    for option, given in (("--env", args.env), ("--hide", args.hide)):
        for item in given:
            name, colon, what = item.partition(":")
            if not colon or name not in names or (option == "--env" and "=" not in what):
                form = "KEY=VALUE" if option == "--env" else "MODULE"
                parser.error(f"{option} {item!r}: expected NAME:{form}, NAME one of the variants")
            if option == "--env":
                key, _, value = what.partition("=")
                envs.setdefault(name, {})[key] = value
            else:
                hidden.setdefault(name, []).append(what)
    head = [
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} python bench/bench_load.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        f"# {args.players:,} players x 2 races, {args.users} players sending the load, "
        f"{args.duration:.0f} s per level, {os.cpu_count()} CPUs, loadavg at start {loadavg()}",
        "",
    ]
    print("\n".join(head), flush=True)
    # The fake logs each broken rule; late answers are counted in the table instead.
    logging.getLogger("localdiscord").setLevel(logging.ERROR)
    logging.getLogger("e2e").setLevel(logging.ERROR)
    lines = asyncio.run(run(args, specs, envs, hidden))
    lines.append(f"* loadavg at the end: {loadavg()}")
    text = "\n".join(head + lines) + "\n"
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
