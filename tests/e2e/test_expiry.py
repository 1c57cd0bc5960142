"""An interaction whose turn comes too late to answer within Discord's 3 s gets no work at all.

The bot (build_bot, in this test's loop) answers through the real nextcord client against the
local Discord; its admission runs on a clock the test moves, and the test itself holds the one
turn there is, so an interaction waits exactly as long as the test says. Dropped interactions
get no answer, are recorded in command_calls as ``expired`` and are logged once per interval.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from app.flow import Admission, snowflake_ms
from localdiscord import FakeDiscord, SentInteraction

from .flows import command_reply
from .harness import in_process_bot, running_client

WITHIN = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def expired_rows(fake: FakeDiscord, database: Path, count: int) -> list[int]:
    """The interaction ids recorded `expired`, once there are `count` (the log is batched)."""

    def read() -> list[int] | None:
        with contextlib.closing(sqlite3.connect(database)) as conn:
            rows = conn.execute(
                "SELECT interaction_id FROM command_calls WHERE outcome = 'expired' ORDER BY id"
            ).fetchall()
        return [row[0] for row in rows] if len(rows) >= count else None

    return await fake.wait_until(read, WITHIN, f"{count} expired rows", poll=0.02)


async def dropped_unanswered(fake: FakeDiscord, dropped: list[SentInteraction]) -> None:
    """On Discord each dropped one showed "This interaction failed": the only violations."""
    await fake.settle()
    seen = [(v.rule, v.interaction_id) for v in fake.take_violations()]
    assert seen == [("no-response", inter.id) for inter in dropped], seen


def overloaded_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "app.flow" and r.levelno == logging.WARNING and "Overloaded" in r.getMessage()
    ]


async def waiting(fake: FakeDiscord, admission: Admission, count: int) -> None:
    """Wait until `count` interactions wait for a turn (they arrive through the gateway)."""
    await fake.wait_until(lambda: admission.waiting >= count, WITHIN, "interactions to wait",
                          poll=0.01)  # fmt: skip


async def test_a_turn_that_comes_too_late_runs_nothing_and_is_recorded_expired(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_discord
    clock = Clock()
    caplog.set_level(logging.WARNING, logger="app.flow")
    database = tmp_path / "in-process.db"  # the file in_process_bot opens
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        admission = Admission(max_running=1, wait_budget_s=1.0, warn_interval_s=10.0, clock=clock)
        bot.pipeline.admission = admission
        ann = fake.user("ann")
        await command_reply(fake, ann, "help")  # in time: answered

        # The test holds the only turn; three commands queue behind it and wait 1.5 s.
        assert await admission.enter(0) == (True, 0.0)
        late: list[SentInteraction] = [await fake.slash(ann, "help") for _ in range(3)]
        await waiting(fake, admission, 3)
        clock.now += 1.5
        admission.leave()
        ids = await expired_rows(fake, database, 3)
        assert ids == [inter.id for inter in late]
        answer = await command_reply(fake, ann, "help")  # the turn is free again
        assert "help" in answer.text.lower()
        assert all(inter.callback is None for inter in late)  # the handler never answered
        answered = {int(r.path.split("/")[-3]) for r in fake.requests if "/callback" in r.path}
        assert not answered & set(ids)
        warnings = overloaded_warnings(caplog)
        assert len(warnings) == 1, warnings  # three drops, one warning
        assert "1 interaction(s) dropped" in warnings[0]

        # Ten seconds on, the next drop warns again, with the drops not yet reported.
        assert (await admission.enter(0))[0]
        one_more = await fake.slash(ann, "help")
        await waiting(fake, admission, 1)
        clock.now += 10.0
        admission.leave()
        assert (await expired_rows(fake, database, 4))[-1] == one_more.id
        warnings = overloaded_warnings(caplog)
        assert len(warnings) == 2, warnings
        assert (
            "3 interaction(s) dropped unanswered since the last warning (4 in all)" in (warnings[1])
        )
        (row,) = await bot.db.fetchall(
            "SELECT kind, command, duration_ms FROM command_calls WHERE interaction_id = ?",
            (one_more.id,),
        )
        assert (row["kind"], row["command"]) == ("slash", "help")
        assert row["duration_ms"] == pytest.approx(10_000, abs=1)  # its wait, on the test clock
    assert one_more.callback is None
    await dropped_unanswered(fake, [*late, one_more])


async def test_an_interaction_discord_made_long_ago_is_expired_on_arrival(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway RESUME can deliver an event made seconds ago: our own wait is nothing, its
    snowflake says it is too late (against the offset of the events before it, not our clock
    alone), and a fresh one right after is answered as ever."""
    fake = fake_discord
    database = tmp_path / "in-process.db"  # the file in_process_bot opens
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        ann = fake.user("ann")
        await command_reply(fake, ann, "help")
        made = int(time.time() * 1000) - 10_000
        old_id = ((made - snowflake_ms(0)) << 22) | 1
        assert snowflake_ms(old_id) == made
        with monkeypatch.context() as patch:
            patch.setattr(fake.ids, "next", lambda: old_id)
            replayed = await fake.slash(ann, "help")
        assert await expired_rows(fake, database, 1) == [replayed.id]
        await command_reply(fake, ann, "help")
        assert replayed.callback is None
    await dropped_unanswered(fake, [replayed])


async def test_an_answer_after_the_window_is_recorded_late_without_a_traceback(
    fake_discord: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Started in time but answered after Discord's window (Unknown interaction): recorded
    `late` and counted in the overload warning; no second answer, no traceback."""
    fake = fake_discord
    database = tmp_path / "in-process.db"
    caplog.set_level(logging.WARNING)
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        ann = fake.user("ann")
        await command_reply(fake, ann, "help")
        fake.response_deadline = 0.0  # every answer from now on comes too late
        slow = await fake.slash(ann, "help")

        def outcome() -> str | None:
            with contextlib.closing(sqlite3.connect(database)) as conn:
                row = conn.execute(
                    "SELECT outcome FROM command_calls WHERE interaction_id = ?", (slow.id,)
                ).fetchone()
            return row[0] if row else None

        assert await fake.wait_until(outcome, WITHIN, "the late row", poll=0.02) == "late"
        fake.response_deadline = 3.0
        assert bot.pipeline.admission.late == 1
    assert [(v.rule, v.interaction_id) for v in fake.take_violations()] == [
        ("late-response", slow.id)
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    (warning,) = overloaded_warnings(caplog)
    assert "1 answered too late (1 in all)" in warning
    callbacks = [r for r in fake.requests if f"/interactions/{slow.id}/" in r.path]
    assert len(callbacks) == 1  # no error message sent after it
