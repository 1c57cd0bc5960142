"""What the bot left behind, read from a test: its SQLite file and its log.

The database is read through its own read-only connection, also while the bot runs;
``db_write`` changes it only while the bot is stopped.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from localdiscord import FakeDiscord, FakeUser

from .harness import WAIT, BotProcess


def db_rows(bot: BotProcess | Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict]:
    """Rows of a query on the bot's SQLite file, as dicts; read-only, also while it runs."""
    path = bot.database_path if isinstance(bot, BotProcess) else bot
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params).fetchall()]


def db_write(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the database (only while the bot is stopped)."""
    assert not bot.running, "write to the database only while the bot is stopped"
    with contextlib.closing(sqlite3.connect(bot.database_path)) as conn, conn:
        conn.execute(sql, params)


def player_row(bot: BotProcess, user: FakeUser) -> dict | None:
    rows = db_rows(bot, "SELECT * FROM players WHERE discord_uid = ?", (user.id,))
    return rows[0] if rows else None


def player_state(bot: BotProcess, user: FakeUser) -> dict[str, Any]:
    """Everything stored about a player: row, names and action log (to prove nothing changed)."""
    return {
        "row": player_row(bot, user),
        "names": db_rows(
            bot, "SELECT * FROM player_names WHERE discord_uid = ? ORDER BY name_key", (user.id,)
        ),
        "log": db_rows(
            bot, "SELECT * FROM player_action_logs WHERE discord_uid = ? ORDER BY id", (user.id,)
        ),
    }


def assert_no_unexpected_errors(bot: BotProcess) -> None:
    """The bot logged no bug (cogs.responses logs each one as "Unexpected error in ...")."""
    errors = [line for line in bot.log_text().splitlines() if "Unexpected error" in line]
    assert not errors, "the bot hit errors:\n" + "\n".join(errors)


async def wait_db(
    fake: FakeDiscord,
    bot: BotProcess,
    sql: str,
    params: tuple[Any, ...] = (),
    *,
    what: str,
    within: float = WAIT,
) -> list[dict]:
    """Poll the database until ``sql`` returns rows."""
    return await fake.wait_until(lambda: db_rows(bot, sql, params), within, what, poll=0.1)


def match_row(bot: BotProcess, match_id: int) -> dict:
    rows = db_rows(bot, "SELECT * FROM matches WHERE id = ?", (match_id,))
    assert rows, f"no match #{match_id}"
    return rows[0]


def ratings(bot: BotProcess) -> dict[tuple[int, str], int]:
    return {
        (r["discord_uid"], r["race"]): r["mmr"]
        for r in db_rows(bot, "SELECT discord_uid, race, mmr FROM ratings")
    }
