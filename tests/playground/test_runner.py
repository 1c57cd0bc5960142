"""The playground's runs and its API, without a browser: the ladder survives a restart (the
players keep their ids), the timers are short, and the API answers its own page only."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp

from app.settings import REPO_ROOT
from ladder.config import load_ladder_config
from localdiscord.protocol import APPLICATION_COMMAND, UPDATE_MESSAGE
from playground.app import PlaygroundSite
from playground.runner import Options, Playground, player_id, playground_ladder


def accepted(database: Path) -> list[tuple[int, bool]]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT discord_uid, accepted_tos FROM players").fetchall()
    return [(uid, bool(flag)) for uid, flag in rows]


async def test_a_restart_keeps_the_ladder_and_each_players_id(tmp_path: Path) -> None:
    database = tmp_path / "playground.db"
    first = Playground(Options(database_path=database, port=0, fresh=True))
    await first.start()
    alice = first.user("alice")
    assert alice.id == player_id("alice") != player_id("bob")
    fake = first.fake
    assert fake is not None
    terms = await (await fake.slash(alice, "termsofservice")).reply()
    click = await fake.click(alice, terms, label="Accept")
    assert (await click.response()).type == UPDATE_MESSAGE
    await first.close()
    assert accepted(database) == [(alice.id, True)]

    second = Playground(Options(database_path=database, port=0))
    await second.start()
    try:
        fake = second.fake
        assert fake is not None and second.user("alice").id == alice.id
        again = await (await fake.slash(second.user("alice"), "termsofservice")).reply()
        assert "Accepted on" in again.text, again.text  # the same player to the bot
        assert not fake.violations
    finally:
        await second.close()


def test_the_playground_keeps_the_hosts_ladder_with_short_timers() -> None:
    path = REPO_ROOT / "data" / "ladder.toml"
    host, short = load_ladder_config(path), playground_ladder(path)
    assert short.matchmaking.wave_interval_seconds == 2 < host.matchmaking.wave_interval_seconds
    assert short.matches.confirmation_window_seconds <= host.matches.confirmation_window_seconds
    assert short.matches.report_deadline_minutes == 10
    assert (short.races, short.map_pool, short.rating) == (host.races, host.map_pool, host.rating)


async def test_the_api_answers_its_own_page_only(tmp_path: Path) -> None:
    running = Playground(Options(database_path=tmp_path / "playground.db", port=0, fresh=True))
    await running.start()
    site = PlaygroundSite(running)
    await site.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{site.url}api/state") as response:
                assert response.status == 200
                assert "script-src 'self'" in response.headers["Content-Security-Policy"]
                state = await response.json()
            assert [p["name"] for p in state["players"]] == ["admin", "alice", "bob"]
            assert {"setup", "queue", "admin resolve"} <= {c["path"] for c in state["commands"]}
            # DNS rebinding: a page of another site that resolves to 127.0.0.1.
            async with http.get(f"{site.url}api/state",
                                headers={"Host": "evil.example:80"}) as response:
                assert response.status == 421
            # A form posted by another site cannot act: actions are JSON only.
            async with http.post(f"{site.url}api/reset", data={"x": "1"}) as response:
                assert response.status == 415
            assert running.generation == 1
            async with http.post(f"{site.url}api/players", json={"name": "<b>"}) as response:
                assert response.status == 400
                assert "a name is" in (await response.json())["error"]
            async with http.post(f"{site.url}api/players/alice/command",
                                 json={"command": "admin resolve", "options": {}}) as response:
                assert response.status == 400  # the Discord app asks for required options
                assert "required" in (await response.json())["error"]
    finally:
        await site.stop()
        await running.close()


async def test_an_interaction_left_unanswered_is_reported_as_a_broken_rule(
    tmp_path: Path,
) -> None:
    running = Playground(Options(database_path=tmp_path / "playground.db", port=0, fresh=True))
    await running.start()
    site = PlaygroundSite(running)
    await site.start("127.0.0.1", 0)
    try:
        fake = running.fake
        assert fake is not None
        # An old client still shows a command the bot no longer has: the bot never answers.
        stale = await fake.inject(APPLICATION_COMMAND, running.user("alice"),
                                  {"id": "1", "name": "oldcommand", "type": 1})
        found = await fake.wait_until(lambda: fake.violations, fake.response_deadline + 3,
                                      "the unanswered interaction to be reported")
        assert [(v.rule, v.interaction_id) for v in found] == [("no-response", stale.id)]
        async with aiohttp.ClientSession() as http, http.get(f"{site.url}api/state") as response:
            shown = (await response.json())["violations"]
        assert [(v["rule"], v["interaction"]) for v in shown] == [("no-response", str(stale.id))]
        fake.take_violations()
    finally:
        await site.stop()
        await running.close()


async def test_a_page_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(REPO_ROOT / "bot.py"), "playground", "--no-browser",
            "--port", str(port), "--database", str(tmp_path / "playground.db"),
            cwd=tmp_path, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2, (out, err)
    said = [line for line in err.decode().splitlines() if line.startswith("ladderbot")]
    assert len(said) == 1 and said[0].startswith(
        f"ladderbot playground: cannot listen on 127.0.0.1:{port} "), err.decode()
    assert said[0].endswith("choose another with --port")
    assert b"Using Discord API" not in err  # checked before the bot starts
    assert not (tmp_path / "playground.db").exists()
