"""Every component is routed by its custom_id: nothing kept per message, old ids answered.

* A click is dispatched the same way however many messages with components were answered
  before it: hundreds of /queue, /setup and /termsofservice answers leave no nextcord view or
  modal alive (the bot's own stores are read here, in a test only), and the clicks after them
  still work.
* A custom_id nobody routes (an earlier release's view ids, a forged prefix) or whose state is
  gone is answered "This has expired" and logged as ``refused:expired``, never left unanswered.
* A /queue menu drawn before data/ladder.toml changed its races or maps is expired rather than
  picking other maps than the ones it showed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from cogs.components import EXPIRED
from ladder.countries import country_pages
from localdiscord import FakeDiscord, FakeUser, SentInteraction
from localdiscord.protocol import (
    ACTION_ROW,
    CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    STRING_SELECT,
    TEXT_INPUT,
    UPDATE_MESSAGE,
)

from .flows import (
    accept_terms,
    choose,
    command_reply,
    custom_id_of,
    finish_setup,
    forged_click,
    join_queue,
    ladder_data_dir,
    ladder_with,
    open_queue,
    open_setup,
    page_of,
    press,
    submit_setup,
)
from .harness import BotProcess, in_process_bot, running_client
from .state import assert_no_unexpected_errors, db_rows, player_row

CALLS = 150  # answers of each kind before the clicks


async def test_dispatch_keeps_nothing_per_message(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Hundreds of answers with components, then clicks on the oldest: nextcord holds no view
    or modal more than before (each /queue and /setup answer used to keep one for minutes)."""
    fake = fake_discord
    async with in_process_bot(tmp_path) as bot, running_client(fake, bot):
        state = bot._connection  # reading nextcord's stores: in a test only
        ann = fake.user("ann")
        await finish_setup(fake, ann, "Ann", "Ann#1234")

        def alive() -> tuple[int, int, int]:
            views = state._view_store
            modals = [m for m in state._modal_store._modals.values() if not m.is_finished()]
            return len(views._views), len(views._synced_message_views), len(modals)

        def tasks() -> int:
            return len(asyncio.all_tasks())

        await command_reply(fake, ann, "help")
        await fake.settle()
        before, tasks_before = alive(), tasks()
        assert before == (0, 0, 0), before
        menus, terms, setups = [], [], []
        for _ in range(CALLS):
            menus.append(await command_reply(fake, ann, "queue"))
            terms.append(await command_reply(fake, ann, "termsofservice"))
            setups.append(await open_setup(fake, ann))
        await fake.settle()
        assert alive() == before
        assert tasks() <= tasks_before + 5  # the fake's and the bot's own come and go

        # The oldest of each still answers, through the router.
        oldest = menus[0]
        picked = await fake.select(ann, oldest, ["bw_zerg"],
                                   custom_id=custom_id_of(oldest, "queue_view:races"))  # fmt: skip
        assert (await picked.response()).type == UPDATE_MESSAGE
        assert "BW Zerg" in (await picked.reply()).text
        accepted = await press(fake, ann, terms[0], "Accept")
        assert "Accepted" in accepted.text
        submitted = await submit_setup(fake, ann, "Ann", "Ann#1234", opened_by=setups[0])
        preview = await submitted.reply()
        assert "preview" in preview.text.lower(), preview.text
        joined = await press(fake, ann, oldest, "Join")
        assert "You are in the queue" in joined.text
        await fake.settle()
        assert alive() == before
        assert tasks() <= tasks_before + 5
        queued = await bot.queue.queue_status(ann.id)
        assert queued is not None and queued.races == ("bw_zerg",)


async def forged_modal_submit(
    fake: FakeDiscord, user: FakeUser, custom_id: str, values: dict[str, str]
) -> SentInteraction:
    rows = [
        {"type": ACTION_ROW,
         "components": [{"type": TEXT_INPUT, "custom_id": key, "value": value}]}
        for key, value in values.items()
    ]  # fmt: skip
    return await fake.inject(MODAL_SUBMIT, user, {"custom_id": custom_id, "components": rows})


async def test_unknown_and_earlier_custom_ids_are_answered_expired(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    fake = fake_discord
    root = fake.user("root")
    bot, (ada,) = await ladder_with(bot_process, tmp_path, "Ada", admins=(root,))
    menu = await open_queue(fake, ada)
    view_id = "ab" * 16  # what an earlier release appended to a short-lived view's ids
    old_ids = [
        f"queue_view:join:{view_id}",  # an earlier release's /queue menu
        f"setup:confirm:{view_id}",  # ... its /setup preview
        f"admin:confirm:{view_id}",  # ... its admin question
        "admin:confirm:999999",  # a question that was never asked
        "nobody:routes:this",  # a prefix no cog registered
        "",  # no custom_id at all
    ]
    for custom in old_ids:
        click = await forged_click(fake, ada if "admin" not in custom else root, menu, custom)
        assert (await click.response()).type == CHANNEL_MESSAGE, custom
        reply = await click.reply()
        assert reply.ephemeral and EXPIRED.user_message in reply.text, (custom, reply.text)
    # The modal of an earlier release's /setup ("setup:modal", kept in memory back then).
    typed = {"setup:player_name": "Ada2", "setup:battletag": "Ada#2"}
    submit = await forged_modal_submit(fake, ada, "setup:modal", typed)
    reply = await submit.reply()
    assert reply.ephemeral and EXPIRED.user_message in reply.text, reply.text
    assert player_row(bot, ada)["player_name"] == "Ada"
    assert not db_rows(bot, "SELECT * FROM queue_entries")

    await bot.stop()
    rows = db_rows(
        bot,
        "SELECT kind, command FROM command_calls WHERE outcome = 'refused:expired' ORDER BY id",
    )
    assert [(r["kind"], r["command"]) for r in rows] == [
        ("component", "queue_view:join"),
        ("component", "setup:confirm"),
        ("component", "admin:confirm"),
        ("component", "admin:confirm"),
        ("component", "nobody:routes:this"),
        ("component", "unknown"),
        ("modal", "setup:modal"),
    ]
    assert_no_unexpected_errors(bot)


async def test_a_queue_menu_drawn_before_the_ladder_changed_is_expired(
    fake_discord: FakeDiscord, bot_process: Callable[..., BotProcess], tmp_path: Path
) -> None:
    """A menu's picks are indexes into the ladder's races and maps: once ladder.toml changes
    them, its Join must not queue the player with maps he never saw."""
    fake = fake_discord
    bot, (bea, cal) = await ladder_with(bot_process, tmp_path, "Bea", "Cal")
    stale = await open_queue(fake, bea)
    picked = await fake.select(bea, stale, ["Eclipse"],
                               custom_id=custom_id_of(stale, "queue_view:vetoes"))  # fmt: skip
    await picked.reply()
    kept = await open_queue(fake, cal)
    await bot.stop()
    toml = ladder_data_dir(tmp_path) / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('"Eclipse",', '"Eclipse II",'), encoding="utf-8")
    await bot.start()

    click = await fake.click(bea, stale, label="Join")
    assert (await click.response()).type == CHANNEL_MESSAGE
    assert EXPIRED.user_message in (await click.reply()).text
    assert not db_rows(bot, "SELECT * FROM queue_entries")
    # A fresh menu shows the new pool; the queue works as ever.
    fresh = await join_queue(fake, bea, ("bw_terran",), ("Eclipse II",))
    assert "Eclipse II" in fresh.text
    (entry,) = db_rows(bot, "SELECT vetoes FROM queue_entries")
    assert json.loads(entry["vetoes"]) == ["Eclipse II"]
    assert kept.component(label="Join")  # Cal's menu, drawn before too, is refused the same way
    assert "expired" in (await (await fake.click(cal, kept, label="Join")).reply()).text.lower()
    assert_no_unexpected_errors(bot)


async def test_setup_preview_refuses_what_it_did_not_offer(
    fake_discord: FakeDiscord, ladder_bot: BotProcess
) -> None:
    """The country select offers one page of countries: a country of another page, sent by a
    modified client, is refused and the draft keeps what it had."""
    fake, bot = fake_discord, ladder_bot
    dee = fake.user("dee")
    await accept_terms(fake, dee)
    preview = await (await submit_setup(fake, dee, "Dee", "Dee#1234")).reply()
    preview = await choose(fake, dee, preview, "setup:country_page", page_of("FR"))
    other_page = next(codes for _, codes in country_pages() if "FR" not in dict(codes))
    data = {"custom_id": custom_id_of(preview, "setup:country"),
            "component_type": STRING_SELECT, "values": [other_page[0][0]]}  # fmt: skip
    forged = await fake.inject(MESSAGE_COMPONENT, dee, data, channel=preview.channel,
                                message=preview)  # fmt: skip
    reply = await forged.reply()
    assert reply.ephemeral and "Please pick a country from the list" in reply.text, reply.text
    (draft,) = db_rows(bot, "SELECT country FROM setup_drafts")
    assert draft["country"] is None
