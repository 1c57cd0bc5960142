"""The site's guard rails: a bounded line of requests (503 past it) and the page cache."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from web.load import DEFER_AT_MOST_S, PageCache, RequestGate


async def test_requests_past_the_line_are_refused_at_once():
    gate = RequestGate(running=1, waiting=1)
    started, release = asyncio.Event(), asyncio.Event()
    served = []

    async def slow(request: web.Request) -> web.Response:
        served.append(request.query["n"])
        started.set()
        await release.wait()
        return web.Response(text="ok")

    in_line = asyncio.Event()

    @web.middleware
    async def arriving(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.query["n"] == "2":
            in_line.set()  # the gate counts it before its first await, so before we wake
        return await handler(request)

    app = web.Application(middlewares=[arriving, gate.middleware])
    app.router.add_get("/", slow)
    async with TestClient(TestServer(app)) as client:
        first = asyncio.create_task(client.get("/?n=1"))
        await started.wait()
        second = asyncio.create_task(client.get("/?n=2"))
        await asyncio.wait_for(in_line.wait(), 5)
        assert gate.waiting == 1  # the second is in line
        third = await client.get("/?n=3")
        assert third.status == 503 and third.headers["Retry-After"] == "2"
        assert gate.refused == 1
        release.set()
        assert [(await r).status for r in (first, second)] == [200, 200]
        assert served == ["1", "2"]  # the third never reached the handler


async def test_a_request_lets_the_discord_answers_in_progress_finish_first():
    """With `defer` (the bot's admission.quiet), a request starts once it returns."""
    quiet, asked = asyncio.Event(), asyncio.Event()
    deferred: list[float] = []

    async def defer(at_most_s: float) -> None:
        deferred.append(at_most_s)
        asked.set()
        await quiet.wait()

    served = asyncio.Event()

    async def page(request: web.Request) -> web.Response:
        served.set()
        return web.Response(text="ok")

    gate = RequestGate(defer=defer)
    app = web.Application(middlewares=[gate.middleware])
    app.router.add_get("/", page)
    app.router.add_get("/static/x", page)
    async with TestClient(TestServer(app)) as client:
        request = asyncio.create_task(client.get("/"))
        await asyncio.wait_for(asked.wait(), 5)
        assert deferred == [DEFER_AT_MOST_S] and not served.is_set()  # waiting for quiet
        quiet.set()
        assert (await request).status == 200 and served.is_set()
        served.clear()
        quiet.clear()
        assert (await client.get("/static/x")).status == 200  # files never wait
        assert deferred == [DEFER_AT_MOST_S]


async def test_a_page_is_served_from_the_cache_until_it_expires():
    calls = []

    async def page(request: web.Request) -> web.Response:
        calls.append(request.path_qs)
        if request.query.get("missing"):
            raise web.HTTPNotFound()
        return web.Response(text=f"page {len(calls)}", content_type="text/html")

    fresh, stale = PageCache(seconds=60), PageCache(seconds=0)
    app = web.Application()
    app.router.add_get("/kept", fresh.cached(page))
    app.router.add_get("/always", stale.cached(page))
    async with TestClient(TestServer(app)) as client:
        bodies = [await (await client.get("/kept?a=1")).text() for _ in range(3)]
        assert bodies == ["page 1"] * 3 and fresh.hits == 2
        response = await client.get("/kept?a=1")
        assert response.content_type == "text/html"
        assert await (await client.get("/kept?a=2")).text() == "page 2"  # another URL
        for _ in range(2):
            assert (await client.get("/kept?missing=1")).status == 404  # not kept
        assert calls.count("/kept?missing=1") == 2
        await client.get("/always")
        await client.get("/always")
        assert calls.count("/always") == 2 and stale.hits == 0
