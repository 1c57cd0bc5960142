"""/leaderboard end to end: pages and filters by click, routed by custom_id with nothing kept.

The leaderboard's buttons, selects and jump modal carry their state in their custom_id (see
cogs/leaderboard.py), so: clicks work the same after a restart, only the owner may use them,
a forged or stale custom_id gets "not recognised", and answering /leaderboard leaves nothing
registered with nextcord however often it is called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localdiscord import FakeDiscord, FakeUser, RecordedMessage, SentInteraction
from localdiscord.protocol import (
    ACTION_ROW,
    CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    STRING_SELECT,
    TEXT_INPUT,
    UPDATE_MESSAGE,
)
from storage.database import Database, utc_now

from .flows import accept_terms, command_reply, forged_click, press
from .harness import BotProcess, in_process_bot, running_client

PLAYERS = 40  # two races each: 80 entries, 8 pages of 10
RACES = ("bw_zerg", "sc2_terran")
COUNTRIES = ("FR", "KR", "US")


def mmr_of(uid: int, race_index: int) -> int:
    return 1000 + 10 * uid + race_index  # all different: p40's SC2 Terran leads


async def seed_ladder(path: Path, players: int = PLAYERS) -> None:
    """`players` ranked players (p1 … pN), two races each, played today."""
    db = await Database.open(path)
    now = utc_now()
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO players (discord_uid, discord_name, player_name, country,"
                " accepted_tos, completed_setup, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                [(u, f"p{u}", f"p{u}", COUNTRIES[u % 3], now, now) for u in range(1, players + 1)],
            )
            await conn.executemany(
                "INSERT INTO ratings (discord_uid, race, mmr, games, wins, losses,"
                " last_played_at) VALUES (?, ?, ?, 10, 5, 5, ?)",
                [
                    (u, race, mmr_of(u, i), now)
                    for u in range(1, players + 1)
                    for i, race in enumerate(RACES)
                ],
            )
    finally:
        await db.close()


async def seeded_bot(bot_process: Callable[..., BotProcess]) -> BotProcess:
    bot = bot_process()
    await seed_ladder(bot.database_path)
    await bot.start()
    return bot


async def reader(fake: FakeDiscord, name: str = "reader") -> FakeUser:
    user = fake.user(name)
    await accept_terms(fake, user)
    return user


def action_id(message: RecordedMessage, action: str) -> str:
    """The custom_id of the component that does `action` ("next", "race", ...)."""
    found = [
        c["custom_id"]
        for c in message.all_components()
        if str(c.get("custom_id", "")).rsplit(":", 1)[-1] == action
    ]
    assert len(found) == 1, (action, [c.get("custom_id") for c in message.all_components()])
    return found[0]


async def pick(
    fake: FakeDiscord, user: FakeUser, message: RecordedMessage, select: str, value: str
) -> RecordedMessage:
    """Choose `value` in the select `select`; the leaderboard must update in place."""
    inter = await fake.select(user, message, [value], custom_id=action_id(message, select))
    assert (await inter.response()).type == UPDATE_MESSAGE, (await inter.reply()).text
    return await inter.reply()


async def forged(
    fake: FakeDiscord,
    user: FakeUser,
    message: RecordedMessage,
    kind: int,
    data: dict[str, Any],
) -> SentInteraction:
    """An interaction a modified client sends about `message` (any user, any custom_id)."""
    return await fake.inject(kind, user, data, channel=message.channel, message=message)


async def refused(inter: SentInteraction, message: RecordedMessage, needle: str) -> None:
    """The bot answered with an ephemeral message saying `needle`; `message` is unchanged."""
    before = (message.embeds, message.components)
    callback = await inter.response()
    reply = await inter.reply()
    assert callback.type == CHANNEL_MESSAGE, (callback.type, reply.text)
    assert reply.ephemeral
    assert needle in reply.text, reply.text
    assert (message.embeds, message.components) == before


def page_input(value: str) -> list[dict]:
    return [
        {
            "type": ACTION_ROW,
            "components": [{"type": TEXT_INPUT, "custom_id": "number", "value": value}],
        }
    ]


async def test_pages_and_filters_change_by_click(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    await seeded_bot(bot_process)
    user = await reader(fake)

    board = await command_reply(fake, user, "leaderboard")
    assert board.ephemeral
    assert "Page 1 of 8" in board.text, board.text
    assert board.text.index("p40") < board.text.index("p39"), board.text
    ids = [c["custom_id"] for c in board.all_components()]
    assert len(ids) == 8 and all(i.startswith(f"lb:{user.id}:1:") for i in ids), ids
    assert board.component(label="Previous").get("disabled")

    board = await press(fake, user, board, "Next")
    assert "Page 2 of 8" in board.text and "`#11`" in board.text, board.text
    board = await press(fake, user, board, "Previous")
    assert "Page 1 of 8" in board.text, board.text

    board = await pick(fake, user, board, "race", "bw_zerg")
    assert "Filters: BW Zerg" in board.text and "Page 1 of 4" in board.text, board.text
    assert "SC2 Terran" not in board.text.split("Filters")[1], board.text
    board = await pick(fake, user, board, "country", "FR")
    assert "France" in board.text, board.text
    assert "13 shown of 80 ranked" in board.text, board.text  # p3, p6, ... p39 in France
    board = await press(fake, user, board, "Best race only: off")
    assert "best race only" in board.text, board.text
    assert board.component(label="Best race only: on")
    assert "0 shown" in board.text  # everyone's best race is SC2 Terran
    board = await press(fake, user, board, "Clear filters")
    assert "Filters" not in board.text and "Page 1 of 8" in board.text, board.text
    letter = next(
        o["value"]
        for o in board.component(custom_id=action_id(board, "rank"))["options"]
        if o["value"] != "*"
    )
    board = await pick(fake, user, board, "rank", letter)
    assert f"rank {letter}" in board.text, board.text

    board = await press(fake, user, board, "Clear filters")
    jump = await fake.click(user, board, label="Jump to page")
    assert (await jump.response()).type == MODAL
    submit = await fake.submit_modal(user, jump, {"number": "5"})
    assert (await submit.response()).type == UPDATE_MESSAGE
    assert "Page 5 of 8" in board.text and "`#41`" in board.text, board.text

    again = await fake.click(user, board, label="Jump to page")
    wrong = await fake.submit_modal(user, again, {"number": "9"})
    await refused(wrong, board, "There is no page 9: pages go from 1 to 8.")


async def test_only_the_owner_can_use_a_leaderboard(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    await seeded_bot(bot_process)
    owner, other = await reader(fake, "owner"), await reader(fake, "other")
    board = await command_reply(fake, owner, "leaderboard")
    await fake.settle()

    mine = "belongs to someone else"
    await refused(await forged_click(fake, other, board, action_id(board, "next")), board, mine)
    select = {
        "custom_id": action_id(board, "race"),
        "component_type": STRING_SELECT,
        "values": ["bw_zerg"],
    }
    await refused(await forged(fake, other, board, MESSAGE_COMPONENT, select), board, mine)
    modal_id = action_id(board, "jump").rsplit(":", 1)[0] + ":page"
    submit = {"custom_id": modal_id, "components": page_input("3")}
    await refused(await forged(fake, other, board, MODAL_SUBMIT, submit), board, mine)

    # The owner's own click still works.
    board = await press(fake, owner, board, "Next")
    assert "Page 2 of 8" in board.text, board.text


async def test_forged_and_stale_custom_ids_are_not_recognised(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    await seeded_bot(bot_process)
    user = await reader(fake)
    board = await command_reply(fake, user, "leaderboard")
    await fake.settle()
    uid = user.id

    for custom in (
        f"lb:{uid}:1:0:0:0:0:explode",
        f"lb:{uid}:0:0:0:0:0:next",  # page 0
        f"lb:{uid}:1:9:0:0:0:next",  # a race the ladder does not have
        f"lb:{uid}:1:0:0:0:7:next",
        f"lb:{uid}:1:0:0:0:0",
        "lb:next:0123456789abcdef0123456789abcdef",  # the per-view ids of before
        "lb",
    ):
        await refused(await forged_click(fake, user, board, custom), board, "not recognised")

    race = action_id(board, "race")
    for values in (["bw_nonsense"], [], ["bw_zerg", "sc2_terran"], "bw_zerg"):
        data = {"custom_id": race, "component_type": STRING_SELECT, "values": values}
        inter = await forged(fake, user, board, MESSAGE_COMPONENT, data)
        await refused(inter, board, "not on the leaderboard's list")
    data = {
        "custom_id": action_id(board, "country"),
        "component_type": STRING_SELECT,
        "values": ["DE"],  # a country, but nobody ranked plays there
    }
    await refused(await forged(fake, user, board, MESSAGE_COMPONENT, data), board, "not on")

    modal_id = action_id(board, "jump").rsplit(":", 1)[0] + ":page"
    no_input = {"custom_id": modal_id, "components": []}
    await refused(await forged(fake, user, board, MODAL_SUBMIT, no_input), board, "not recognised")


async def test_an_old_leaderboard_keeps_working_after_a_restart(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess]
) -> None:
    fake = fake_discord
    bot = await seeded_bot(bot_process)
    user = await reader(fake)
    board = await command_reply(fake, user, "leaderboard")
    board = await pick(fake, user, board, "race", "sc2_terran")
    board = await press(fake, user, board, "Next")
    assert "Page 2 of 4" in board.text, board.text

    await bot.restart()
    board = await press(fake, user, board, "Next")
    assert "Filters: SC2 Terran" in board.text and "Page 3 of 4" in board.text, board.text
    jump = await fake.click(user, board, label="Jump to page")
    submit = await fake.submit_modal(user, jump, {"number": "1"})
    assert (await submit.response()).type == UPDATE_MESSAGE
    assert "Page 1 of 4" in board.text and "p40" in board.text, board.text


CALLS = 300


async def test_answering_leaderboard_keeps_nothing_alive(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Hundreds of /leaderboard calls, then clicks: nextcord holds no more views, modals or
    tasks than before (each call used to keep a view and its 8 items for 10 minutes)."""
    fake = fake_discord
    await seed_ladder(tmp_path / "in-process.db")  # the file in_process_bot opens
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        state = bot._connection
        user = await reader(fake)
        for _ in range(3):  # first calls warm up caches
            await command_reply(fake, user, "leaderboard")
        await fake.settle()

        def alive() -> tuple[int, int]:
            return len(state._view_store._views), len(state._modal_store._modals)

        def tasks() -> int:
            return len(asyncio.all_tasks())

        # The fake's and the bot's own background tasks come and go: a few, not one per call.
        slack = 5
        before, tasks_before = alive(), tasks()
        for _ in range(CALLS):
            board = await command_reply(fake, user, "leaderboard")
        await fake.settle()
        assert alive() == before
        assert tasks() <= tasks_before + slack

        board = await press(fake, user, board, "Best race only: off")
        assert "best race only" in board.text, board.text
        jump = await fake.click(user, board, label="Jump to page")
        submit = await fake.submit_modal(user, jump, {"number": "1"})
        assert (await submit.response()).type == UPDATE_MESSAGE
        await fake.settle()
        assert alive() == before
        assert tasks() <= tasks_before + slack
