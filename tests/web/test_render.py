"""Pages rendered in slices: the same page, and a Discord answer in progress goes first."""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp.test_utils import TestClient, TestServer

from web import render
from web.app import create_app
from web.load import DEFER_AT_MOST_S


async def test_a_page_in_slices_is_the_same_page_and_waits_while_discord_is_answered(
    site, monkeypatch
):
    async with TestClient(TestServer(create_app(site.services))) as plain:
        response = await plain.get("/players/Alice?n=1")
        assert response.status == 200
        whole = await response.text()

    quiet, asked = asyncio.Event(), asyncio.Event()
    deferred: list[float] = []

    async def defer(at_most_s: float) -> None:  # the bot's admission.quiet
        deferred.append(at_most_s)
        asked.set()
        await quiet.wait()

    monkeypatch.setattr(render, "SLICE_S", 0.0)  # a turn after every piece of the template
    services = dataclasses.replace(site.services, defer_to=defer)
    async with TestClient(TestServer(create_app(services))) as sliced:
        request = asyncio.create_task(sliced.get("/players/Alice?n=1"))
        await asyncio.wait_for(asked.wait(), 5)
        # An interaction is being answered: the page waits (the gate, then each slice).
        done, _ = await asyncio.wait({request}, timeout=0.05)
        assert not done
        quiet.set()
        response = await asyncio.wait_for(request, 5)
        assert response.status == 200
        assert await response.text() == whole
    assert len(deferred) > 20 and set(deferred) == {DEFER_AT_MOST_S}
