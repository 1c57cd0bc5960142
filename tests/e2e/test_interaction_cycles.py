"""An answered interaction leaves no reference cycle: reference counting frees it.

nextcord 3.2.0 builds cycles into every interaction (its ``attached`` dict is its own
``__dict__``; ``interaction.response`` points back at the interaction) and into every view
(each item points back at its view). Left alone, only the garbage collector frees them, and at
hundreds of interactions a second the full passes that do stall the bot
(bench/results/load_cycles.md). The pipeline breaks the interaction's cycles when it is done
with it, and ``frozen_view`` its views' at once.

Real bot (bot.py's build_bot on a real database), real nextcord objects built by nextcord from
the local Discord's payloads; the collector saves what it would have freed, and nothing of
nextcord may be among it.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from localdiscord import FakeDiscord, FakeUser

from .flows import command_reply, custom_id_of, finish_setup, press, submit_setup
from .harness import in_process_bot, running_client

ROUNDS = 5

Step = Callable[[FakeDiscord, FakeUser, FakeUser], Awaitable[object]]


async def slash_profile(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    return await command_reply(fake, ann, "profile")


async def slash_help(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    return await command_reply(fake, ann, "help")


async def refused(fake: FakeDiscord, _: FakeUser, newcomer: FakeUser) -> object:
    return await command_reply(fake, newcomer, "profile")  # no terms accepted: a guard refuses


async def autocomplete(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    return await (await fake.autocomplete(ann, "setcountry", "country", "fr")).response()


async def leaderboard_button(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    board = await command_reply(fake, ann, "leaderboard")  # a view of selects and buttons
    return await press(fake, ann, board, "Best race only: off")


async def queue_select(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    menu = await command_reply(fake, ann, "queue")
    races = custom_id_of(menu, "queue_view:races")
    return await (await fake.select(ann, menu, ["bw_zerg"], custom_id=races)).reply()


async def setup_modal(fake: FakeDiscord, ann: FakeUser, _: FakeUser) -> object:
    return await (await submit_setup(fake, ann, "Ann", "Ann#1234")).reply()


STEPS: dict[str, Step] = {
    "slash": slash_profile,
    "slash without a view": slash_help,
    "refused by a guard": refused,
    "autocomplete": autocomplete,
    "button": leaderboard_button,
    "select": queue_select,
    "modal": setup_modal,
}


@contextmanager
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable during the block (collected at its end)."""
    flags = gc.get_debug()
    gc.collect()
    gc.garbage.clear()
    found: list[object] = []
    gc.set_debug(flags | gc.DEBUG_SAVEALL)
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()


def nextcord_objects(objects: list[object]) -> Counter[str]:
    return Counter(
        f"{type(o).__module__}.{type(o).__qualname__}"
        for o in objects
        if type(o).__module__.split(".")[0] in {"nextcord", "cogs"}
    )


@pytest.mark.parametrize("step", STEPS)
async def test_an_answered_interaction_leaves_no_cycle(
    fake_discord: FakeDiscord, tmp_path: Path, step: str
) -> None:
    fake = fake_discord
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        ann, newcomer = fake.user("ann"), fake.user("newcomer")
        await finish_setup(fake, ann, "Ann", "Ann#1234")
        await STEPS[step](fake, ann, newcomer)  # first use: caches, lazy imports
        await fake.settle()
        with saved_garbage() as garbage:
            for _ in range(ROUNDS):
                await STEPS[step](fake, ann, newcomer)
            await fake.settle()
        left = nextcord_objects(garbage)
        assert not left, f"{step}: freed only by the garbage collector: {dict(left)}"


async def test_the_check_sees_the_cycles_nextcord_makes(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the pipeline's release, the same steps leave their interactions in cycles."""
    import cogs.pipeline

    monkeypatch.setattr(cogs.pipeline, "release_cycles", lambda interaction: None)
    fake = fake_discord
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        ann = fake.user("ann")
        await finish_setup(fake, ann, "Ann", "Ann#1234")
        await slash_profile(fake, ann, ann)
        await fake.settle()
        with saved_garbage() as garbage:
            for _ in range(ROUNDS):
                await slash_profile(fake, ann, ann)
            await fake.settle()
        left = nextcord_objects(garbage)
        assert left["nextcord.interactions.Interaction"] >= ROUNDS - 1, dict(left)
        assert left["nextcord.interactions.InteractionResponse"] >= ROUNDS - 1, dict(left)
