"""Seasons end to end: `/admin season start` through the real client against the local
Discord, the archive shown by `/leaderboard season:1` and `/profile season:1`, the
refusals (a bad name, a season that does not exist, a non-admin), and a season change cut
short by SIGKILL of the bot process."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ladder.guards import REFUSALS
from localdiscord import FakeDiscord
from localdiscord.protocol import DEFERRED_UPDATE_MESSAGE
from tests.support.file_watch import FileWatch

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


# --- a season change cut short by SIGKILL --------------------------------------------------

SEEDED = 60_000  # ratings: the change then holds its transaction open for a second or more
# Where the change is cut, by the pages it has written (14 MB in all at this size, measured):
# its archive half copied; the archive done and the ratings being rewritten.
CUT_AT = (2_000_000, 9_000_000)
# A start loads the 60k ratings into the standings: seconds, more on a busy 2-core machine.
BIG_START = 90.0


def _seed_ratings(bot: BotProcess, count: int) -> None:
    """`count` more players, each with one rating played today (ranked, so all archived and
    placed), written straight into the stopped bot's database."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.000")
    rng = random.Random(14)
    with contextlib.closing(sqlite3.connect(bot.database_path)) as conn, conn:
        conn.executemany(
            "INSERT INTO players (discord_uid, discord_name, player_name, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(10**15 + i, f"seed{i}", f"Seed{i}", stamp, stamp) for i in range(count)],
        )
        rows = []
        for i in range(count):
            games = rng.randint(1, 30)
            wins = rng.randint(0, games)
            rows.append((10**15 + i, "bw_terran", rng.randint(1100, 1900), games, wins,
                         games - wins, 0, stamp))  # fmt: skip
        conn.executemany(
            "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses, draws,"
            " last_played_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def _season_state(bot: BotProcess) -> dict[str, Any]:
    """Everything a season change touches, in a form two moments can be compared by."""
    return {
        "seasons": db_rows(bot, "SELECT number, name, ended_at FROM seasons ORDER BY number"),
        "archive": db_rows(
            bot,
            "SELECT season, COUNT(*) AS n, SUM(mmr) AS mmr, COUNT(place) AS placed"
            " FROM season_standings GROUP BY season ORDER BY season",
        ),
        "ratings": db_rows(
            bot,
            "SELECT COUNT(*) AS n, SUM(mmr) AS mmr, SUM(games) AS games, SUM(wins) AS wins,"
            " SUM(rating IS NOT NULL) AS exact FROM ratings",
        ),
        "actions": db_rows(
            bot, "SELECT COUNT(*) AS n FROM admin_actions WHERE action = 'season_start'"
        ),
        "schema": db_rows(bot, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"),
    }


async def _midway(bot: BotProcess, *, wal_from: int, cut_at: int, within: float) -> int:
    """Return once the season change is midway: another connection holds the database's write
    lock (its one transaction) and has already written `cut_at` bytes of pages to the WAL
    since `wal_from` (SQLite's 2 MiB page cache spills them before the commit). Returns how
    much it wrote. Woken by each write to the WAL (inotify); the lock is probed with BEGIN
    IMMEDIATE without waiting, and a probe that gets it lets go at once."""
    wal = Path(f"{bot.database_path}-wal")
    probe = sqlite3.connect(bot.database_path, timeout=0, isolation_level=None)
    try:
        with FileWatch(wal) as watch:
            async with asyncio.timeout(within):
                while True:
                    written = wal.stat().st_size - wal_from  # noqa: ASYNC240 (one stat)
                    if written > cut_at and _write_locked(probe):
                        return written
                    await watch.written()
    except TimeoutError:
        raise AssertionError("the season change was never seen midway") from None
    finally:
        probe.close()


def _write_locked(probe: sqlite3.Connection) -> bool:
    """Whether another connection holds the write lock (BEGIN IMMEDIATE fails at once)."""
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    probe.execute("ROLLBACK")
    return False


@pytest.mark.parametrize("cut_at", CUT_AT)
async def test_a_season_change_killed_midway_is_all_or_nothing(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path, cut_at: int
) -> None:
    """SIGKILL the real bot while `/admin season start` is inside its transaction (seen from
    outside: it holds the write lock and has written pages), restart it: the database is
    entirely the old season (or, had the commit won the race, entirely the new one), and the
    bot works."""
    fake = fake_discord
    root = fake.user("root")
    bot, (alice, bob) = await ladder_with(
        bot_process, tmp_path, "Alice", "Bob", admins=(root,),
        soft_reset='"pull"',  # type: ignore[arg-type]  # every rating moves
    )  # fmt: skip
    dm_a, dm_b = await started_match(fake, alice, bob)
    await press(fake, alice, dm_a, "I won")
    await press(fake, bob, dm_b, "I lost")
    await wait_text(fake, dm_a, "Match finished")
    await bot.stop()
    _seed_ratings(bot, SEEDED)
    old = _season_state(bot)
    await bot.start(within=BIG_START)

    question = await ask(fake, root, "season start", {"name": "Never"})
    click = await fake.click(root, question, label="Confirm")
    assert (await click.response()).type == DEFERRED_UPDATE_MESSAGE
    wal_from = Path(f"{bot.database_path}-wal").stat().st_size  # noqa: ASYNC240
    written = await _midway(bot, wal_from=wal_from, cut_at=cut_at, within=60)
    await bot._kill()  # SIGKILL: no signal handler, no rollback, no close
    assert bot.proc is not None and bot.proc.returncode == -signal.SIGKILL

    killed = _season_state(bot)  # what a reader sees: SQLite ignores the uncommitted frames
    await bot.start(within=BIG_START)
    after = _season_state(bot)
    assert after == killed
    assert db_rows(bot, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    assert after["schema"] == old["schema"]  # the MMR indexes the change rebuilds are there
    entries = SEEDED + 2
    if after["seasons"] == old["seasons"]:  # entirely the old season
        assert after == old  # the pages the change had written count for nothing
        outcome = "the old season"
    else:  # entirely the new one: the commit came first
        assert [s["number"] for s in after["seasons"]] == [1, 2]
        assert after["archive"] == [
            {"season": 1, "n": entries, "mmr": old["ratings"][0]["mmr"], "placed": entries}
        ]
        assert after["ratings"][0]["games"] == 0 and after["actions"] == [{"n": 1}]
        outcome = "the new season"
    print(f"\nSIGKILL during the season change ({written:,} bytes of it in the WAL): after"
          f" restart, {outcome}")  # fmt: skip

    # The bot works: the change runs again to the end, and the archive is complete.
    status = await ask(fake, root, "season status")
    assert "Season" in status.text
    if outcome == "the old season":
        question = await ask(fake, root, "season start", {"name": "Two"})
        click = await fake.click(root, question, label="Confirm")
        assert (await click.response()).type == DEFERRED_UPDATE_MESSAGE
        done = await click.reply(within=60)  # 60k ratings on a shared machine: seconds
        assert f"{entries:,} ratings archived" in done.text or str(entries) in done.text, done.text
        final = _season_state(bot)
        assert final["archive"][0]["n"] == entries and final["actions"] == [{"n": 1}]
        assert final["schema"] == old["schema"]
    board = await command_reply(fake, bob, "leaderboard", {"season": 1})
    assert "Final standings" in board.text, board.text
    assert_no_unexpected_errors(bot)
