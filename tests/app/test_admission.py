"""Admission: turns in arrival order, a bounded wait, and the snowflake read against the skew."""

import asyncio
import logging

import pytest

from app.flow import Admission, snowflake_ms


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def snowflake(ms: int) -> int:
    return (ms - snowflake_ms(0)) << 22


WALL_MS = 1_800_000_000_000


def now(coro):
    """A task run at once up to its first wait: it is in the queue when this returns."""
    return asyncio.Task(coro, loop=asyncio.get_running_loop(), eager_start=True)


async def test_turns_go_in_arrival_order_and_expire_at_their_turn():
    clock = Clock()
    admission = Admission(max_running=1, wait_budget_s=1.0, clock=clock, wall_ms=lambda: WALL_MS)
    ids = [snowflake(WALL_MS) + i for i in range(4)]
    for i in ids:
        admission.received(i)
    assert await admission.enter(ids[0]) == (True, 0.0)
    waiting = [now(admission.enter(i)) for i in ids[1:]]
    assert admission.waiting == 3
    clock.now += 0.5
    admission.leave()  # ids[1] waited 0.5 s: its turn
    assert await waiting[0] == (True, 500.0)
    clock.now += 0.75
    admission.leave()  # ids[2] and ids[3] waited 1.25 s: both too late, nobody runs
    assert [await w for w in waiting[1:]] == [(False, 1250.0), (False, 1250.0)]
    assert (admission.running, admission.waiting, admission.expired) == (0, 0, 2)


async def test_past_half_the_budget_the_newest_goes_first():
    """Overloaded, first come first served would answer everyone late; newest first answers
    the new ones quickly while the old ones expire anyway."""
    clock = Clock()
    admission = Admission(max_running=1, wait_budget_s=1.0, clock=clock, wall_ms=lambda: WALL_MS)
    assert (await admission.enter(1))[0]
    old = now(admission.enter(2))
    clock.now += 0.4
    new = now(admission.enter(3))
    clock.now += 0.2  # the oldest waited 0.6 s, more than half the budget
    admission.leave()
    started, waited = await new
    assert started and waited == pytest.approx(200.0)
    clock.now += 0.5
    admission.leave()  # the oldest waited 1.1 s: expired, the turn is free again
    started, waited = await old
    assert not started and waited == pytest.approx(1100.0)
    assert (admission.running, admission.waiting, admission.expired) == (0, 0, 1)


async def test_a_full_queue_drops_the_newcomer_at_once(caplog):
    admission = Admission(max_running=1, max_waiting=1, clock=Clock(), wall_ms=lambda: WALL_MS)
    assert (await admission.enter(1))[0]
    queued = now(admission.enter(2))
    with caplog.at_level(logging.WARNING, logger="app.flow"):
        assert await admission.enter(3) == (False, 0.0)
    assert "1 interaction(s) dropped" in caplog.text
    admission.leave()
    assert (await queued)[0]
    admission.leave()
    assert admission.running == 0


async def test_a_cancelled_waiter_gives_up_its_place():
    admission = Admission(max_running=1, clock=Clock(), wall_ms=lambda: WALL_MS)
    assert (await admission.enter(1))[0]
    cancelled = now(admission.enter(2))
    later = now(admission.enter(3))
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    assert admission.waiting == 1
    admission.leave()
    assert (await later)[0]
    assert admission.running == 1


async def test_a_skewed_clock_expires_nothing_but_a_late_delivery_is_caught():
    """Our wall clock an hour ahead of Discord's: fresh events are fresh. One delivered 5 s
    after Discord made it (a replay) is too late, measured against the others' offset."""
    wall = WALL_MS + 3_600_000
    admission = Admission(wait_budget_s=2.0, clock=Clock(), wall_ms=lambda: wall)
    for i in range(3):
        fresh = snowflake(WALL_MS) + i
        admission.received(fresh)
        assert (await admission.enter(fresh))[0]
        admission.leave()
    replayed = snowflake(WALL_MS - 5_000)
    admission.received(replayed)
    assert not (await admission.enter(replayed))[0]
    assert admission.expired == 1


async def test_quiet_waits_until_no_interaction_holds_a_turn_but_not_for_ever():
    admission = Admission(max_running=2, wait_budget_s=1.0, wall_ms=lambda: WALL_MS)
    assert await admission.quiet(0.0) is True  # nothing running: at once
    ids = [snowflake(WALL_MS) + i for i in range(2)]
    for i in ids:
        admission.received(i)
    assert (await admission.enter(ids[0]))[0] and (await admission.enter(ids[1]))[0]
    assert await admission.quiet(0.01) is False  # two running: it gives up after the bound
    waiting = now(admission.quiet(5.0))
    admission.leave()
    assert await admission.quiet(0.0) is False  # one still runs
    assert not waiting.done()
    admission.leave()
    assert await asyncio.wait_for(waiting, 1.0) is True
