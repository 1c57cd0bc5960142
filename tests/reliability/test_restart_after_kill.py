"""Restart after a crash: the real bot is SIGKILLed with a player queued and a match half
confirmed, then started again on the same file.

tests/e2e/test_restart.py covers clean restarts (SIGTERM); a crash skips the drain and the
close. Every write a player was answered for must be in the file (each is one committed
transaction before the answer), the queue and the pending match carry on, and the buttons on
messages from before the crash still work. Only command_calls rows still queued in the log
writer at the kill may be missing; how many is printed.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from localdiscord import FakeDiscord
from localdiscord.protocol import APPLICATION_COMMAND
from tests.e2e.flows import join_queue, ladder_with, press, wait_text
from tests.e2e.harness import BotProcess
from tests.e2e.state import db_rows
from tests.reliability.e2e_helpers import assert_clean, match, pair, state, wait_status
from tests.reliability.processes import integrity

pytestmark = pytest.mark.e2e


async def test_after_a_sigkill_the_queue_and_the_pending_match_carry_on(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    bot, (alice, bob, carol, dave) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", "Carol", "Dave"
    )
    match_id, dm_a, dm_b = await pair(fake, bot, alice, bob)
    await press(fake, alice, dm_a, "Confirm")
    queued_c = await join_queue(fake, carol, ("bw_protoss",))
    await assert_clean(fake, bot)
    answered = state(bot)

    await bot._kill()  # SIGKILL: no signal handler, no drain, no close
    assert bot.proc is not None and bot.proc.returncode == -signal.SIGKILL
    assert integrity(bot.database_path) == ("ok", [])
    assert state(bot) == answered, "a write the player was answered for is missing"
    commands = [i for i in fake.interactions.values() if i.type == APPLICATION_COMMAND]
    logged = {r["interaction_id"] for r in db_rows(bot, "SELECT interaction_id FROM command_calls")}
    missing = [i for i in commands if i.id not in logged]
    print(f"\nSIGKILL: {len(commands)} slash commands answered, {len(missing)} of their "
          "command_calls rows were still in the writer's queue")  # fmt: skip

    await bot.start()
    # The pending match: Bob confirms on his message from before the crash.
    await press(fake, bob, dm_b, "Confirm")
    await wait_status(fake, bot, match_id, "in_progress")
    assert match(bot, match_id)["player1_confirmed_at"]
    # The queue: Carol is still in it; Dave joins and is matched with her.
    assert [r["discord_uid"] for r in db_rows(bot, "SELECT * FROM queue_entries")] == [carol.id]
    second, *_ = await pair(fake, bot, carol, dave, queued=True)
    assert {match(bot, second)["player1_uid"], match(bot, second)["player2_uid"]} == {
        carol.id, dave.id}  # fmt: skip
    # Carol's old queue message (from before the crash) now says she was matched: no Cancel.
    await wait_text(fake, queued_c, "A match was found")
    assert not queued_c.buttons()
    await assert_clean(fake, bot)
