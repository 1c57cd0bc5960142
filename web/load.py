"""Keeping the website from crowding out the bot: a bound on waiting requests, and a short
cache of the public pages.

The site runs in the bot's process and event loop: every millisecond a page takes is one the
Discord commands wait for. So the site runs a few requests at a time, lets a bounded number
wait, and answers the rest at once with 503 (cheap, and a crawler or a reload storm cannot
build a backlog that holds Discord up for seconds). Public pages are the same for everyone
for a moment, so each is kept for a few seconds and served again as it was: one copy per
language (web/language.py sets the request's language before the cache is asked).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from i18n import _, current

MAX_RUNNING = 4  # requests handled at once
# Before it starts, a request lets the Discord commands holding a turn finish first, waiting
# at most this long (then it runs anyway, so a steady stream of commands cannot starve it).
DEFER_AT_MOST_S = 0.05
MAX_WAITING = 64  # requests waiting for a turn; past that: 503 at once
RETRY_AFTER_SECONDS = 2
PAGE_CACHE_SECONDS = 2.0  # how long a public page is served as it was
PAGE_CACHE_ENTRIES = 2048

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Waits (at most the given seconds) until no Discord interaction is being answered.
type Defer = Callable[[float], Awaitable[object]]


class RequestGate:
    """At most `running` requests at once, at most `waiting` in line; the rest get 503.

    With `defer` (the bot's admission.quiet), a request that has its slot still lets the
    Discord answers in progress finish before it starts: a page's template and reads would
    otherwise run between a command's steps, and a command's latency is what players feel."""

    def __init__(
        self, running: int = MAX_RUNNING, waiting: int = MAX_WAITING, defer: Defer | None = None
    ) -> None:
        self._slots = asyncio.Semaphore(running)
        self.max_waiting = waiting
        self.waiting = 0
        self.refused = 0
        self._defer = defer

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)  # files: cheap, and a page needs them
        if self._slots.locked() and self.waiting >= self.max_waiting:
            self.refused += 1
            raise web.HTTPServiceUnavailable(
                text=_("The ladder is busy: please try again in a moment."),
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            if self._defer is not None:
                await self._defer(DEFER_AT_MOST_S)
            return await handler(request)
        finally:
            self._slots.release()


@dataclass(frozen=True, slots=True)
class _Page:
    expires: float
    status: int
    body: bytes
    content_type: str
    charset: str | None


class PageCache:
    """The public pages by language and URL for a few seconds: the same answer for everyone
    who reads that language meanwhile."""

    def __init__(
        self, seconds: float = PAGE_CACHE_SECONDS, entries: int = PAGE_CACHE_ENTRIES
    ) -> None:
        self.seconds = seconds
        self.entries = entries
        self._pages: OrderedDict[tuple[str, str], _Page] = OrderedDict()
        self.hits = 0

    def cached(self, handler: Handler) -> Handler:
        """Wrap a public GET handler: its 200 answers are kept for `seconds`."""

        async def serve(request: web.Request) -> web.StreamResponse:
            # The language is i18n's current one, set by the language middleware: a page
            # kept for one language must never answer a reader of another.
            key = (current(), request.path_qs)
            now = time.monotonic()
            page = self._pages.get(key)
            if page is not None and page.expires > now:
                self.hits += 1
                return web.Response(
                    status=page.status,
                    body=page.body,
                    content_type=page.content_type,
                    charset=page.charset,
                )
            response = await handler(request)
            if isinstance(response, web.Response) and response.status == 200:
                body = response.body
                if isinstance(body, bytes):
                    self._pages[key] = _Page(
                        now + self.seconds,
                        response.status,
                        body,
                        response.content_type,
                        response.charset,
                    )
                    self._pages.move_to_end(key)
                    while len(self._pages) > self.entries:
                        self._pages.popitem(last=False)
            return response

        return serve
