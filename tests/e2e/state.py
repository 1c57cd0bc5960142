"""What the bot left behind, read from a test: its database and its log.

The database is the bot's SQLite file, read through its own read-only connection, or, for a bot
on PostgreSQL (``BotProcess.database_url``), its database, read on a connection of the test's
own; both also while the bot runs. The SQL is SQLite's, as the bot's repositories write it
(``?`` placeholders and all), translated for PostgreSQL by the bot's own translator.
``db_write`` changes the database only while the bot is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from localdiscord import FakeDiscord, FakeUser
from storage.postgres import translate

from .harness import WAIT, BotProcess


def db_rows(bot: BotProcess | Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict]:
    """Rows of a query on the bot's database, as dicts; read-only, also while it runs."""
    url = _postgres_url(bot)
    if url is not None:
        return _on_postgres(_pg_rows(url, sql, params))
    path = bot.database_path if isinstance(bot, BotProcess) else bot
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params).fetchall()]


def db_write(bot: BotProcess, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the database (only while the bot is stopped)."""
    assert not bot.running, "write to the database only while the bot is stopped"
    url = _postgres_url(bot)
    if url is not None:
        _on_postgres(_pg_rows(url, sql, params))
        return
    with contextlib.closing(sqlite3.connect(bot.database_path)) as conn, conn:
        conn.execute(sql, params)


def _postgres_url(bot: BotProcess | Path) -> str | None:
    if not isinstance(bot, BotProcess) or bot.database_url is None:
        return None
    assert isinstance(bot.database_url, str), "the bot's PostgreSQL database is made at start"
    return bot.database_url


# PostgreSQL through asyncpg, called from tests that are synchronous here (and often run inside
# the test's event loop, which must not be blocked on itself): one event loop on a thread of its
# own runs each query, on a connection opened for it (a few ms on loopback).
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _on_postgres(coro: Coroutine[Any, Any, list[dict]]) -> list[dict]:
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="state-postgres", daemon=True).start()
    return asyncio.run_coroutine_threadsafe(coro, _loop).result(WAIT)


def _numeric(text: str) -> int | float:
    """numeric as SQLite returns it (SUM of integers: int), as the bot's pool decodes it."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


async def _pg_rows(url: str, sql: str, params: tuple[Any, ...]) -> list[dict]:
    statement = translate(sql)
    conn = await asyncpg.connect(url)
    try:
        await conn.set_type_codec(
            "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
        )
        if statement.returns_rows:
            return [dict(row) for row in await conn.fetch(statement.sql, *params)]
        await conn.execute(statement.sql, *params)
        return []
    finally:
        await conn.close()


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
