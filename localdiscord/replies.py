"""Discord-shaped HTTP: reading what the bot sent, and answering the way Discord answers.

Quirks that each bit once:

* nextcord's webhook code only parses a JSON body when ``Content-Type`` is exactly
  ``application/json`` (aiohttp's ``json_response`` adds ``; charset=utf-8``), so replies are
  built by hand here.
* Without ``X-RateLimit-*`` headers nextcord assumes a limit of 1 request a second per route,
  so every REST reply carries generous rate-limit headers.
* nextcord takes a 429 without a ``Via`` header for a Cloudflare ban and gives up.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from typing import Any

from aiohttp import BodyPartReader, web

from .protocol import API_VERSION

# Where the middleware leaves the parsed request body for the handlers.
# The body is JSON as the bot sent it (None without one): handlers check what they read.
BODY: web.RequestKey[Any] = web.RequestKey("body", object)
FILES: web.RequestKey[list[dict[str, Any]]] = web.RequestKey("files", list)


def is_webhook_route(route: str) -> bool:
    """Interaction callbacks and webhooks are authorised by their token, not the bot token."""
    short = route.removeprefix(f"/api/v{API_VERSION}")
    return short.startswith(("/interactions/", "/webhooks/"))


def reply(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": nextcord's webhook code compares the header with ==.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def no_content() -> web.Response:
    return web.Response(status=204)


def refuse(status: int, code: int, message: str, errors: Any = None) -> web.Response:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return reply(body, status)


def form_error(problems: list[str]) -> web.Response:
    """Discord's 400 for a payload that breaks a limit (details shortened to one list)."""
    errors = {"_errors": [{"code": "BASE_TYPE_INVALID", "message": p} for p in problems]}
    return refuse(400, 50035, "Invalid Form Body", errors)


def global_rate_limited(retry_after: float) -> web.Response:
    """Discord's 429 for a bot over its global rate limit."""
    retry_after = round(max(retry_after, 0.001), 3)
    response = reply({"message": "You are being rate limited.", "retry_after": retry_after,
                      "global": True}, status=429)
    response.headers.update({
        "Retry-After": str(math.ceil(retry_after)), "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        # Discord's answers come through its proxy; nextcord takes a 429 without Via for a
        # Cloudflare ban and gives up instead of waiting.
        "Via": "1.1 google"})
    return response


def route_rate_limited(method: str, route: str, retry_after: float) -> web.Response:
    """Discord's 429 for a request over its route's bucket (not the global limit)."""
    retry_after = round(max(retry_after, 0.001), 3)
    response = reply({"message": "You are being rate limited.", "retry_after": retry_after,
                      "global": False}, status=429)
    response.headers.update({
        **ratelimit_headers(method, route), "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}", "X-RateLimit-Scope": "user",
        "Retry-After": str(math.ceil(retry_after)), "Via": "1.1 google"})
    return response


def ratelimit_headers(method: str, route: str) -> dict[str, str]:
    """Generous limits, one bucket per route: without them nextcord waits 1 s between calls."""
    bucket = f"{zlib.crc32(f'{method} {route}'.encode()):08x}"
    return {"X-RateLimit-Bucket": bucket, "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "999", "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000"}


async def read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """The JSON body; for multipart uploads, ``payload_json`` and a summary of each file."""
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue  # a multipart inside the multipart: Discord's clients send none
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                content = await part.read()
                files.append({"name": part.name, "filename": part.filename,
                              "size": len(content)})
        return body, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def attachment_records(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": str(n), "filename": f["filename"], "size": f["size"],
             "url": f"https://cdn.invalid/{f['filename']}",
             "proxy_url": f"https://cdn.invalid/{f['filename']}"}
            for n, f in enumerate(files)]
