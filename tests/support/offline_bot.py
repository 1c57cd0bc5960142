"""The real bot with all its cogs, built by bot.build_bot on a temporary database and connected to
nothing: for tests of its commands as registered (names, options, localisations, /help)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.settings import REPO_ROOT, load_settings
from bot import build_bot
from cogs.bot import LadderBot
from ladder.config import load_ladder_config
from storage.command_log import CommandLogWriter
from storage.database import Database


@asynccontextmanager
async def offline_bot(folder: Path, terms: str = "Play fair.") -> AsyncIterator[LadderBot]:
    db = await Database.open(folder / "ladder.db")
    writer = CommandLogWriter(db)
    writer.start()
    config = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
    settings = load_settings({"DISCORD_TOKEN": "test-token", "ADMIN_IDS": "1"}, dotenv=None)
    built = await build_bot(settings, config, terms, db, writer)
    try:
        yield built
    finally:
        await built.close()
        await writer.close()
        await db.close()
