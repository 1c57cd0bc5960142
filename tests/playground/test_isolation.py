"""``python bot.py playground`` needs no token and stays on this machine: it never reads
DISCORD_TOKEN nor .env, connects to nothing but 127.0.0.1, and writes only its own database.

The real ``bot.py playground`` runs as a subprocess under a launcher that watches it from
inside: an audit hook sees every socket connection, name lookup, file opened and SQLite file
connected, and ``os.environ`` records every look-up of DISCORD_TOKEN. The environment hands it
a token and a real Discord address, which must both be ignored. A player uses a command through
the page's API (on 127.0.0.1) and simulated players start, so the bot really talks.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from playground.runner import DEFAULT_DATABASE, Options, PlaygroundError, guard_database

REPO_ROOT = Path(__file__).resolve().parents[2]
SENTINEL = "sentinel-token-that-must-never-be-read"
START_WAIT = 60.0

LAUNCHER = r'''
import atexit, json, os, runpy, sys

report = {"token_reads": [], "dotenv_opens": [], "remote": [], "local": 0, "sqlite": []}
LOCAL = ("127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1")


class Watched(type(os.environ)):
    def __getitem__(self, key):
        if key == "DISCORD_TOKEN":
            report["token_reads"].append("os.environ[...]")
        return super().__getitem__(key)

    def __contains__(self, key):
        if key == "DISCORD_TOKEN":
            report["token_reads"].append("in os.environ")
        return super().__contains__(key)


os.environ.__class__ = Watched
_getenv = os.getenv


def hook(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple):
            if address[0] in LOCAL:
                report["local"] += 1
            else:
                report["remote"].append(repr(address))
    elif event == "socket.getaddrinfo":
        if args[0] not in LOCAL and args[0] is not None:
            report["remote"].append(f"lookup {args[0]!r}")
    elif event == "open":
        if isinstance(args[0], (str, bytes, os.PathLike)) and os.fspath(args[0]) and \
                os.path.basename(os.fsdecode(args[0])) == ".env":
            report["dotenv_opens"].append(os.fsdecode(args[0]))
    elif event == "sqlite3.connect":
        report["sqlite"].append(os.fsdecode(args[0]))


REPORT = sys.argv[1]


def save():
    with open(REPORT, "w") as out:
        json.dump(report, out)


atexit.register(save)
sys.addaudithook(hook)
bot = sys.argv[2]
sys.path.insert(0, os.path.dirname(bot))
sys.argv = [bot, *sys.argv[3:]]
runpy.run_path(bot, run_name="__main__")
'''


async def test_the_playground_reads_no_token_and_connects_only_to_127_0_0_1(tmp_path):
    launcher = tmp_path / "launcher.py"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    report_path = tmp_path / "report.json"
    database = tmp_path / "playground.db"
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update({"DISCORD_TOKEN": SENTINEL, "DISCORD_API_BASE": "https://discord.com/api/v10",
                "DATABASE_PATH": str(tmp_path / "not-this.db"), "PYTHONUNBUFFERED": "1",
                "http_proxy": "http://proxy.invalid:3128", "HTTPS_PROXY": "http://proxy.invalid:3128"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(launcher), str(report_path), str(REPO_ROOT / "bot.py"),
        "playground", "--port", "0", "--no-browser", "--database", str(database),
        cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output: list[str] = []
    try:
        url = await asyncio.wait_for(_address(proc, output), START_WAIT)
        async with aiohttp.ClientSession() as http:
            # alice uses a command through the page: the bot answers through its Discord.
            used = await _post(http, f"{url}api/players/alice/command",
                               {"command": "termsofservice"})
            assert used["answered"], used
            async with http.get(f"{url}api/players/alice/messages") as response:
                shown = json.dumps((await response.json())["messages"])
            assert "Accept" in shown, shown
            await _post(http, f"{url}api/simulated", {"count": 2})  # they play on meanwhile
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output.append((await proc.stdout.read()).decode(errors="replace"))
    log = "".join(output)
    assert code == 0, log
    report = json.loads(report_path.read_text())
    assert report["token_reads"] == [], log
    assert report["dotenv_opens"] == [], log
    assert report["remote"] == [], log
    assert report["local"] > 0  # it did talk: to the local Discord and the page, on 127.0.0.1
    opened = {"/" + p.removeprefix("file:").split("?")[0].lstrip("/") for p in report["sqlite"]}
    assert opened == {str(database)}, report  # its own file only (a read-only URI included)
    assert SENTINEL not in log
    assert not (tmp_path / "not-this.db").exists()


async def _address(proc: asyncio.subprocess.Process, output: list[str]) -> str:
    assert proc.stdout is not None
    while line := (await proc.stdout.readline()).decode(errors="replace"):
        output.append(line)
        found = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
        if found:
            return found.group(1)
    raise AssertionError("the playground exited before serving its page:\n" + "".join(output))


async def _post(http: aiohttp.ClientSession, url: str, body: dict) -> dict:
    async with http.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def test_the_playground_has_its_own_database_and_refuses_the_real_one():
    assert DEFAULT_DATABASE == REPO_ROOT / "data" / "playground.db"
    guard_database(Options())
    try:
        guard_database(Options(database_path=REPO_ROOT / "data" / "ladder.db"))
    except PlaygroundError as exc:
        assert "real database" in str(exc)
    else:
        raise AssertionError("the real database was accepted")
