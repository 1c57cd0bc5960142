"""The queue board's loop starts again after a stop: a process that stops leading and later
leads again runs the same board (bot.py starts and stops it with each term)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from cogs.queue_board import QueueBoard

WITHIN = 5.0


class ReadyBot:
    """What the loop asks of the bot: it is connected."""

    def is_ready(self) -> bool:
        return True

    async def wait_until_ready(self) -> None:
        return None


class CountingBoard(QueueBoard):
    """The real loop; each tick only counts (the message itself is the e2e tests' business)."""

    def __init__(self) -> None:
        super().__init__(cast(Any, ReadyBot()), cast(Any, None), channel_id=1, interval=0.01)
        self.ticks = 0
        self.ticked = asyncio.Event()

    async def update(self) -> None:
        self.ticks += 1
        self.ticked.set()


async def ticks_again(board: CountingBoard) -> None:
    board.ticked.clear()
    await asyncio.wait_for(board.ticked.wait(), WITHIN)


async def test_the_board_runs_again_after_a_stop() -> None:
    board = CountingBoard()
    board.start()
    first = board._task
    await ticks_again(board)
    await board.stop()
    assert first is not None and first.done()  # the first term's loop has ended
    stopped_at = board.ticks

    board.start()  # a second term as the leader
    await ticks_again(board)
    await ticks_again(board)  # and it keeps ticking, it did not run once and end
    await board.stop()
    assert board.ticks >= stopped_at + 2


async def test_start_twice_runs_one_loop_and_stop_twice_is_harmless() -> None:
    board = CountingBoard()
    board.start()
    first = board._task
    board.start()
    assert board._task is first
    await ticks_again(board)
    await board.stop()
    await board.stop()
    assert first is not None and first.done()
