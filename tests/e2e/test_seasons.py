"""Seasons end to end: `/admin season start` through the real client against the local
Discord, the archive shown by `/leaderboard season:1` and `/profile season:1`, and the
refusals (a bad name, a season that does not exist, a non-admin)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ladder.guards import REFUSALS
from localdiscord import FakeDiscord

from .flows import (
    ask,
    command_reply,
    confirm,
    join_queue,
    ladder_with,
    match_dm,
    press,
    started_match,
    wait_text,
)
from .harness import BotProcess
from .state import assert_no_unexpected_errors, db_rows


async def test_admin_starts_a_season_and_the_archive_is_shown(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(
        bot_process,
        tmp_path,
        "Alice",
        "Bob",
        admins=(root,),
        soft_reset='"reset"',  # type: ignore[arg-type]  # a TOML string, written as is
    )
    dm_a, dm_b = await started_match(fake, alice, bob)
    await press(fake, alice, dm_a, "I won")
    await press(fake, bob, dm_b, "I lost")
    await wait_text(fake, dm_a, "Match finished")

    status = await ask(fake, root, "season status")
    assert "Season 1: Season 1" in status.text and "1 rated match" in status.text, status.text

    # A non-admin is refused; a bad name is refused before anything is asked.
    refused = await command_reply(fake, alice, "admin season start", {"name": "Mine"})
    assert REFUSALS["admin"] in refused.text
    blank = await ask(fake, root, "season start", {"name": "   "})
    assert "needs a name" in blank.text and not blank.buttons()

    question = await ask(fake, root, "season start", {"name": "Spring *2027*"})
    assert "start season 2" in question.text and r"Spring \*2027\*" in question.text
    done = await confirm(fake, root, question)
    assert "Season 1: Season 1 has ended: 2 ratings archived (2 ranked)" in done.text, done.text
    assert "every rating back to the start" in done.text

    seasons = db_rows(bot, "SELECT number, name, ended_at FROM seasons ORDER BY number")
    assert [(s["number"], s["name"]) for s in seasons] == [(1, "Season 1"), (2, "Spring *2027*")]
    assert seasons[0]["ended_at"] is not None and seasons[1]["ended_at"] is None
    assert {r["mmr"] for r in db_rows(bot, "SELECT mmr FROM ratings WHERE games = 0")} == {1500}
    (action,) = db_rows(bot, "SELECT action FROM admin_actions WHERE action = 'season_start'")
    assert action["action"] == "season_start"

    board = await command_reply(fake, bob, "leaderboard", {"season": 1})
    assert "Final standings — Season 1: Season 1" in board.text, board.text
    lines = board.text.splitlines()
    first = next(line for line in lines if "`#1`" in line)
    assert "Alice" in first and "1520 MMR" in first and "1W 0L 0D" in first
    second = next(line for line in lines if "`#2`" in line)
    assert "Bob" in second and "1480 MMR" in second
    mine = await command_reply(fake, bob, "profile", {"season": 1})
    assert "`#2`" in mine.text and "1480 MMR" in mine.text, mine.text
    # The live leaderboard starts empty: nobody has played in season 2 yet.
    live = await command_reply(fake, bob, "leaderboard")
    assert "Nobody is ranked yet" in live.text, live.text
    # Seasons that have no archive are refused with a clear message.
    current = await command_reply(fake, bob, "leaderboard", {"season": 2})
    assert "current season" in current.text
    missing = await command_reply(fake, bob, "leaderboard", {"season": 9})
    assert "There is no season 9" in missing.text
    assert_no_unexpected_errors(bot)


NEW_POOL = ("Neo Sylphid", "Heartbreak Ridge", "Outsider", "Python", "Destination")


async def test_a_season_start_puts_the_next_pool_in_force_without_a_restart(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(bot_process, tmp_path, "Alice", "Bob", admins=(root,))
    await confirm(fake, root, await ask(fake, root, "season start", {"name": "Two"}))
    # The host edits the pool for the next season and restarts: season 2 keeps its own pool.
    toml = tmp_path / "data" / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    start = text.index("map_pool = [")
    end = text.index("]", start) + 1
    toml.write_text(text[:start] + f"map_pool = {list(NEW_POOL)!r}" + text[end:], "utf-8")
    await bot.restart()
    status = await ask(fake, root, "season status")
    assert "Fighting Spirit" in status.text and "Outsider" not in status.text, status.text
    # Season 3 begins with the file's pool: the running bot plays it at once.
    await confirm(fake, root, await ask(fake, root, "season start", {"name": "Three"}))
    status = await ask(fake, root, "season status")
    assert "Outsider" in status.text and "Fighting Spirit" not in status.text, status.text
    await join_queue(fake, alice, ("bw_terran",), ("Outsider",))  # the menu offers the new maps
    await join_queue(fake, bob, ("bw_zerg",))
    await match_dm(fake, alice, 1)
    (match,) = db_rows(bot, "SELECT map, season FROM matches")
    assert match["season"] == 3 and match["map"] in NEW_POOL and match["map"] != "Outsider"
    assert_no_unexpected_errors(bot)
