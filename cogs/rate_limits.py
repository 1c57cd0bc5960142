"""Discord calls that outlast rate limiting: retried after nextcord gives up on a 429.

nextcord keeps Discord's per-route buckets and the global limit and sleeps a 429's
`retry_after` before trying again, but only five times; then it raises. Under a big wave's
burst (hundreds of DMs and edits sharing the global 50 requests a second) five can run out,
and a match DM lost that way left its player without the message and the match to be
cancelled as a no-show. What must arrive (match DMs, their edits, queue-message edits) goes
through `through_429s`, which waits the 429's own `retry_after` and calls again, a few more
times. Any other error (403: the player does not take DMs) is raised at once, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

import nextcord

log = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 1.0
RETRIES = 5  # after nextcord's own five tries


def retry_after(error: nextcord.HTTPException) -> float:
    """The seconds a 429 asks to wait (its JSON body, else its header), at least a little."""
    seconds = None
    text = getattr(error, "text", "")
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    with contextlib.suppress(TypeError, ValueError):
        seconds = float(headers.get("Retry-After") or headers.get("retry-after") or "nan")
    if isinstance(text, str) and "retry_after" in text:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            seconds = float(json.loads(text)["retry_after"])
    if seconds is None or seconds != seconds or seconds < 0:
        return DEFAULT_RETRY_AFTER
    return min(seconds, 60.0)


async def through_429s[T](
    call: Callable[[], Awaitable[T]], what: str, *, retries: int = RETRIES
) -> T:
    """`await call()`, called again after each 429 nextcord gave up on, at most `retries` more
    times; `what` names the call in the log line of each retry."""
    for attempt in range(retries):
        try:
            return await call()
        except nextcord.HTTPException as error:
            if error.status != 429:
                raise
            wait = retry_after(error)
            log.info("%s: still rate limited, try %d more in %.2f s", what, attempt + 1, wait)
            await asyncio.sleep(wait)
    return await call()
