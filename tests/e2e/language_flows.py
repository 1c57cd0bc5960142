"""The players' paths of flows.py, in any language: every click goes by custom_id, and every
check reads the database or the components, never an English text.

``speaker`` makes a user whose Discord app speaks a locale ("ko", "es-ES"); ``onboard_in``,
``join_queue_by_id``, ``matched_pair_by_id``, ``started_match_by_id``, ``report``,
``rule_dispute`` play the newcomer, queue, match and dispute flows; ``seen_by`` gathers every
text a user was shown (each message as first sent and after every edit, and each modal), for
tests.support.leaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from i18n import from_discord, speaking
from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, MODAL, UPDATE_MESSAGE
from tests.support.leaks import Seen, texts_of_body, texts_of_modal

from .flows import (
    choose,
    command_reply,
    custom_id_of,
    open_setup,
    page_of,
    submit_setup,
)
from .harness import WAIT, BotProcess
from .state import db_rows, match_row, player_row, wait_db


def speaker(fake: FakeDiscord, username: str, locale: str) -> FakeUser:
    """A new user whose Discord app is in `locale` (Discord's code: "es-ES", "ko", "zh-CN")."""
    user = fake.user(username)
    user.locale = locale
    return user


def has_id(message: RecordedMessage, name: str) -> bool:
    """Whether `message` has the component `name` (or `name:<suffix>`), enabled or not."""
    return any(
        c.get("custom_id") == name or str(c.get("custom_id", "")).startswith(name + ":")
        for c in message.all_components()
    )


async def press_id(
    fake: FakeDiscord, user: FakeUser, message: RecordedMessage, name: str,
    answer: int = UPDATE_MESSAGE,
) -> RecordedMessage:
    """`user` clicks the button whose custom_id is `name` (or `name:...`); the bot answers with
    `answer` (by default: it updates that message in place). Returns what the player sees."""
    click = await fake.click(user, message, custom_id=custom_id_of(message, name))
    callback = await click.response()
    reply = await click.reply()
    assert callback.type == answer, f"{name!r}: answered {callback.type}: {reply.text}"
    return reply


async def wait_for_id(
    fake: FakeDiscord, message: RecordedMessage, name: str, *, present: bool = True,
    within: float = WAIT,
) -> RecordedMessage:
    """Wait until the bot's edits put the component `name` on `message` (or take it off)."""
    try:
        await fake.wait_until(lambda: has_id(message, name) == present, within,
                              f"{name!r} {'on' if present else 'off'} message {message.id}")
    except TimeoutError as exc:
        shown = [c.get("custom_id") for c in message.all_components()]
        raise AssertionError(f"{exc}\nthe message has {shown}: {message.text!r}") from None
    return message


# --- newcomers -------------------------------------------------------------------------------


async def accept_terms_by_id(fake: FakeDiscord, user: FakeUser) -> RecordedMessage:
    """/termsofservice, then its Accept (tos:accept)."""
    terms = await command_reply(fake, user, "termsofservice")
    return await press_id(fake, user, terms, "tos:accept")


async def setup_by_id(
    fake: FakeDiscord, bot: BotProcess, user: FakeUser, name: str, *,
    country: str = "FR", region: str = "EU", language: str | None = None,
) -> RecordedMessage:
    """/setup's modal, the country and region selects, Confirm (setup:confirm): the profile is
    saved. Returns the message Confirm left. `language`: the one the bot writes to `user` in,
    if not their Discord app's (a /language choice)."""
    opened = await open_setup(fake, user)
    submitted = await submit_setup(fake, user, name, f"{name}#1234", opened_by=opened)
    assert (await submitted.response()).type == CHANNEL_MESSAGE
    preview = await submitted.reply()
    assert has_id(preview, "setup:confirm"), preview.text
    # The country pages follow the player's language (its names and their order).
    with speaking(language or from_discord(user.locale)):
        page = page_of(country)
    preview = await choose(fake, user, preview, "setup:country_page", page)
    preview = await choose(fake, user, preview, "setup:country", country)
    preview = await choose(fake, user, preview, "setup:region", region)
    saved = await press_id(fake, user, preview, "setup:confirm")
    row = player_row(bot, user)
    assert row is not None and row["player_name"] == name, row
    assert (row["country"], row["region"]) == (country, region), row
    return saved


async def onboard_in(fake: FakeDiscord, bot: BotProcess, locale: str,
                     *names: str) -> list[FakeUser]:
    """New players in `locale` who accepted the terms and saved their profile (flows.onboard)."""
    users = []
    for name in names:
        user = speaker(fake, name.lower(), locale)
        await accept_terms_by_id(fake, user)
        await setup_by_id(fake, bot, user, name)
        users.append(user)
    return users


async def refused_setup_by_id(
    fake: FakeDiscord, user: FakeUser, name: str, battletag: str
) -> RecordedMessage:
    """/setup submitted with a value the bot refuses: an ephemeral reply without a preview."""
    submitted = await submit_setup(fake, user, name, battletag)
    callback = await submitted.response()
    reply = await submitted.reply()
    assert callback.type == CHANNEL_MESSAGE and reply.ephemeral, reply.text
    assert not has_id(reply, "setup:confirm"), f"a preview, not a refusal: {reply.text}"
    return reply


# --- the queue and a match ---------------------------------------------------------------


async def join_queue_by_id(
    fake: FakeDiscord, bot: BotProcess, user: FakeUser, race: str = "bw_terran"
) -> RecordedMessage:
    """/queue, pick `race`, Join (queue_view:join): returns the message that says so (with its
    Cancel, queue:leave). The player is in the queue (or already matched)."""
    menu = await command_reply(fake, user, "queue")
    assert has_id(menu, "queue_view:join"), menu.text
    picked = await fake.select(user, menu, [race], custom_id=custom_id_of(menu, "queue_view:races"))
    assert (await picked.response()).type == UPDATE_MESSAGE
    joined = await press_id(fake, user, menu, "queue_view:join")
    assert has_id(joined, "queue:leave") or _in_a_match(bot, user), joined.text
    return joined


def _in_a_match(bot: BotProcess, user: FakeUser) -> bool:
    return bool(db_rows(bot, "SELECT 1 FROM matches WHERE player1_uid = ? OR player2_uid = ?",
                        (user.id, user.id)))


async def match_dm_by_id(fake: FakeDiscord, user: FakeUser, match_id: int) -> RecordedMessage:
    """The next DM to `user`: match `match_id`, with its Confirm."""
    message = await fake.next_dm(user, within=WAIT)
    assert has_id(message, f"match:{match_id}:confirm"), message.all_components()
    return message


async def matched_pair_by_id(
    fake: FakeDiscord, bot: BotProcess, a: FakeUser, b: FakeUser, match_id: int = 1
) -> tuple[RecordedMessage, RecordedMessage]:
    """`a` (Terran) then `b` (Zerg) join the queue; each one's DM of match `match_id`."""
    await join_queue_by_id(fake, bot, a, "bw_terran")
    await join_queue_by_id(fake, bot, b, "bw_zerg")
    dm_a, dm_b = await match_dm_by_id(fake, a, match_id), await match_dm_by_id(fake, b, match_id)
    assert match_row(bot, match_id)["status"] == "awaiting_confirmation"
    return dm_a, dm_b


async def started_match_by_id(
    fake: FakeDiscord, bot: BotProcess, a: FakeUser, b: FakeUser, match_id: int = 1
) -> tuple[RecordedMessage, RecordedMessage]:
    """Both confirm (match:<id>:confirm): each DM then shows the report buttons."""
    dm_a, dm_b = await matched_pair_by_id(fake, bot, a, b, match_id)
    await press_id(fake, a, dm_a, f"match:{match_id}:confirm")
    await press_id(fake, b, dm_b, f"match:{match_id}:confirm")
    for dm in (dm_a, dm_b):
        await wait_for_id(fake, dm, f"match:{match_id}:report:win")
    assert match_row(bot, match_id)["status"] == "in_progress"
    return dm_a, dm_b


async def report(
    fake: FakeDiscord, user: FakeUser, dm: RecordedMessage, outcome: str, match_id: int = 1
) -> RecordedMessage:
    """`user` reports `outcome` ("win", "loss", "draw") on their match message."""
    return await press_id(fake, user, dm, f"match:{match_id}:report:{outcome}")


async def finished(fake: FakeDiscord, bot: BotProcess, match_id: int,
                   *dms: RecordedMessage) -> dict[str, Any]:
    """Wait until match `match_id` is finished and every one of `dms` shows no buttons."""
    (row,) = await wait_db(fake, bot, "SELECT * FROM matches WHERE id = ? AND status = ?",
                           (match_id, "finished"), what=f"match #{match_id} finished")
    for dm in dms:
        await fake.wait_until(lambda m=dm: not m.buttons(), WAIT, "the final match message")
    return row


# --- a dispute and an admin's ruling ---------------------------------------------------------


async def disputed_by_id(
    fake: FakeDiscord, bot: BotProcess, a: FakeUser, b: FakeUser
) -> tuple[RecordedMessage, RecordedMessage]:
    """A started match #1 where both report a win: disputed, each DM offers evidence only."""
    dm_a, dm_b = await started_match_by_id(fake, bot, a, b)
    await report(fake, a, dm_a, "win")
    await report(fake, b, dm_b, "win")
    await wait_db(fake, bot, "SELECT 1 FROM disputes WHERE match_id = 1 AND status = 'open'",
                  what="the dispute of match #1")
    for dm in (dm_a, dm_b):
        await wait_for_id(fake, dm, "match:1:report:win", present=False)
        await wait_for_id(fake, dm, "match:1:evidence")
    return dm_a, dm_b


async def ask_by_id(fake: FakeDiscord, admin: FakeUser, subcommand: str,
                    options: dict[str, Any] | None = None) -> RecordedMessage:
    """`admin` runs /admin `subcommand`; the (ephemeral) reply."""
    reply = await command_reply(fake, admin, f"admin {subcommand}", options)
    assert reply.ephemeral, reply.text
    return reply


async def rule_dispute(fake: FakeDiscord, admin: FakeUser, match_id: int, ruling: str,
                       reason: str) -> RecordedMessage:
    """/admin resolve, then its Confirm (admin:confirm): the message the question becomes."""
    question = await ask_by_id(
        fake, admin, "resolve", {"match_id": match_id, "ruling": ruling, "reason": reason}
    )
    done = await press_id(fake, admin, question, "admin:confirm", answer=DEFERRED_UPDATE_MESSAGE)
    assert not done.buttons(), done.text
    return done


# --- what a user saw ---------------------------------------------------------------------


def _bodies(message: RecordedMessage) -> Iterator[dict[str, Any]]:
    yield from message.history or [{"content": message.content, "embeds": message.embeds,
                                    "components": message.components}]


def seen_by(fake: FakeDiscord, user: FakeUser) -> list[Seen]:
    """Every text `user` was shown: the messages in their DM channel and the answers to their
    interactions, each as first sent and after every edit, and the modals they were shown."""
    messages = {m.id: m for m in fake.channel_messages(fake.dm_channel(user))}
    seen: list[Seen] = []
    for inter in [i for i in fake.interactions.values() if i.user is user]:
        for message in inter.messages:
            messages.setdefault(message.id, message)
        if inter.callback is not None and inter.callback.type == MODAL:
            seen += texts_of_modal(inter.callback.modal, f"answer to {inter!r}:")
    for message in messages.values():
        for n, body in enumerate(_bodies(message)):
            seen += texts_of_body(body, f"{_name(message)} (version {n + 1})")
    return seen


def seen_since(fake: FakeDiscord, user: FakeUser, before: Iterable[Seen]) -> list[Seen]:
    """What `user` was shown after `before` (an earlier `seen_by`): new messages and edits."""
    old = set(before)
    return [s for s in seen_by(fake, user) if s not in old]


def _name(message: RecordedMessage) -> str:
    if message.interaction is not None:
        return f"message {message.id} answering {message.interaction!r}"
    return f"DM {message.id}"
