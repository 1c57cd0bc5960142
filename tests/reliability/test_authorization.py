"""The authorisation matrix, on the real bot: every attempt is refused and nothing changes.

What tests/e2e already covers is left out (a non-admin and every /admin subcommand in a DM,
/admin by a guild Administrator for one subcommand, Confirm/Abort/report on someone else's match,
an admin's Confirm pressed by someone else, banned players' slash commands and terms buttons,
DM-only for /profile, /termsofservice and /setup). Added here, as one matrix on one bot:

* someone else's view: the /setup preview (its Confirm and its selects), the /queue menu (Join and
  the race select), someone else's "leave the queue" button;
* someone else's disputed match: Add evidence, and a forged evidence submit;
* a player banned in the middle of things: his in-progress match's report and abort buttons,
  his queue message's leave button, the /setup preview he had open;
* DM-only for /setcountry and /queue;
* every /admin subcommand from a guild channel, by the guild's Administrator who is not in
  ADMIN_IDS (the list is read from the cog, so a new subcommand is covered automatically).

Each case compares every state table before and after, and the refusal must be an ephemeral
message naming the reason; no apology, no ERROR in the bot's log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from cogs.admin import AdminCog
from ladder.guards import REFUSALS
from localdiscord import FakeDiscord, FakeGuild, FakeUser, RecordedMessage, SentInteraction
from localdiscord.protocol import MODAL
from tests.e2e.flows import (
    ask,
    confirm,
    custom_id_of,
    finish_setup,
    join_queue,
    ladder_data_dir,
    open_queue,
    press,
    submit_setup,
)
from tests.e2e.harness import BotProcess
from tests.e2e.state import db_rows
from tests.reliability.e2e_helpers import (
    assert_clean,
    forged_component,
    forged_modal,
    mark,
    pair,
    plain_options,
    start,
    state,
    wait_status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

SOMEONE_ELSE = "someone else"
NOT_A_PLAYER = "not a player in this match"
BANNED = REFUSALS["banned"]
DM_ONLY = REFUSALS["dm_only"]
ADMIN_ONLY = REFUSALS["admin"]


def subcommand_paths(children: Mapping[str, Any]) -> list[str]:
    """"ban", "season start", ...: every subcommand that runs, below a command's groups."""
    paths = []
    for name, child in children.items():
        inner = getattr(child, "children", None)
        paths += [f"{name} {path}" for path in subcommand_paths(inner)] if inner else [name]
    return sorted(paths)


ADMIN_SUBCOMMANDS = subcommand_paths(AdminCog.admin.children)


@dataclass
class World:
    fake: FakeDiscord
    bot: BotProcess
    guild: FakeGuild
    users: dict[str, FakeUser] = field(default_factory=dict)
    messages: dict[str, RecordedMessage] = field(default_factory=dict)
    matches: dict[str, int] = field(default_factory=dict)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_fake: FakeDiscord, module_bot_process, tmp_path_factory) -> World:
    fake = module_fake
    names = ["root", "grace", "mallory", "ivy", "alice", "bob", "erin", "finn", "gus", "hal",
             "carol"]  # fmt: skip
    users = {name: fake.user(name) for name in names}
    guild = fake.guild("Ladder Server", members=list(users.values()), admins=[users["grace"]])
    data = ladder_data_dir(tmp_path_factory.mktemp("authorization"))
    bot = module_bot_process(admins=[users["root"]], env={"DATA_DIR": str(data)})
    await bot.start()
    w = World(fake, bot, guild, users)
    for name in names[2:]:
        await onboard_as(fake, users[name], name.capitalize())
    u = users

    # Ivy has a /setup preview and a /queue menu open (not joined).
    w.messages["ivy preview"] = await (await submit_setup(fake, u["ivy"], "Ivy2", "Ivy#2222")
                                       ).reply()  # fmt: skip
    w.messages["ivy queue menu"] = await open_queue(fake, u["ivy"])
    # Alice and Bob: matched, not confirmed. Erin and Finn: a dispute.
    w.matches["alice"], _, _ = await pair(fake, bot, u["alice"], u["bob"])
    w.matches["erin"], dm_e, dm_f = await start(fake, bot, u["erin"], u["finn"])
    await press(fake, u["erin"], dm_e, "I won")
    await press(fake, u["finn"], dm_f, "I won")
    await wait_status(fake, bot, w.matches["erin"], "disputed")
    w.messages["erin dm"] = dm_e
    # Gus: queued (his queue message keeps its leave button), matched with Hal, playing, a
    # /setup preview open; then banned.
    w.messages["gus queued"] = await join_queue(fake, u["gus"], ("bw_terran",))
    w.matches["gus"], dm_g, _ = await start(fake, bot, u["gus"], u["hal"], queued=True)
    w.messages["gus dm"] = dm_g
    w.messages["gus preview"] = await (await submit_setup(fake, u["gus"], "Gus2", "Gus#2222")
                                       ).reply()  # fmt: skip
    await confirm(fake, u["root"], await ask(fake, u["root"], "ban",
                                             {"player": u["gus"], "reason": "test"}))  # fmt: skip
    # Carol waits in the queue alone.
    w.messages["carol queued"] = await join_queue(fake, u["carol"], ("bw_protoss",))
    await assert_clean(fake, bot)
    return w


async def onboard_as(fake: FakeDiscord, user: FakeUser, name: str) -> None:
    await finish_setup(fake, user, name, f"{name}#1234")


# --- the cases: each makes one attempt and says what the refusal must say ------------------

Case = Callable[[World], Awaitable[tuple[SentInteraction, str]]]


def _id(message: RecordedMessage, name: str) -> str:
    return custom_id_of(message, name)


async def preview_confirm_by_another(w: World):
    preview = w.messages["ivy preview"]
    return await forged_component(w.fake, w.users["mallory"], preview,
                                  _id(preview, "setup:confirm")), SOMEONE_ELSE  # fmt: skip


async def preview_select_by_another(w: World):
    preview = w.messages["ivy preview"]
    return await forged_component(
        w.fake, w.users["mallory"], preview, _id(preview, "setup:country_page"),
        component_type=3, values=["0"],
    ), SOMEONE_ELSE  # fmt: skip


async def queue_join_by_another(w: World):
    menu = w.messages["ivy queue menu"]
    return await forged_component(w.fake, w.users["mallory"], menu,
                                  _id(menu, "queue_view:join")), SOMEONE_ELSE  # fmt: skip


async def queue_races_by_another(w: World):
    menu = w.messages["ivy queue menu"]
    return await forged_component(
        w.fake, w.users["mallory"], menu, _id(menu, "queue_view:races"), component_type=3,
        values=["bw_zerg"],
    ), SOMEONE_ELSE  # fmt: skip


async def leave_button_of_another(w: World):
    # The routed button acts on whoever clicks it: Mallory is not queued, Carol stays queued.
    # (It answers by updating the clicked message, so this reply is not ephemeral.)
    queued = w.messages["carol queued"]
    return await forged_component(w.fake, w.users["mallory"], queued, "queue:leave"), (
        "not in the queue")  # fmt: skip


PUBLIC_REPLIES = {"someone else's leave-queue button"}


async def evidence_on_another_match(w: World):
    dm = w.messages["erin dm"]
    click = await forged_component(w.fake, w.users["mallory"], dm,
                                   f"match:{w.matches['erin']}:evidence")  # fmt: skip
    if (await click.response()).type == MODAL:  # shown the form: submitting must be refused
        values = {"evidence:note": "mine", "evidence:url": ""}
        click = await w.fake.submit_modal(w.users["mallory"], click, values)
    return click, NOT_A_PLAYER


async def forged_evidence_on_another_match(w: World):
    return await forged_modal(
        w.fake, w.users["mallory"], f"match:{w.matches['erin']}:evidence_submit",
        {"evidence:note": "I saw it", "evidence:url": "https://example.com/x"},
    ), NOT_A_PLAYER  # fmt: skip


def banned_click(custom: Callable[[World], str], message: str) -> Case:
    async def attempt(w: World):
        return await forged_component(w.fake, w.users["gus"], w.messages[message],
                                      custom(w)), BANNED  # fmt: skip

    return attempt


def dm_only(command: str) -> Case:
    async def attempt(w: World):
        options = {"country": "FR"} if command == "setcountry" else None
        # forged: registered DM-only, Discord would not offer it in a guild; the guard refuses it.
        inter = await w.fake.slash(w.users["mallory"], command, options, guild=w.guild, forged=True)
        return inter, DM_ONLY

    return attempt


def guild_admin(subcommand: str) -> Case:
    async def attempt(w: World):
        options = plain_options(w.fake, f"admin {subcommand}", w.users["alice"])
        return await w.fake.slash(w.users["grace"], f"admin {subcommand}", options,
                                  guild=w.guild), ADMIN_ONLY  # fmt: skip

    return attempt


CASES: dict[str, Case] = {
    "setup preview Confirm by another": preview_confirm_by_another,
    "setup preview select by another": preview_select_by_another,
    "queue menu Join by another": queue_join_by_another,
    "queue menu races by another": queue_races_by_another,
    "someone else's leave-queue button": leave_button_of_another,
    "Add evidence on another's match": evidence_on_another_match,
    "forged evidence on another's match": forged_evidence_on_another_match,
    "banned: report on own match": banned_click(
        lambda w: f"match:{w.matches['gus']}:report:win", "gus dm"),
    "banned: abort own match": banned_click(lambda w: f"match:{w.matches['gus']}:abort", "gus dm"),
    "banned: leave-queue button": banned_click(lambda w: "queue:leave", "gus queued"),
    "banned: open setup preview Confirm": banned_click(
        lambda w: _id(w.messages["gus preview"], "setup:confirm"), "gus preview"),
    "DM-only: /setcountry in a guild": dm_only("setcountry"),
    "DM-only: /queue in a guild": dm_only("queue"),
    **{f"guild Administrator, not admin: /admin {s}": guild_admin(s) for s in ADMIN_SUBCOMMANDS},
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
async def test_refused_and_nothing_changes(world: World, case: str) -> None:
    since = await mark(world.fake, world.bot)
    before = state(world.bot)
    attempt, expected = await CASES[case](world)
    reply = await attempt.reply()
    assert reply.ephemeral or case in PUBLIC_REPLIES, (case, reply.text)
    assert expected in reply.text, (case, reply.text)
    assert not reply.buttons() and not reply.selects(), (case, reply.text)
    await assert_clean(world.fake, world.bot, since)
    assert state(world.bot) == before, f"{case} changed the database"


async def test_the_world_is_as_set_up(world: World) -> None:
    """The matrix's preconditions still hold at its end (a refusal changed nothing)."""
    queued = [r["discord_uid"] for r in db_rows(world.bot, "SELECT * FROM queue_entries")]
    assert queued == [world.users["carol"].id]
    gus = db_rows(world.bot, "SELECT banned FROM players WHERE discord_uid = ?",
                  (world.users["gus"].id,))  # fmt: skip
    assert gus == [{"banned": 1}]
    statuses: dict[str, Any] = {
        k: db_rows(world.bot, "SELECT status FROM matches WHERE id = ?", (v,))[0]["status"]
        for k, v in world.matches.items()
    }
    assert statuses == {"alice": "awaiting_confirmation", "erin": "disputed",
                        "gus": "in_progress"}  # fmt: skip
