"""storage.tasks: background tasks started with a crash log, stopped by cancelling."""

from __future__ import annotations

import asyncio
import logging

import pytest

from storage.tasks import cancel_and_wait, start_logged

log = logging.getLogger("tests.tasks")


async def test_a_task_that_raises_is_logged_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = start_logged(broken(), "broken", log, "The thing crashed")
    with pytest.raises(RuntimeError):
        await task
    # The log's callback was added before this await's own: it has run when the await returns.
    crashes = [r for r in caplog.records if r.message == "The thing crashed"]
    assert len(crashes) == 1 and crashes[0].levelno == logging.ERROR
    assert crashes[0].exc_info is not None and "boom" in str(crashes[0].exc_info[1])
    assert task.get_name() == "broken"


async def test_a_cancelled_task_is_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = start_logged(forever(), "forever", log, "The thing crashed")
    await started.wait()
    await cancel_and_wait(task)
    assert task.cancelled()
    assert not [r for r in caplog.records if r.message == "The thing crashed"]
