"""The bot's wiring, checked without Discord: cogs, commands, the pipeline marker, custom_ids.

The bot is built as ``bot.py`` builds it, against a database in a temporary folder, and never
connects. Checked here, for every cog in ``cogs.bot.COGS``:

* it loads;
* no two application commands share a qualified name (``admin resolve``);
* every slash command and subcommand passes through the pipeline (``@guarded``), except a group
  that only holds subcommands;
* the bot keeps no nextcord views (none registered, no View or Modal subclass in the cogs);
* every custom_id of the components its cogs send, drawn with the largest ids they can carry,
  fits Discord's 100 characters, names one component of its message, and goes to a route the
  ComponentRouter has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nextcord
import pytest

from app.settings import REPO_ROOT, load_settings
from bot import build_bot
from cogs.admin import confirm_buttons
from cogs.admin_ui import page_buttons
from cogs.bot import COGS, LadderBot
from cogs.embeds import help_entries
from cogs.leaderboard import BoardState
from cogs.match_ui import leave_queue_button
from cogs.onboarding import setup_modal, setup_preview, terms_buttons
from cogs.pipeline import RULE_ATTRIBUTE
from cogs.queue_menu import QueueMenu, menu_view
from ladder.config import load_ladder_config
from ladder.guards import CommandRule
from ladder.players import SetupDraft
from storage.command_log import CommandLogWriter
from storage.database import Database

CUSTOM_ID_LIMIT = 100
ROUTER_SEPARATOR = ":"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[LadderBot]:
    """A LadderBot with all its cogs, on a tmp database; not connected to anything."""
    db = await Database.open(tmp_path / "ladder.db")
    writer = CommandLogWriter(db)
    writer.start()
    config = load_ladder_config(REPO_ROOT / "data" / "ladder.toml")
    settings = load_settings({"DISCORD_TOKEN": "test-token", "ADMIN_IDS": "1"}, dotenv=None)
    built = await build_bot(settings, config, "Play fair.", db, writer)
    try:
        yield built
    finally:
        await built.close()
        await writer.close()
        await db.close()


def _all_commands(bot: LadderBot) -> list[nextcord.BaseApplicationCommand]:
    found = {id(c): c for c in bot.get_all_application_commands()}
    for cog in bot.cogs.values():
        found.update({id(c): c for c in cog.application_commands})
    return list(found.values())


def _walk(command: Any) -> Iterator[Any]:
    """The command and its subcommands and groups, depth first."""
    yield command
    for child in (getattr(command, "children", None) or {}).values():
        yield from _walk(child)


def _kind(command: Any) -> Any:
    top = command
    while getattr(top, "parent_cmd", None) is not None:
        top = top.parent_cmd
    return getattr(top, "type", None)


async def test_every_cog_loads(bot: LadderBot) -> None:
    assert COGS, "cogs.bot.COGS is empty"
    assert {type(cog) for cog in bot.cogs.values()} == set(COGS)
    assert len(bot.cogs) == len(COGS)
    assert _all_commands(bot), "no application command was registered"


async def test_no_two_commands_share_a_qualified_name(bot: LadderBot) -> None:
    names = Counter(
        (_kind(command), command.qualified_name)
        for top in _all_commands(bot)
        for command in _walk(top)
    )
    shared = [name for (_, name), count in names.items() if count > 1]
    assert not shared, f"commands registered twice: {shared}"


async def test_every_command_runs_through_the_pipeline(bot: LadderBot) -> None:
    checked, unguarded = [], []
    for top in _all_commands(bot):
        for command in _walk(top):
            if getattr(command, "children", None):
                continue  # a group: Discord never calls it, its subcommands are checked
            rule = getattr(command.callback, RULE_ATTRIBUTE, None)
            checked.append(command.qualified_name)
            if not isinstance(rule, CommandRule):
                unguarded.append(command.qualified_name)
    assert checked
    assert not unguarded, f"commands that skip the pipeline (no @guarded): {unguarded}"


def _sent_components(bot: LadderBot) -> dict[str, list[dict[str, Any]]]:
    """Every kind of message with components the cogs send, as Discord receives them."""
    big = (1 << 64) - 1  # the largest Discord id, and of SQLite rowids, far above any real one
    config = bot.ladder_config
    draft = SetupDraft("Alice", "Alice#1234", ("Al", "Ally"), "FR", next(iter(bot.regions)))
    full_menu = QueueMenu(big, config.race_codes, config.map_pool[: config.max_vetoes])
    sent = {
        "terms": terms_buttons(),
        "setup preview": setup_preview(big, big, draft, bot.regions, 0)[1],
        "setup preview, no page": setup_preview(big, big, SetupDraft(), bot.regions)[1],
        "queue menu": menu_view(full_menu, config),
        "admin question": confirm_buttons(big),
        "leave queue": leave_queue_button(),
        "disputes pages": page_buttons(999_999, 999_999),
        "leaderboard": bot.get_cog("LeaderboardCog")
        .renderer.render(BoardState(big), datetime.now(UTC))
        .view,
    }
    components = {name: view.to_components() for name, view in sent.items() if view}
    components["setup modal"] = [setup_modal(big, big, draft).to_dict()]
    return components


def _custom_ids(components: list[dict[str, Any]]) -> list[str]:
    """The custom_ids of components, rows and modals included, text inputs left out."""
    found = []
    for component in components:
        if component.get("type") != 4 and "custom_id" in component:  # 4: a modal's text input
            found.append(component["custom_id"])
        found += _custom_ids(component.get("components", []))
    return found


async def test_no_nextcord_view_or_modal_is_kept(bot: LadderBot) -> None:
    assert not bot.views(persistent=True) and not bot.views(persistent=False)
    kept = [
        f"{cls.__module__}.{cls.__qualname__}"
        for base in (nextcord.ui.View, nextcord.ui.Modal)
        for cls in base.__subclasses__()
        if cls.__module__.startswith("cogs.")
    ]
    assert kept == ["cogs.matches.EvidenceModal"], kept  # shown only: its submit is routed


async def test_sent_custom_ids_fit_and_are_routed(bot: LadderBot) -> None:
    prefixes = bot.router.prefixes
    assert {"match", "disputes", "queue", "queue_view", "lb", "tos", "setup", "admin"} <= prefixes
    for name, components in _sent_components(bot).items():
        ids = _custom_ids(components)
        assert ids, name
        too_long = [c for c in ids if len(c) > CUSTOM_ID_LIMIT]
        assert not too_long, f"{name}: custom_ids over {CUSTOM_ID_LIMIT} characters: {too_long}"
        repeated = [c for c, n in Counter(ids).items() if n > 1]
        assert not repeated, f"{name} uses a custom_id twice: {repeated}"
        unrouted = [c for c in ids if c.split(ROUTER_SEPARATOR, 1)[0] not in prefixes]
        assert not unrouted, f"{name}: custom_ids no route answers: {unrouted}"


async def test_help_is_built_from_the_registered_commands(bot: LadderBot) -> None:
    """/help lists every player command from its handler and guard: a new command is one file."""
    entries = help_entries(bot.get_all_application_commands())
    names = [name for name, _ in entries]
    player_commands = {
        f"/{c.name}"
        for c in _all_commands(bot)
        if isinstance(c, nextcord.SlashApplicationCommand)
        and getattr(c.callback, RULE_ATTRIBUTE, None) is not None
        and getattr(c.callback, RULE_ATTRIBUTE).access.name != "ADMIN"
    }
    assert set(names) == player_commands and len(names) == len(player_commands)
    assert "/admin" not in names
    assert names[0] == "/termsofservice" and names[-1] == "/help"
    text = dict(entries)
    assert "Start here" in text["/termsofservice"]
    assert text["/queue"].endswith("Needs /setup.")
    assert text["/profile"].endswith("Needs the terms.")
    assert all(t.strip() for t in text.values())
