"""The website's speed: server time per page at 100k players and 1M matches, requests/s on
loopback, and what 200 web requests/s do to Discord /profile.

    python bench/bench_web.py                       # all three parts
    python bench/bench_web.py --parts server,rps    # some of them
    python bench/bench_web.py --json bench/results/web.json

The ladder is bench/gen_ladder_db.py's (100k players × 2 races, 1M finished matches, made on
first use and kept in /tmp/ladderbot-bench/), with each player's name keys added so pages
can find players by name (as /setup would have written them).

server   The site built as bot.py builds it (web.app.create_app on the same services), served
         in this process; a middleware times each request from the handler's start to its
         response being ready (routing, the service, the template: "server time"). Pages:
         the leaderboard's first page, random deep pages and filtered views; random players'
         pages (each with its rating chart); match pages; /activity after its first read.
rps      The same site on a TCPSite in this process; a load generator in its own process
         (wrk if installed, else a Python one on aiohttp) fetches the leaderboard's first
         page over loopback for `--rps-seconds`, at a few concurrencies.
profile  The real bot (bot.py, the website on) against the local fake Discord, as
         bench/e2e_latency.py runs it: Discord /profile's ack latency with no web traffic,
         then with an open-loop 200 requests/s of leaderboard and player pages from a
         generator in its own process, after `--web-warmup` s of that load (a site under
         steady traffic is warm: its caches and first reads are not what a round measures);
         rounds alternate (ABAB...), and /proc/loadavg is recorded before each. Target:
         loaded p99 within 1.5x of unloaded p99.

The machine is shared: read the load averages printed with each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

import gen_ladder_db  # noqa: E402
from aiohttp import web  # noqa: E402

from ladder.config import load_ladder_config  # noqa: E402
from ladder.names import KEY_VERSION, name_key, shape_key  # noqa: E402
from services.leaderboard import LeaderboardService  # noqa: E402
from services.public import PublicLadder  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.history import HistoryRepository  # noqa: E402
from storage.leaderboard import LeaderboardRepository  # noqa: E402
from web.app import WebServices, create_app  # noqa: E402

DB_PATH = Path("/tmp/ladderbot-bench/ladder.db")
PLAYERS, MATCHES = 100_000, 1_000_000
RESULTS = REPO_ROOT / "bench" / "results" / "web.txt"
UNANSWERED_S = 5.0  # a /profile with no answer by then counts as this long (it is past 3 s)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system, all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):7.3f} ms  p90 {percentile(values, 0.9):7.3f}  "
        f"p99 {percentile(values, 0.99):7.3f}  max {max(values):7.3f}  (n={len(values)})"
    )


# --- the database ---------------------------------------------------------------------------


def prepare_database(path: Path) -> None:
    """gen_ladder_db's ladder, plus the name keys /setup writes (so names can be looked up)."""
    if not path.exists():
        print(f"generating {PLAYERS:,} players and {MATCHES:,} matches in {path} ...", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        gen_ladder_db.generate(path, PLAYERS, 2, MATCHES, 1)
    with sqlite3.connect(path) as conn:
        have = conn.execute("SELECT count(*) FROM player_names").fetchone()[0]
        if have:
            return
        print("adding name keys ...", flush=True)
        rows = conn.execute(
            "SELECT discord_uid, player_name FROM players WHERE player_name IS NOT NULL"
        ).fetchall()
        conn.executemany(
            "INSERT INTO player_names (name_key, shape_key, discord_uid, kind)"
            " VALUES (?, ?, ?, 'main')",
            [(name_key(name), shape_key(name), uid) for uid, name in rows],
        )
        conn.execute("DELETE FROM key_versions WHERE keys = 'players'")
        conn.execute(
            "INSERT INTO key_versions (keys, version) VALUES ('players', ?)", (KEY_VERSION,)
        )


async def open_site(path: Path) -> tuple[Database, web.Application, PublicLadder]:
    """The website's services as bot.py builds them, on the bench database."""
    config = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
    db = await Database.open(path)
    repository = LeaderboardRepository(db, aborts_per_month=config.matches.aborts_per_month)
    standings = await repository.load_standings(
        datetime.now(UTC),
        races=config.race_codes,
        shares=config.ranks.shares,
        inactive_days=config.ranks.inactive_days,
    )
    public = PublicLadder(
        config, standings, LeaderboardService(repository, standings), HistoryRepository(db)
    )
    return db, create_app(WebServices(public=public)), public


# --- part 1: server time --------------------------------------------------------------------

SERVER_TIMES: dict[str, list[float]] = {}


@web.middleware
async def server_timer(request: web.Request, handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    SERVER_TIMES.setdefault(request["bench_kind"], []).append(
        (time.perf_counter() - started) * 1000
    )
    return response


async def part_server(path: Path, rounds: int) -> dict:
    from aiohttp.test_utils import TestClient, TestServer

    db, app, public = await open_site(path)
    app.middlewares.insert(0, server_timer)
    rng = random.Random(5)
    names = [r[0] for r in sqlite3.connect(path).execute(
        "SELECT player_name FROM players ORDER BY discord_uid LIMIT 100000").fetchall()]
    (top,) = sqlite3.connect(path).execute("SELECT max(id) FROM matches").fetchone()
    total_pages = public.standings.page(
        public.parse_query({}).filters, 1, public.page_size, now=datetime.now(UTC)
    ).total_pages
    races = list(public.race_names)

    fresh = iter(range(1 << 62))

    def kinds() -> list[tuple[str, str]]:
        # Each URL made unique (the pages ignore unknown parameters), so every one is rendered:
        # the site keeps a page 2 s (web/load.py), which the "served from the cache" row shows.
        return [(kind, f"{url}{'&' if '?' in url else '?'}n={next(fresh)}") for kind, url in [
            ("leaderboard /", "/"),
            ("leaderboard deep page", f"/?page={rng.randrange(1, total_pages + 1)}"),
            ("leaderboard race+country", f"/?race={rng.choice(races[:2])}&country=US&page=2"),
            ("leaderboard region EU", "/?region=EU"),
            ("leaderboard name search", f"/?q=P0{rng.randrange(1000, 9999)}"),
            ("player page + chart", f"/players/{rng.choice(names)}"),
            ("match page", f"/matches/{rng.randrange(1, top + 1)}"),
            ("api leaderboard", "/api/leaderboard"),
            ("activity (counts cached)", "/activity?tz=Europe/Berlin"),
        ]] + [("leaderboard / from the page cache", "/")]

    @web.middleware
    async def tag(request: web.Request, handler):
        request["bench_kind"] = request.headers.get("X-Bench-Kind", "?")
        return await handler(request)

    app.middlewares.insert(0, tag)
    async with TestClient(TestServer(app)) as client:
        for _kind, url in kinds():  # warm: first reads, the activity counts, lazy imports
            await (await client.get(url)).read()
        SERVER_TIMES.clear()
        for _ in range(rounds):
            for kind, url in kinds():
                response = await client.get(url, headers={"X-Bench-Kind": kind})
                body = await response.read()
                assert response.status == 200, (url, response.status, body[:200])
    await db.close()
    return {kind: values for kind, values in SERVER_TIMES.items()}


# --- part 2: requests/s ---------------------------------------------------------------------

PY_LOAD = r"""
import asyncio, sys, time
import aiohttp

async def main(url, seconds, concurrency):
    done = 0
    errors = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:
        async def worker():
            nonlocal done, errors
            while time.perf_counter() < stop:
                async with s.get(url) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        print(done / (time.perf_counter() - started), errors)

asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def part_rps(path: Path, seconds: float) -> list[dict]:
    from web.server import WebServer

    db, app, _ = await open_site(path)
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    url = server.url
    rows = []
    wrk = shutil.which("wrk")
    try:
        for concurrency in (1, 8, 32):
            load = loadavg()
            if wrk:
                cmd = [wrk, "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", url]
            else:
                cmd = [sys.executable, "-c", PY_LOAD, url, str(seconds), str(concurrency)]
            proc = await asyncio.create_subprocess_exec(
                *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            out = (await proc.communicate())[0].decode()
            if wrk:
                line = next(x for x in out.splitlines() if x.startswith("Requests/sec"))
                rps = float(line.split()[1])
                latency = next((x.split() for x in out.splitlines() if "Latency" in x), [])
                detail = " ".join(latency[1:4])
            else:
                rps_text, errors = out.split()
                rps, detail = float(rps_text), f"errors {errors}"
            rows.append({"generator": "wrk" if wrk else "python-aiohttp",
                         "concurrency": concurrency, "rps": rps, "detail": detail,
                         "loadavg_before": load})
    finally:
        await server.stop()
        await db.close()
    return rows


# --- part 3: Discord /profile under web load ------------------------------------------------

PACED_LOAD = r"""
import asyncio, random, signal, sys, time
import aiohttp

async def main(base, rate, names):
    names = names.split(",")
    sent = ok = late = 0
    latencies = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as s:
        async def one(url):
            nonlocal ok
            t = time.perf_counter()
            async with s.get(url) as r:
                await r.read()
                ok += r.status == 200
            latencies.append(time.perf_counter() - t)
            if ok == 1:
                print("running", flush=True)
        tasks = set()
        start = time.perf_counter()
        rng = random.Random(3)
        while not stop.is_set():
            now = time.perf_counter()
            due = start + sent / rate
            if due > now:
                try:
                    await asyncio.wait_for(stop.wait(), due - now)
                    break
                except TimeoutError:
                    pass
            elif now - due > 0.05:
                late += 1
            url = base + ("/" if sent % 2 == 0 else "/players/" + rng.choice(names))
            t = asyncio.ensure_future(one(url)); tasks.add(t); t.add_done_callback(tasks.discard)
            sent += 1
        elapsed = time.perf_counter() - start
        await asyncio.gather(*tasks)
    latencies.sort()
    print(sent / elapsed, ok, sent, late, latencies[len(latencies) // 2] * 1000,
          latencies[int(len(latencies) * 0.99)] * 1000, flush=True)

asyncio.run(main(sys.argv[1], float(sys.argv[2]), sys.argv[3]))
"""


async def part_profile(
    path: Path, runs: int, rounds: int, rate: float, interval: float, warmup_s: float = 0.0
) -> dict:
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from e2e.harness import BotProcess  # type: ignore[import-not-found]
    from e2e_latency import WARMUP, accept_terms  # type: ignore[import-not-found]

    from localdiscord import FakeDiscord

    async def measure(fake, user, runs: int) -> list[float]:
        # One /profile every `interval` s, so a round lasts runs × interval and the web
        # load runs under all of it (back to back, 300 answers take well under a second).
        """Ack latency (ms) of `runs` /profile calls one after another, after a warm-up; as
        e2e_latency.measure, but a late answer is a number here, not the end of the bench."""
        for _ in range(WARMUP):
            with contextlib.suppress(TimeoutError):
                await (await fake.slash(user, "profile")).response(within=UNANSWERED_S)
        latencies = []
        gc.collect()
        gc.disable()
        try:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(runs):
                await asyncio.sleep(max(0.0, start + i * interval - loop.time()))
                sent = await fake.slash(user, "profile")
                try:
                    callback = await sent.response(within=UNANSWERED_S)
                    latencies.append(callback.latency * 1000)
                except TimeoutError:  # past Discord's 3 s the fake refuses the answer
                    latencies.append(UNANSWERED_S * 1000)
        finally:
            gc.enable()
        return latencies

    names = ",".join(r[0] for r in sqlite3.connect(path).execute(
        "SELECT player_name FROM players ORDER BY random() LIMIT 2000"))
    results: dict[str, list[float]] = {"unloaded": [], "loaded": []}
    rounds_log = []
    with tempfile.TemporaryDirectory(prefix="ladderbot-bench-web-") as tmp:
        workdir = Path(tmp) / "bot"
        workdir.mkdir()
        shutil.copy(path, workdir / "ladder.db")
        port = free_port()
        async with FakeDiscord() as fake:
            bot = BotProcess(fake, workdir, env={"WEB_PORT": str(port), "LOG_LEVEL": "WARNING"})
            await bot.start(within=120)  # a 330 MB database on a busy machine
            try:
                player = fake.user("bench-web")
                await accept_terms(fake, player)
                base = f"http://127.0.0.1:{port}"
                if warmup_s > 0:
                    # The site as it is after a while of steady traffic: the pages' code and
                    # caches warm, the rounds' first seconds not spent on first reads.
                    warm = await asyncio.create_subprocess_exec(
                        sys.executable, "-c", PACED_LOAD, base, str(rate), names,
                        stdout=asyncio.subprocess.PIPE,
                    )
                    await asyncio.sleep(warmup_s)
                    warm.terminate()
                    await warm.communicate()
                for round_ in range(rounds):
                    for variant in ("unloaded", "loaded"):
                        load = loadavg()
                        generator = None
                        if variant == "loaded":
                            generator = await asyncio.create_subprocess_exec(
                                sys.executable, "-c", PACED_LOAD, base, str(rate), names,
                                stdout=asyncio.subprocess.PIPE,
                            )
                            assert generator.stdout is not None
                            first = await generator.stdout.readline()  # its first page came
                            assert first.strip() == b"running", first
                        assert bot.proc is not None
                        cpu_before = cpu_seconds(bot.proc.pid)
                        try:
                            values = await measure(fake, player, runs)
                        except BaseException:
                            if generator is not None:
                                generator.kill()
                                await generator.wait()
                            raise
                        bot_cpu_s = cpu_seconds(bot.proc.pid) - cpu_before
                        web: dict = {}
                        if generator is not None:
                            generator.terminate()
                            out = (await generator.communicate())[0].split()
                            web = {"rps": float(out[0]), "ok": int(out[1]), "sent": int(out[2]),
                                   "late": int(out[3]), "p50_ms": float(out[4]),
                                   "p99_ms": float(out[5])}
                        results[variant] += values
                        rounds_log.append({"round": round_ + 1, "variant": variant,
                                           "loadavg_before": load,
                                           "p50_ms": statistics.median(values),
                                           "p99_ms": percentile(values, 0.99), "web": web,
                                           "bot_cpu_s": bot_cpu_s})
            finally:
                await bot.stop(within=60)
            violations = [str(v) for v in fake.violations]
    return {"results": results, "rounds": rounds_log, "violations": violations}


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="server,rps,profile")
    parser.add_argument("--path", type=Path, default=DB_PATH)
    parser.add_argument("--rounds", type=int, default=300, help="server part: requests each")
    parser.add_argument("--rps-seconds", type=float, default=10.0)
    parser.add_argument("--profile-runs", type=int, default=300)
    parser.add_argument("--profile-rounds", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--profile-interval", type=float, default=0.02,
                        help="seconds between two /profile calls")
    parser.add_argument("--web-warmup", type=float, default=10.0,
                        help="profile part: seconds of web load before the first round")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-record", action="store_true", help="do not write web.txt")
    args = parser.parse_args()
    parts = args.parts.split(",")
    prepare_database(args.path)
    lines = [f"bench_web.py {' '.join(sys.argv[1:])}  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC,"
             f" {os.cpu_count()} CPUs, loadavg {loadavg()})"]
    report: dict = {}

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    if "server" in parts:
        say(f"server time per request, {PLAYERS:,} players, {MATCHES:,} matches:")
        times = asyncio.run(part_server(args.path, args.rounds))
        report["server"] = {k: {"p50_ms": statistics.median(v), "p99_ms": percentile(v, 0.99)}
                            for k, v in times.items()}
        for kind, values in times.items():
            say(f"  {kind:<26} {summary(values)}")
        say(f"  (loadavg after {loadavg()})")
    if "rps" in parts:
        say("leaderboard page / over loopback, load generator in its own process:")
        report["rps"] = asyncio.run(part_rps(args.path, args.rps_seconds))
        for row in report["rps"]:
            say(f"  {row['generator']} c={row['concurrency']:>2}: {row['rps']:8.0f} req/s  "
                f"{row['detail']}  loadavg before {row['loadavg_before']}")
    if "profile" in parts:
        say(f"Discord /profile ack latency, real bot + fake Discord, one every "
            f"{args.profile_interval * 1000:.0f} ms, without and with {args.rate:.0f} web req/s "
            f"(alternating rounds, after {args.web_warmup:.0f} s of web load):")
        got = asyncio.run(part_profile(args.path, args.profile_runs, args.profile_rounds,
                                       args.rate, args.profile_interval, args.web_warmup))
        report["profile"] = got
        for row in got["rounds"]:
            web = row["web"]
            held = (f"  web: {web['rps']:.0f} req/s held, {web['ok']}/{web['sent']} ok, "
                    f"{web['late']} sent >50 ms late, page p50 {web['p50_ms']:.1f} ms "
                    f"p99 {web['p99_ms']:.1f}") if web else ""
            if web and "bot_cpu_s" in row:  # the bot's CPU per page beyond the unloaded round's
                idle = next((r["bot_cpu_s"] for r in got["rounds"] if r["round"] == row["round"]
                             and r["variant"] == "unloaded"), 0.0)
                held += (f", bot CPU {row['bot_cpu_s']:.2f} s"
                         f" ({(row['bot_cpu_s'] - idle) * 1000 / max(1, web['ok']):.2f} ms/page)")
            elif "bot_cpu_s" in row:
                held += f"  bot CPU {row['bot_cpu_s']:.2f} s"
            say(f"  round {row['round']} {row['variant']:>8}: p50 {row['p50_ms']:.2f} ms  "
                f"p99 {row['p99_ms']:.2f} ms  loadavg before {row['loadavg_before']}{held}")
        unloaded, loaded = got["results"]["unloaded"], got["results"]["loaded"]
        ratio = percentile(loaded, 0.99) / percentile(unloaded, 0.99)
        say(f"  unloaded: {summary(unloaded)}")
        say(f"  loaded:   {summary(loaded)}")
        say(f"  p99 loaded / unloaded = {ratio:.2f} (target <= 1.5)")
        if got["violations"]:
            first = got["violations"][0][:160]
            say(f"  Discord rule violations: {len(got['violations'])} (first: {first})")
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
