"""Background tasks of the storage side (listeners, the leader election): started and stopped
one way each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def start_logged(
    run: Coroutine[Any, Any, None], name: str, log: logging.Logger, crashed: str
) -> asyncio.Task[None]:
    """Run `run` as a background task named `name`; if it ever ends with an exception (it is
    meant to run until cancelled), log `crashed` at ERROR with the traceback."""
    task = asyncio.create_task(run, name=name)

    def done(ended: asyncio.Task[None]) -> None:
        if not ended.cancelled() and ended.exception() is not None:
            log.error(crashed, exc_info=ended.exception())

    task.add_done_callback(done)
    return task
