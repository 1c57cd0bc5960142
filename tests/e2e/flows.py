"""Players' paths through the bot, as steps a scenario is written with.

Onboarding (``accept_terms``, ``submit_setup``, ``finish_setup``, ...), a fast ladder
(``ladder_data_dir``, ``start_ladder_bot``), the queue and the match DM (``onboard``,
``join_queue``, ``match_dm``, ``press``, ``started_match``, ``dispute``, ...) and an admin's
questions (``ask``, ``confirm``). Each step waits for what the player would see, and fails with
what the message showed when it is not what was expected.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ladder.countries import country_pages
from localdiscord import FakeDiscord, FakeUser, RecordedMessage, SentInteraction, rules
from localdiscord.protocol import (
    BUTTON,
    CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    UPDATE_MESSAGE,
)

from .harness import NO_COOLDOWNS, REPO_ROOT, WAIT, BotProcess, set_ladder_settings


def custom_id_of(message: RecordedMessage, name: str) -> str:
    """The custom_id ``name`` on ``message``, or ``name:<suffix>`` (a per-message id)."""
    found = [
        c["custom_id"]
        for c in message.all_components()
        if c.get("custom_id") == name or str(c.get("custom_id", "")).startswith(name + ":")
    ]
    assert len(found) == 1, f"{name!r} matches {found} on {message.all_components()}"
    return found[0]


async def accept_terms(fake: FakeDiscord, user: FakeUser) -> RecordedMessage:
    """``user`` runs /termsofservice in a DM and clicks Accept; returns the updated message."""
    terms = await (await fake.slash(user, "termsofservice")).reply()
    click = await fake.click(user, terms, label="Accept")
    assert (await click.response()).type == UPDATE_MESSAGE
    return await click.reply()


async def newcomers(fake: FakeDiscord, *usernames: str) -> list[FakeUser]:
    """New users who ran /termsofservice and accepted, one after the other."""
    users = [fake.user(username) for username in usernames]
    for user in users:
        await accept_terms(fake, user)
    return users


async def open_setup(fake: FakeDiscord, user: FakeUser) -> SentInteraction:
    inter = await fake.slash(user, "setup")
    assert (await inter.response()).type == MODAL
    return inter


def modal_values(inter: SentInteraction) -> dict[str, str]:
    """The prefilled values of the modal the bot opened in answer to ``inter``."""
    assert inter.callback is not None
    return {i["custom_id"]: i.get("value") or "" for i in rules.modal_inputs(inter.callback.modal)}


async def submit_setup(
    fake: FakeDiscord,
    user: FakeUser,
    name: str,
    battletag: str,
    alts: tuple[str, str] = ("", ""),
    opened_by: SentInteraction | None = None,
) -> SentInteraction:
    """Open /setup (unless ``opened_by``) and submit its modal."""
    opened_by = opened_by or await open_setup(fake, user)
    values = {
        "setup:player_name": name,
        "setup:battletag": battletag,
        "setup:alt_1": alts[0],
        "setup:alt_2": alts[1],
    }
    return await fake.submit_modal(user, opened_by, values)


def page_of(code: str) -> str:
    """The value of the country-page option that holds ``code``."""
    for index, (_, codes) in enumerate(country_pages()):
        if code in dict(codes):
            return str(index)
    raise LookupError(code)


async def choose(
    fake: FakeDiscord, user: FakeUser, preview: RecordedMessage, name: str, value: str
) -> RecordedMessage:
    """Pick ``value`` in the select ``name`` of the /setup preview; the preview is updated."""
    inter = await fake.select(user, preview, [value], custom_id=custom_id_of(preview, name))
    callback = await inter.response()
    assert callback.type == UPDATE_MESSAGE, (await inter.reply()).text
    return await inter.reply()


async def pick_country_and_region(
    fake: FakeDiscord, user: FakeUser, preview: RecordedMessage, country: str, region: str
) -> RecordedMessage:
    preview = await choose(fake, user, preview, "setup:country_page", page_of(country))
    preview = await choose(fake, user, preview, "setup:country", country)
    return await choose(fake, user, preview, "setup:region", region)


async def refused_setup(
    fake: FakeDiscord, user: FakeUser, name: str, battletag: str, alt: str = "", *,
    what: str, words: list[str],
) -> RecordedMessage:
    """``user`` submits /setup and is refused: an ephemeral reply, no preview, that names the
    rule (each of ``words``) and is not an error. ``what`` names the attempt in failures."""
    submitted = await submit_setup(fake, user, name, battletag, (alt, ""))
    callback = await submitted.response()
    reply = await submitted.reply()
    assert callback.type == CHANNEL_MESSAGE and reply.ephemeral, what
    assert not reply.buttons() and not reply.selects(), f"{what}: a preview, not a refusal"
    for word in words:
        assert word in reply.text, f"{what}: {word!r} not in {reply.text!r}"
    assert "went wrong" not in reply.text, f"{what}: an error, not a refusal"
    return reply


async def setup_preview(
    fake: FakeDiscord,
    user: FakeUser,
    name: str,
    battletag: str,
    country: str = "FR",
    region: str = "EU",
) -> RecordedMessage:
    """``user`` (who accepted the terms) fills in /setup up to its Confirm: the modal, then the
    country and region; returns the preview, not confirmed."""
    preview = await (await submit_setup(fake, user, name, battletag)).reply()
    return await pick_country_and_region(fake, user, preview, country, region)


async def finish_setup(
    fake: FakeDiscord,
    user: FakeUser,
    name: str,
    battletag: str = "Player#1234",
    alts: tuple[str, str] = ("", ""),
    country: str = "FR",
    region: str = "EU",
    *,
    accept: bool = True,
) -> RecordedMessage:
    """Terms (if ``accept``), the modal, the selects, Confirm: returns the saved message."""
    if accept:
        await accept_terms(fake, user)
    submitted = await submit_setup(fake, user, name, battletag, alts)
    preview = await submitted.reply()
    assert "preview" in preview.text.lower(), preview.text
    preview = await pick_country_and_region(fake, user, preview, country, region)
    confirm = await fake.click(user, preview, label="Confirm")
    assert (await confirm.response()).type == UPDATE_MESSAGE
    saved = await confirm.reply()
    assert "Profile saved" in saved.text, saved.text
    return saved


async def command_reply(
    fake: FakeDiscord, user: FakeUser, command: str, options: dict | None = None, **kw: Any
) -> RecordedMessage:
    return await (await fake.slash(user, command, options, **kw)).reply()


WAVE_SECONDS = 0.3  # matchmaking waves this often: a match is made well within a second


LEAVE_LABEL = "Cancel (leave the queue)"


def ladder_data_dir(tmp_path: Path, **settings: float | int) -> Path:
    """A copy of ``data/`` whose ladder.toml has short waves and ``settings`` (``key=value``).

    Keys are the bare setting names of ladder.toml (``confirmation_window_seconds=2``); each
    must already be in the file, so a typo fails here instead of being ignored.
    """
    data = tmp_path / "data"
    if not data.exists():
        shutil.copytree(REPO_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db*"))
    toml = data / "ladder.toml"
    text = toml.read_text(encoding="utf-8")
    # Cooldowns off unless a test sets them (by their keys, e.g. **{"queue_view:join": 3}).
    changes = {"wave_interval_seconds": WAVE_SECONDS, **NO_COOLDOWNS, **settings}
    toml.write_text(set_ladder_settings(text, changes), encoding="utf-8")
    return data


async def start_ladder_bot(
    bot_process: Callable[..., BotProcess],
    tmp_path: Path,
    *,
    admins: tuple[FakeUser, ...] = (),
    env: dict[str, str] | None = None,
    **settings: float | int,
) -> BotProcess:
    """Start the real bot on a fast ladder (see ``ladder_data_dir``)."""
    data = ladder_data_dir(tmp_path, **settings)
    bot = bot_process(admins=list(admins), env={"DATA_DIR": str(data), **(env or {})})
    await bot.start()
    return bot


async def onboard(fake: FakeDiscord, *names: str) -> list[FakeUser]:
    """New players who accepted the terms and finished /setup (name = username, capitalised)."""
    users = []
    for name in names:
        user = fake.user(name.lower())
        await accept_terms(fake, user)
        opened = await open_setup(fake, user)
        submitted = await submit_setup(fake, user, name, f"{name}#1234", opened_by=opened)
        preview = await submitted.reply()
        assert "preview" in preview.text.lower(), preview.text
        preview = await pick_country_and_region(fake, user, preview, "FR", "EU")
        saved = await press(fake, user, preview, "Confirm")
        assert "Profile saved" in saved.text, saved.text
        users.append(user)
    return users


async def ladder_with(
    bot_process: Callable[..., BotProcess],
    tmp_path: Path,
    *names: str,
    admins: tuple[FakeUser, ...] = (),
    **settings: float | int,
) -> tuple[BotProcess, list[FakeUser]]:
    """A fast ladder (``start_ladder_bot``, ``settings`` as there) and the players ``names``,
    onboarded (``onboard``)."""
    bot = await start_ladder_bot(bot_process, tmp_path, admins=admins, env=None, **settings)
    return bot, await onboard(bot.fake, *names)


async def open_queue(fake: FakeDiscord, user: FakeUser) -> RecordedMessage:
    """``user`` runs /queue; returns the message with the race and veto selects."""
    message = await command_reply(fake, user, "queue")
    assert "Queue for a match" in message.text, message.text
    return message


async def join_queue(
    fake: FakeDiscord,
    user: FakeUser,
    races: tuple[str, ...] = ("bw_terran",),
    vetoes: tuple[str, ...] = (),
) -> RecordedMessage:
    """/queue, pick ``races`` (and ``vetoes``), Join: returns the "You are in the queue" message."""
    message = await open_queue(fake, user)
    picked = await fake.select(
        user, message, list(races), custom_id=custom_id_of(message, "queue_view:races")
    )
    assert (await picked.response()).type == UPDATE_MESSAGE
    if vetoes:
        vetoed = await fake.select(
            user, message, list(vetoes), custom_id=custom_id_of(message, "queue_view:vetoes")
        )
        assert (await vetoed.response()).type == UPDATE_MESSAGE
    joined = await press(fake, user, message, "Join")
    assert "You are in the queue" in joined.text, joined.text
    assert joined.component(label=LEAVE_LABEL)
    return joined


async def press(
    fake: FakeDiscord, user: FakeUser, message: RecordedMessage, label: str
) -> RecordedMessage:
    """``user`` clicks the button ``label``; the bot must update that message in place."""
    click = await fake.click(user, message, label=label)
    callback = await click.response()
    reply = await click.reply()
    assert callback.type == UPDATE_MESSAGE, f"{label!r}: {reply.text}"
    return reply


async def refused_click(
    fake: FakeDiscord,
    user: FakeUser,
    message: RecordedMessage,
    *,
    label: str | None = None,
    custom_id: str | None = None,
) -> RecordedMessage:
    """A click the bot must refuse: an ephemeral message, the clicked message unchanged."""
    before = (message.content, message.embeds, message.components)
    if label is not None:
        click = await fake.click(user, message, label=label)
    else:
        assert custom_id is not None
        click = await forged_click(fake, user, message, custom_id)
    callback = await click.response()
    reply = await click.reply()
    assert callback.type == CHANNEL_MESSAGE, (callback.type, reply.text)
    assert reply.ephemeral, reply.text
    assert (message.content, message.embeds, message.components) == before
    return reply


async def forged_click(
    fake: FakeDiscord, user: FakeUser, message: RecordedMessage, custom_id: str
) -> SentInteraction:
    """A button click with a custom_id that is not on ``message`` (a modified client)."""
    data = {"custom_id": custom_id, "component_type": BUTTON}
    return await fake.inject(MESSAGE_COMPONENT, user, data, channel=message.channel,
                              message=message)  # fmt: skip


async def match_dm(
    fake: FakeDiscord, user: FakeUser, match_id: int, within: float = WAIT
) -> RecordedMessage:
    """The next DM to ``user``, which must show match ``match_id``."""
    message = await fake.next_dm(user, within=within)
    assert f"Match #{match_id}" in message.text, message.text
    return message


async def wait_text(
    fake: FakeDiscord, message: RecordedMessage, *needles: str, within: float = WAIT
) -> RecordedMessage:
    """Wait until ``message`` (edited by the bot in place) shows every one of ``needles``."""
    try:
        await fake.wait_until(
            lambda: all(n in message.text for n in needles), within,
            f"message {message.id} to show {needles}",
        )  # fmt: skip
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\nthe message shows: {message.text!r}") from None
    return message


def labels(message: RecordedMessage) -> list[str]:
    return [b.get("label", "") for b in message.buttons()]


def enabled_labels(message: RecordedMessage) -> list[str]:
    return [b.get("label", "") for b in message.buttons() if not b.get("disabled")]


async def matched_pair(
    fake: FakeDiscord,
    a: FakeUser,
    b: FakeUser,
    match_id: int = 1,
    races: tuple[str, str] = ("bw_terran", "bw_zerg"),
) -> tuple[RecordedMessage, RecordedMessage]:
    """``a`` then ``b`` join the queue; returns each one's DM of match ``match_id``."""
    await join_queue(fake, a, (races[0],))
    await join_queue(fake, b, (races[1],))
    return await match_dm(fake, a, match_id), await match_dm(fake, b, match_id)


async def half_confirmed(
    fake: FakeDiscord, a: FakeUser, b: FakeUser, match_id: int = 1
) -> tuple[RecordedMessage, RecordedMessage]:
    """A match where only ``a`` pressed Confirm: ``b``'s DM still asks him to confirm."""
    dm_a, dm_b = await matched_pair(fake, a, b, match_id)
    await press(fake, a, dm_a, "Confirm")
    return dm_a, dm_b


async def started_match(
    fake: FakeDiscord, a: FakeUser, b: FakeUser, match_id: int = 1
) -> tuple[RecordedMessage, RecordedMessage]:
    """A match that both confirmed: each one's DM now shows the report buttons."""
    dm_a, dm_b = await matched_pair(fake, a, b, match_id)
    await press(fake, a, dm_a, "Confirm")
    await press(fake, b, dm_b, "Confirm")
    for dm in (dm_a, dm_b):
        await fake.wait_until(lambda m=dm: "I won" in labels(m), WAIT, "the report buttons")
    return dm_a, dm_b


async def dispute(
    fake: FakeDiscord, a: FakeUser, b: FakeUser
) -> tuple[RecordedMessage, RecordedMessage]:
    """A started match #1 where both players report a win: disputed."""
    dm_a, dm_b = await started_match(fake, a, b)
    await press(fake, a, dm_a, "I won")
    await press(fake, b, dm_b, "I won")
    for dm in (dm_a, dm_b):
        await wait_text(fake, dm, "Disputed")
    return dm_a, dm_b


async def add_evidence(
    fake: FakeDiscord, user: FakeUser, dm: RecordedMessage, note: str, url: str
) -> RecordedMessage:
    """``user`` clicks "Add evidence", fills in the modal and submits; returns the reply."""
    opened = await fake.click(user, dm, label="Add evidence")
    assert (await opened.response()).type == MODAL
    assert opened.callback is not None
    assert opened.callback.modal["custom_id"] == custom_id_of(dm, "match").replace(
        "evidence", "evidence_submit"
    )
    submitted = await fake.submit_modal(user, opened, {"evidence:note": note, "evidence:url": url})
    return await submitted.reply()


async def ask(
    fake: FakeDiscord, admin: FakeUser, subcommand: str, options: dict[str, Any] | None = None
) -> RecordedMessage:
    """``admin`` runs ``/admin <subcommand>``; returns the (ephemeral) reply."""
    reply = await command_reply(fake, admin, f"admin {subcommand}", options)
    assert reply.ephemeral, reply.text
    return reply


async def confirm(fake: FakeDiscord, admin: FakeUser, question: RecordedMessage) -> RecordedMessage:
    """``admin`` presses Confirm on the question; returns the message it becomes."""
    assert "Please confirm" in question.text, question.text
    assert labels(question) == ["Confirm", "Cancel"]
    click = await fake.click(admin, question, label="Confirm")
    assert (await click.response()).type == DEFERRED_UPDATE_MESSAGE
    done = await click.reply()
    assert not done.buttons(), done.text
    return done
