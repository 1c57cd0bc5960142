"""/replay end to end: the real bot downloads the attachment from the local Discord over HTTP,
reads it in its parser process, and applies it per replay.mode; an admin rules a dispute by
replay with one click; broken files are refused with a clear message and write nothing.

The shared replays were played in 2020 and 2017, and the bot's clock says today: each test dates
its match's creation back to a few minutes before the game started (the one column the
time-window rule compares besides the report deadline, which stays in the future).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from localdiscord import FakeDiscord, FakeFile, FakeUser, RecordedMessage
from storage.database import Database

from .flows import (
    command_reply,
    ladder_data_dir,
    matched_pair,
    onboard,
    press,
    refused_click,
    wait_text,
)
from .harness import WAIT, BotProcess
from .state import assert_no_unexpected_errors, db_rows, match_row, ratings

REPLAYS = Path(__file__).resolve().parents[1] / "data" / "replays"  # real games, README there
EVER_DREAM = REPLAYS / "5.0.0.80949_EverDream_JiaanN_vs_Rairden.SC2Replay"  # Rairden won

pytestmark = pytest.mark.e2e


async def replay_ladder(
    bot_process: Callable[..., BotProcess],
    tmp_path: Path,
    mode: str,
    admins: tuple[FakeUser, ...] = (),
) -> BotProcess:
    """A fast ladder whose only map is Ever Dream, with replay.mode = `mode`."""
    data = ladder_data_dir(tmp_path, max_vetoes=0)
    toml = data / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^map_pool = \[.*?\]", 'map_pool = ["Ever Dream"]', text, count=1)
    text, count = re.subn(r'(?m)^mode = "report"$', f'mode = "{mode}"', text)
    assert count == 1
    toml.write_text(text, encoding="utf-8")
    bot = bot_process(admins=list(admins), env={"DATA_DIR": str(data)})
    await bot.start()
    return bot


async def date_back(bot: BotProcess, match_id: int) -> None:
    """The match was made at 02:50 UTC on the day the replay's game started at 02:55 (written
    into the running bot's database: its file, or its PostgreSQL database in that run)."""
    db = await Database.open(bot.database_path)
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE matches SET created_at = '2020-07-29 02:50:00.000' WHERE id = ?",
                (match_id,),
            )
    finally:
        await db.close()


async def started(
    fake: FakeDiscord, jiaann: FakeUser, rairden: FakeUser, bot: BotProcess
) -> tuple[RecordedMessage, RecordedMessage]:
    """Match #1, JiaanN (Terran, player 1) vs Rairden (Zerg), both confirmed, dated back."""
    dm_j, dm_r = await matched_pair(fake, jiaann, rairden, 1, ("sc2_terran", "sc2_zerg"))
    await press(fake, jiaann, dm_j, "Confirm")
    await press(fake, rairden, dm_r, "Confirm")
    for dm in (dm_j, dm_r):
        await wait_text(fake, dm, "/replay file:")  # the match message says how to upload
    await date_back(bot, 1)
    return dm_j, dm_r


async def upload(
    fake: FakeDiscord, user: FakeUser, file: FakeFile, options: dict | None = None
) -> RecordedMessage:
    return await command_reply(fake, user, "replay", {"file": file, **(options or {})})


def ever_dream() -> FakeFile:
    return FakeFile("JiaanN vs Rairden.SC2Replay", EVER_DREAM.read_bytes())


async def test_report_mode_a_verified_replay_reports_for_the_uploader(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    bot = await replay_ladder(bot_process, tmp_path, "report")
    jiaann, rairden = await onboard(fake_discord, "JiaanN", "Rairden")
    _, dm_r = await started(fake_discord, jiaann, rairden, bot)
    reply = await upload(fake_discord, jiaann, ever_dream())
    assert "Replay verified for match #1" in reply.text, reply.text
    assert "counts as your report" in reply.text
    assert "`Rairden`" in reply.text and "`Ever Dream LE`" in reply.text
    assert match_row(bot, 1)["player1_report"] == "loss"
    await press(fake_discord, rairden, dm_r, "I won")
    assert match_row(bot, 1)["result"] == "p2_win"
    (row,) = db_rows(bot, "SELECT verdict, effect, size FROM replays")
    assert row == {"verdict": "verified", "effect": "reported", "size": EVER_DREAM.stat().st_size}
    files = list((bot.database_path.parent / "replays").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == EVER_DREAM.read_bytes()
    assert files[0].stat().st_mode & 0o777 == 0o600
    # The same file again, by the other player: refused, nothing written.
    again = await upload(fake_discord, rairden, ever_dream())
    assert "already uploaded (for match #1)" in again.text, again.text
    assert len(db_rows(bot, "SELECT id FROM replays")) == 1
    assert_no_unexpected_errors(bot)


async def test_decides_mode_a_replay_finishes_the_match_and_the_opponent_is_told(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    bot = await replay_ladder(bot_process, tmp_path, "decides")
    jiaann, rairden = await onboard(fake_discord, "JiaanN", "Rairden")
    dm_j, _ = await started(fake_discord, jiaann, rairden, bot)
    before = ratings(bot)
    reply = await upload(fake_discord, rairden, ever_dream())
    assert "It decided the match" in reply.text, reply.text
    row = match_row(bot, 1)
    assert (row["status"], row["result"], row["decided_by"]) == ("finished", "p2_win", "replay")
    told = await fake_discord.next_dm(jiaann, within=WAIT)
    assert "decided by a replay" in told.text, told.text
    await wait_text(fake_discord, dm_j, "Match finished")
    after = ratings(bot)
    assert after[(rairden.id, "sc2_zerg")] > before.get((rairden.id, "sc2_zerg"), 1500)
    assert_no_unexpected_errors(bot)


async def test_evidence_mode_changes_nothing_and_broken_files_are_refused(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    bot = await replay_ladder(bot_process, tmp_path, "evidence")
    jiaann, rairden = await onboard(fake_discord, "JiaanN", "Rairden")
    await started(fake_discord, jiaann, rairden, bot)
    refusals = {
        "random bytes": (FakeFile("x.SC2Replay", os.urandom(100_000)), "not a StarCraft II replay"),
        "not a replay name": (FakeFile("x.zip", b"PK\x03\x04"), "`.SC2Replay` file"),
        "too big, declared small": (
            FakeFile("big.SC2Replay", os.urandom(6 * 2**20), declared_size=1000),
            "larger than 5,120 KB",
        ),
        "too big, declared so": (FakeFile("big.SC2Replay", os.urandom(6 * 2**20)), "larger than"),
    }
    for name, (file, needle) in refusals.items():
        refused = await upload(fake_discord, jiaann, file)
        assert needle in refused.text, (name, refused.text)
    assert db_rows(bot, "SELECT id FROM replays") == []
    reply = await upload(fake_discord, rairden, ever_dream(), {"match": 1})
    assert "kept as evidence" in reply.text, reply.text
    row = match_row(bot, 1)
    assert (row["status"], row["player1_report"], row["player2_report"]) == (
        "in_progress", None, None,
    )  # fmt: skip
    assert_no_unexpected_errors(bot)


async def test_a_dispute_ruled_by_replay_in_one_click(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    admin = fake_discord.user("admin")
    bot = await replay_ladder(bot_process, tmp_path, "evidence", admins=(admin,))
    jiaann, rairden = await onboard(fake_discord, "JiaanN", "Rairden")
    dm_j, dm_r = await started(fake_discord, jiaann, rairden, bot)
    await press(fake_discord, jiaann, dm_j, "I won")
    await press(fake_discord, rairden, dm_r, "I won")
    await wait_text(fake_discord, dm_j, "Disputed")
    reply = await upload(fake_discord, rairden, ever_dream())
    assert "Replay verified" in reply.text, reply.text
    before = ratings(bot)
    listing = await command_reply(fake_discord, admin, "admin disputes")
    assert "replay #1" in listing.text and "verified, proves **p2_win**" in listing.text
    click = await fake_discord.click(admin, listing, label="Rule by replay #1 (match #1)")
    ruled = await click.reply()
    assert "ruled by replay #1" in ruled.text, ruled.text
    row = match_row(bot, 1)
    assert (row["status"], row["result"], row["decided_by"]) == ("finished", "p2_win", "admin")
    after = ratings(bot)
    assert after[(rairden.id, "sc2_zerg")] > before.get((rairden.id, "sc2_zerg"), 1500)
    assert after[(jiaann.id, "sc2_terran")] < before.get((jiaann.id, "sc2_terran"), 1500)
    # The second click of the same button applies nothing.
    again = await (
        await fake_discord.click(admin, listing, label="Rule by replay #1 (match #1)")
    ).reply()
    assert "no open dispute" in again.text, again.text
    (action,) = db_rows(bot, "SELECT reason FROM admin_actions WHERE action = 'resolve_match'")
    assert action["reason"] == "ruled by replay #1"
    # A player who forges the button's custom_id is refused by the router's admin guard (once
    # the ruling's own edit of his match message has landed: the refusal must change nothing).
    await wait_text(fake_discord, dm_j, "Match finished", "your MMR")
    refused = await refused_click(fake_discord, jiaann, dm_j, custom_id="replay:rule:1")
    assert "admin" in refused.text.lower(), refused.text
    assert_no_unexpected_errors(bot)
