"""Render a page in slices, letting the Discord commands in progress go first between them.

The site shares the bot's event loop. A player's page takes 1-3 ms of template work: done in
one go, a /profile that arrives meanwhile waits for all of it, and under a steady web load
that is most of what a command's latency gains (its p99 doubled at 200 pages/s). So a page is
drawn from the template's generator, and every `SLICE_S` of it the renderer gives the loop a
turn and, when the bot has handed it `defer_to` (admission.quiet), waits while a Discord
interaction is being answered (at most `DEFER_AT_MOST_S` at a time, so pages are never
starved). Without `defer_to` (tests, the benchmark's bare site) it only gives the loop turns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from web.app import SERVICES
from web.load import DEFER_AT_MOST_S

SLICE_S = 0.0005  # template work between two turns of the loop


async def render_page(
    name: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """aiohttp_jinja2.render_template, in slices (the request's context processors too)."""
    env = request.config_dict[aiohttp_jinja2.APP_KEY]
    extra = request.get(aiohttp_jinja2.REQUEST_CONTEXT_KEY)
    values = {**extra, **context} if extra else context
    text = await _sliced(request, env.get_template(name), values)
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


async def render_markup(name: str, request: web.Request, context: Mapping[str, Any]) -> Markup:
    """A template's output as markup to put into a page (a chart), in slices."""
    env = request.config_dict[aiohttp_jinja2.APP_KEY]
    return Markup(await _sliced(request, env.get_template(name), context))


async def _sliced(request: web.Request, template: jinja2.Template, context: Mapping) -> str:
    defer = request.config_dict[SERVICES].defer_to
    clock = time.perf_counter
    parts: list[str] = []
    until = clock() + SLICE_S
    for part in template.generate(context):
        parts.append(part)
        if clock() >= until:
            await asyncio.sleep(0)  # the loop reads what arrived: a command, an answer
            if defer is not None:
                await defer(DEFER_AT_MOST_S)
            until = clock() + SLICE_S
    return "".join(parts)
