"""The website's server object: listens, serves, drains on stop, and says which setting to
change when its address is taken. (The real bot.py process is tested in tests/web/browser.)"""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

from web.app import create_app
from web.server import WebServer, WebStartError


async def test_serves_on_a_free_port_then_stops(site):
    server = WebServer(create_app(site.services), "127.0.0.1", 0)
    await server.start()
    try:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/"
        async with aiohttp.ClientSession() as session, session.get(server.url) as response:
            assert response.status == 200
            assert "Leaderboard" in await response.text()
    finally:
        await server.stop()
    with socket.socket() as probe:  # nothing listens there any more
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


async def test_a_port_in_use_names_the_setting(site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(create_app(site.services), "127.0.0.1", port)
        with pytest.raises(WebStartError, match=rf"127\.0\.0\.1:{port} \(WEB_HOST, WEB_PORT\)"):
            await server.start()
    await server.stop()  # nothing started: nothing to do


async def test_stop_lets_a_running_request_finish():
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="finished")

    shutting_down = asyncio.Event()

    async def on_shutdown(app: web.Application) -> None:  # after the sites stop listening
        shutting_down.set()

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.on_shutdown.append(on_shutdown)
    server = WebServer(app, "127.0.0.1", 0)
    await server.start()
    async with aiohttp.ClientSession() as session:
        request = asyncio.create_task(session.get(f"{server.url}slow"))
        await started.wait()
        stopping = asyncio.create_task(server.stop())
        await asyncio.wait_for(shutting_down.wait(), 5)
        assert not await _accepts(server.port), "still listening"  # it stops listening first
        assert not stopping.done()  # ... then waits for the running request
        release.set()
        response = await request
        assert response.status == 200 and await response.text() == "finished"
        await stopping


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True
