"""Cooldowns in the interaction pipeline, on a real SQLite database: a refused call is
answered at once with when to retry, logged as `refused:cooldown`, and reads and writes
nothing; admins are never refused."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from cache.players import PlayerCache
from cogs.pipeline import CommandPipeline
from ladder.cooldowns import CooldownConfig, Cooldowns
from storage.command_log import CommandLogWriter
from storage.database import Database
from storage.players import PlayerRepository
from tests.reliability.fakes import RULES, Answer, Interaction, Snowflakes, User, handler

ADMIN = User(99, "root")
ALICE = User(1, "alice")
CONFIG = CooldownConfig(commands=(("profile", 5),), budget_calls=4, budget_seconds=60)


async def test_a_refused_call_is_answered_logged_and_touches_no_database(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "ladder.db")
    writer = CommandLogWriter(db)
    writer.start()
    players = PlayerRepository(db, PlayerCache())
    pipeline = CommandPipeline(
        players, writer, admin_ids=frozenset({ADMIN.id}), dm_only=True,
        cooldowns=Cooldowns(CONFIG),
    )  # fmt: skip
    statements: list[str] = []
    ids = Snowflakes()
    rng = random.Random(1)

    def trace(sql: str) -> None:
        if "command_calls" not in sql:  # the log writer's own rows, off the critical path
            statements.append(sql)

    await db.conn.set_trace_callback(trace)
    await db.reader.set_trace_callback(trace)

    async def run(user: User, command: str) -> Interaction:
        interaction = Interaction(ids.next(), user, command)
        await pipeline.run(
            interaction,  # type: ignore[arg-type]  # a stand-in with what the pipeline reads
            RULES[command],
            handler(players, interaction, command, rng),
        )
        return interaction

    try:
        await run(ALICE, "accept")
        first = await run(ALICE, "help")
        assert first.response.text() == "help"
        again = await run(ALICE, "help")  # no cooldown of its own; the budget: 3 of 4
        assert again.response.text() == "help"
        assert "profile of" in (await run(ALICE, "profile")).response.text()
        players.cache.clear()  # cold: loading the caller now would read the database
        statements.clear()
        refused = await run(ALICE, "profile")
        assert "You just used this. Try again in 5 seconds." in refused.response.text()
        assert refused.response.messages[0]["ephemeral"] is True
        assert statements == []
        statements.clear()
        over = await run(ALICE, "help")
        assert "You are sending commands too fast. Try again in" in over.response.text()
        assert statements == []
        # Admins are exempt: ten quick calls of a command with a cooldown all run.
        await run(ADMIN, "accept")
        assert statements, "the trace sees what an accepted call reads and writes"
        for _ in range(10):
            answered = await run(ADMIN, "help")
            assert answered.response.text() == "help"
    finally:
        await writer.close()
        outcomes = [
            (row[0], row[1])
            for row in await db.fetchall(
                "SELECT command, outcome FROM command_calls WHERE discord_uid = ? ORDER BY id",
                (ALICE.id,),
            )
        ]
        admin_outcomes = {
            row[0]
            for row in await db.fetchall(
                "SELECT outcome FROM command_calls WHERE discord_uid = ?", (ADMIN.id,)
            )
        }
        await db.close()
    assert outcomes == [
        ("accept", "ok"),
        ("help", "ok"),
        ("help", "ok"),
        ("profile", "ok"),
        ("profile", "refused:cooldown"),
        ("help", "refused:cooldown"),
    ]
    assert admin_outcomes == {"ok"}


class _SlowAnswer(Answer):
    """An answer that goes out only when `release` is set, then fails as a closed client's."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    async def send_message(self, **message: Any) -> None:
        self.sending.set()
        await self.release.wait()
        raise ConnectionError("Connector is closed.")


async def test_a_refusal_while_stopping_is_waited_for_and_logged_even_if_its_answer_fails(
    tmp_path: Path,
) -> None:
    """A command arriving after SIGTERM is refused; the stop waits for that refusal to go out
    (it closes the client only after `wait_idle`), and its row is written whatever the answer."""
    db = await Database.open(tmp_path / "ladder.db")
    writer = CommandLogWriter(db)
    writer.start()
    pipeline = CommandPipeline(
        PlayerRepository(db, PlayerCache()), writer, admin_ids=frozenset(), dm_only=True
    )
    interaction = Interaction(Snowflakes().next(), ALICE, "help")
    answer = interaction.response = interaction.followup = _SlowAnswer()
    pipeline.stop_accepting()

    async def nothing() -> None:
        raise AssertionError("a refused command runs no handler")

    run = asyncio.create_task(pipeline.run(interaction, RULES["help"], nothing))  # type: ignore[arg-type]
    try:
        await answer.sending.wait()
        assert not await pipeline.wait_idle(0.05), "the stop must wait for the refusal"
        answer.release.set()
        with pytest.raises(ConnectionError):
            await run
        assert await pipeline.wait_idle(1)
    finally:
        await writer.close()
        rows = await db.fetchall("SELECT command, outcome FROM command_calls")
        await db.close()
    assert [tuple(row) for row in rows] == [("help", "refused:stopping")]
