"""Helpers for the reliability tests that drive the real bot through the fake Discord."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from app.settings import REPO_ROOT
from cogs.responses import APOLOGY
from ladder.config import load_ladder_config
from ladder.rating import replay_log
from localdiscord import FakeDiscord, FakeUser, RecordedMessage, SentInteraction
from localdiscord.protocol import (
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    OPT_BOOLEAN,
    OPT_INTEGER,
    OPT_NUMBER,
    OPT_STRING,
    OPT_SUB_COMMAND,
    OPT_USER,
)
from storage.postgres import PostgresDatabase
from storage.ratings import RatingRepository
from tests.e2e.flows import join_queue, match_dm, press
from tests.e2e.harness import WAIT, BotProcess
from tests.e2e.state import db_rows

# The rating constants the e2e ladders use (their ladder.toml copies change only timings).
INVARIANT_CONFIG = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")

# Every table a player or admin action can change (command_calls is left out: refusals are
# logged there on purpose).
STATE_TABLES = (
    "players", "player_names", "player_action_logs", "ratings", "queue_preferences",
    "queue_entries", "matches", "match_messages", "admin_actions", "rating_log", "aborts",
    "disputes", "dispute_evidence",
)  # fmt: skip


def state(bot: BotProcess | Path, tables: Iterable[str] = STATE_TABLES) -> dict[str, list[dict]]:
    """Every row of the state tables, read-only (safe while the bot runs).

    Without queue_entries.waves_waited: every matchmaking wave counts it up for whoever waits.
    """
    snapshot = {t: sorted(db_rows(bot, f"SELECT * FROM {t}"), key=repr) for t in tables}
    for row in snapshot.get("queue_entries", []):
        row.pop("waves_waited", None)
    return snapshot


def apologies(fake: FakeDiscord) -> list[str]:
    """Every message (or earlier version of one) that apologised for a bug."""
    found = []
    for message in fake.messages.values():
        bodies = [*message.history, {"embeds": message.embeds, "content": message.content}]
        for body in bodies:
            text = f"{body.get('content') or ''} " + " ".join(
                f"{e.get('title', '')} {e.get('description', '')}" for e in body.get("embeds") or []
            )
            if APOLOGY in text or "Something went wrong" in text:
                found.append(f"message {message.id}: {text.strip()[:200]}")
                break
    return found


def bot_errors(bot: BotProcess, since: int = 0) -> list[str]:
    """ERROR lines (and unexpected-error lines) of the bot's current log, from char `since`."""
    return [
        line
        for line in bot.log_text()[since:].splitlines()
        if " ERROR " in line or "Unexpected error" in line or "Traceback" in line
    ]


@dataclass(frozen=True)
class Mark:
    """Where a test began: what came before it is not its doing."""

    apologies: int = 0
    log_chars: int = 0


async def mark(fake: FakeDiscord, bot: BotProcess) -> Mark:
    """Let what earlier tests left settle (their own failures), and note where this one begins."""
    await fake.settle()
    fake.take_violations()
    return Mark(len(apologies(fake)), len(bot.log_text()))


async def assert_clean(fake: FakeDiscord, bot: BotProcess, since: Mark = Mark()) -> None:
    """Every interaction answered in time, no apology, no ERROR in the bot's log, and the
    ladder's invariants hold in the file."""
    await fake.settle()
    violations = fake.take_violations()
    assert not violations, "\n".join(map(str, violations))
    found = apologies(fake)[since.apologies :]
    assert not found, found
    errors = bot_errors(bot, since.log_chars)
    assert not errors, "\n".join(errors[:20])
    await assert_ladder_invariants(bot)


def _read_only(path: Path) -> str:
    return f"{path.absolute().as_uri()}?mode=ro"


async def assert_ladder_invariants(bot: BotProcess) -> None:
    """Every finished match is exactly one rating step (both players), no other match is one,
    and every stored rating equals a replay of the whole rating log (in the bot's database:
    its SQLite file, read-only, or its PostgreSQL database)."""
    if isinstance(bot.database_url, str):
        db = await PostgresDatabase.open(bot.database_url)
        try:
            await _assert_invariants(db.reader)
        finally:
            await db.close()
        return
    conn = await aiosqlite.connect(_read_only(bot.database_path), uri=True)
    conn.row_factory = sqlite3.Row
    try:
        await _assert_invariants(conn)
    finally:
        await conn.close()


async def _assert_invariants(conn: Any) -> None:
    async with conn.execute(
        "SELECT m.id, m.status, m.mmr_change, l.seq FROM matches AS m"
        " LEFT JOIN rating_log AS l ON l.match_id = m.id"
    ) as cursor:
        for row in await cursor.fetchall():
            finished = row["status"] == "finished"
            assert (row["seq"] is not None) == finished, dict(row)
            assert (row["mmr_change"] is not None) == finished, dict(row)
    entries, _ = await RatingRepository().log_from(conn, 0)
    rating = INVARIANT_CONFIG.rating
    fresh = replay_log(entries, rating.start, rating.k_factor, rating.divisor)
    stored = {r.key: r.mmr for r in await RatingRepository().all(conn)}
    replayed = {key: fresh.ratings.get(key, rating.start) for key in stored}
    assert stored == replayed, "stored ratings differ from a replay of the rating log"


async def forged_component(
    fake: FakeDiscord, user: FakeUser, message: RecordedMessage, custom_id: str, *,
    component_type: int = 2, values: list[str] | None = None,
) -> SentInteraction:  # fmt: skip
    """A click or select with any custom_id (and values) on `message`: a modified client."""
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    if values is not None:
        data["values"] = values
    return await fake.inject(MESSAGE_COMPONENT, user, data, channel=message.channel,
                              message=message)  # fmt: skip


async def forged_modal(
    fake: FakeDiscord, user: FakeUser, custom_id: str, values: dict[str, str], *,
    message: RecordedMessage | None = None,
) -> SentInteraction:  # fmt: skip
    """A modal submit nobody showed this user (or with values the client would not allow)."""
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
        for key, value in values.items()
    ]
    data = {"custom_id": custom_id, "components": rows}
    channel = message.channel if message is not None else None
    return await fake.inject(MODAL_SUBMIT, user, data, channel=channel, message=message)


async def forged_slash(
    fake: FakeDiscord, user: FakeUser, command: str, options: list[dict[str, Any]], **where: Any
) -> SentInteraction:
    """/command with raw option payloads, past the Discord client's own checks."""
    name, *path = command.split()
    cmd = fake.find_command(user, name, where.get("guild"))
    data: dict[str, Any] = {"id": cmd["id"], "name": name, "type": 1, "options": options}
    for part in reversed(path):
        data["options"] = [{"name": part, "type": OPT_SUB_COMMAND, "options": data["options"]}]
    resolved: dict[str, Any] = {}
    for option in _leaves(data["options"]):
        if option["type"] == OPT_USER:
            user_id = int(option["value"])
            known = fake.users.get(user_id) or FakeUser(user_id, f"ghost{user_id}")
            resolved.setdefault("users", {})[str(user_id)] = known.payload()
    if resolved:
        data["resolved"] = resolved
    return await fake.inject(2, user, data, **where)


def _leaves(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for option in options:
        if "options" in option:
            out += _leaves(option["options"])
        else:
            out.append(option)
    return out


def plain_options(fake: FakeDiscord, command: str, someone: FakeUser) -> dict[str, Any]:
    """Valid values for every option of a registered (sub)command, for a refusal test."""
    name, *path = command.split()
    (spec,) = [c for c in fake.commands[None].values() if c["name"] == name]
    options = spec.get("options") or []
    for part in path:
        options = next(o for o in options if o["name"] == part).get("options") or []
    values: dict[str, Any] = {}
    for option in options:
        kind = option["type"]
        if option.get("choices"):
            values[option["name"]] = option["choices"][0]["value"]
        elif kind == OPT_USER:
            values[option["name"]] = someone
        elif kind in (OPT_INTEGER, OPT_NUMBER):
            values[option["name"]] = max(1, option.get("min_value", 1))
        elif kind == OPT_BOOLEAN:
            values[option["name"]] = True
        elif kind == OPT_STRING:
            values[option["name"]] = "x"
    return values


async def pair(
    fake: FakeDiscord, bot: BotProcess, a: FakeUser, b: FakeUser, *, queued: bool = False
) -> tuple[int, RecordedMessage, RecordedMessage]:
    """`a` and `b` queue (nobody else is queued) and are matched: (match id, DM a, DM b).

    `queued`: `a` is already in the queue.
    """
    if not queued:
        await join_queue(fake, a, ("bw_terran",))
    await join_queue(fake, b, ("bw_zerg",))
    rows = await fake.wait_until(
        lambda: db_rows(
            bot,
            "SELECT id FROM matches WHERE player1_uid IN (?, ?) AND player2_uid IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (a.id, b.id, a.id, b.id),
        ),
        WAIT, f"a match between {a.username} and {b.username}", poll=0.05,
    )  # fmt: skip
    match_id = rows[0]["id"]
    return match_id, await match_dm(fake, a, match_id), await match_dm(fake, b, match_id)


async def start(
    fake: FakeDiscord, bot: BotProcess, a: FakeUser, b: FakeUser, *, queued: bool = False
) -> tuple[int, RecordedMessage, RecordedMessage]:
    """A matched pair who both confirmed: the match is in progress."""
    match_id, dm_a, dm_b = await pair(fake, bot, a, b, queued=queued)
    await press(fake, a, dm_a, "Confirm")
    await press(fake, b, dm_b, "Confirm")
    await wait_status(fake, bot, match_id, "in_progress")
    for dm in (dm_a, dm_b):  # the first to confirm sees the report buttons once edited
        await fake.wait_until(lambda m=dm: any(b.get("label") == "I won" for b in m.buttons()),
                              WAIT, "the report buttons")  # fmt: skip
    return match_id, dm_a, dm_b


def match(bot: BotProcess, match_id: int) -> dict:
    (row,) = db_rows(bot, "SELECT * FROM matches WHERE id = ?", (match_id,))
    return row


async def wait_status(
    fake: FakeDiscord, bot: BotProcess, match_id: int, *statuses: str, within: float = WAIT
) -> dict:
    return await fake.wait_until(
        lambda: (row := match(bot, match_id))["status"] in statuses and row,
        within, f"match #{match_id} to become {statuses}", poll=0.05,
    )  # fmt: skip


async def answered(*interactions: SentInteraction) -> list[RecordedMessage]:
    """Wait for every interaction's visible reply."""
    return list(await asyncio.gather(*(i.reply() for i in interactions)))
