"""Cooldowns through the real bot and client: a second /leaderboard within its cooldown is
refused at once with when to retry and logged `refused:cooldown`; an admin is not refused.
(The budget over clicks and the absence of database access: tests/reliability/
test_cooldown_pipeline.py.)"""

from __future__ import annotations

from pathlib import Path

from localdiscord import FakeDiscord

from .flows import accept_terms, command_reply, ladder_with
from .harness import BotFactory
from .state import db_rows


async def test_a_command_within_its_cooldown_is_refused_and_logged(
    bot_process: BotFactory, fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    root = fake_discord.user("root")
    bot, (alice,) = await ladder_with(
        bot_process, tmp_path, "Alice", admins=(root,), leaderboard=30
    )
    fake = bot.fake
    await accept_terms(fake, root)
    first = await command_reply(fake, alice, "leaderboard")
    assert "Try again" not in first.text
    second = await command_reply(fake, alice, "leaderboard")
    assert "You just used this. Try again in 30 seconds." in second.text, second.text
    assert second.ephemeral
    for _ in range(3):  # admins are exempt
        assert "Try again" not in (await command_reply(fake, root, "leaderboard")).text

    def outcomes(uid: int) -> list[str]:
        rows = db_rows(
            bot,
            "SELECT outcome FROM command_calls WHERE discord_uid = ? AND command = 'leaderboard'"
            " ORDER BY id",
            (uid,),
        )
        return [r["outcome"] for r in rows]

    # Polled: a database row wakes no wait on the fake (without poll this waited the full 30 s).
    await fake.wait_until(lambda: len(outcomes(root.id)) == 3, 30, "the log rows", poll=0.1)
    assert outcomes(alice.id) == ["ok", "refused:cooldown"]
    assert outcomes(root.id) == ["ok", "ok", "ok"]
