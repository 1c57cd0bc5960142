"""The bot's wiring, checked without Discord: cogs, commands, the pipeline marker, custom_ids.

The bot is built as ``bot.py`` builds it, against a database in a temporary folder, and never
connects. Checked here, for every cog in ``cogs.bot.COGS``:

* it loads;
* no two application commands share a qualified name (``admin resolve``);
* every slash command and subcommand passes through the pipeline (``@guarded``), except a group
  that only holds subcommands;
* every explicit custom_id of the views the bot registers or its cogs define fits Discord's 100
  characters and belongs to one component only (and, once a ComponentRouter exists, no view
  custom_id falls under one of its prefixes, which would send the click to the router).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nextcord
import pytest

from app.settings import REPO_ROOT, load_settings
from bot import build_bot
from cogs.bot import COGS, LadderBot
from cogs.pipeline import RULE_ATTRIBUTE
from cogs.views import LadderView
from ladder.config import load_ladder_config
from ladder.guards import CommandRule
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


def _view_classes() -> list[type[LadderView]]:
    """LadderView subclasses defined in the modules of the registered cogs and cogs.bot."""
    modules = {cog.__module__ for cog in COGS} | {LadderBot.__module__}
    found: list[type[LadderView]] = []
    stack = list(LadderView.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__ in modules:
            found.append(cls)
    return sorted(set(found), key=lambda c: c.__qualname__)


def _decorated_custom_ids(cls: type[nextcord.ui.View]) -> list[str]:
    ids = []
    for func in getattr(cls, "__view_children_items__", []):
        custom = func.__discord_ui_model_kwargs__.get("custom_id")
        if custom is not None:
            ids.append(custom)
    return ids


def _instance_custom_ids(view: nextcord.ui.View) -> list[str]:
    return [item.custom_id for item in view.children if getattr(item, "custom_id", None)]


def _sample_views(bot: LadderBot) -> dict[str, nextcord.ui.View]:
    """Views whose components are partly made at run time, built as the cogs build them."""
    samples: dict[str, nextcord.ui.View] = {}
    onboarding = sys.modules.get("cogs.onboarding")
    if onboarding is not None and hasattr(onboarding, "SetupView"):
        draft = onboarding.SetupDraft("Alice", "Alice#1234", (), "FR", next(iter(bot.regions)))
        samples["SetupView"] = onboarding.SetupView(1, draft, bot.regions)
    queue = sys.modules.get("cogs.queue")
    config = getattr(bot, "ladder_config", None)
    if queue is not None and hasattr(queue, "QueueView") and config is not None:
        preferences = SimpleNamespace(races=config.race_codes[:1], vetoes=())
        samples["QueueView"] = queue.QueueView(1, config, preferences)
    return samples


async def test_view_custom_ids_fit_and_are_unique(bot: LadderBot) -> None:
    per_view: dict[str, list[str]] = {}
    for view in bot.views(persistent=True):  # registered: persistent views
        per_view[f"registered {type(view).__qualname__}"] = _instance_custom_ids(view)
    for cls in _view_classes():
        per_view.setdefault(cls.__qualname__, _decorated_custom_ids(cls))
    for name, view in _sample_views(bot).items():
        per_view[name] = _instance_custom_ids(view)
    assert any(name.startswith("registered") for name in per_view), "no persistent view"

    too_long = [c for ids in per_view.values() for c in ids if len(c) > CUSTOM_ID_LIMIT]
    assert not too_long, f"custom_ids over {CUSTOM_ID_LIMIT} characters: {too_long}"
    for name, ids in per_view.items():
        repeated = [c for c, n in Counter(ids).items() if n > 1]
        assert not repeated, f"{name} uses a custom_id twice: {repeated}"

    # Across views: a custom_id names one component (the registered copy of a view aside).
    owners: dict[str, set[str]] = {}
    for name, ids in per_view.items():
        for custom in ids:
            owners.setdefault(custom, set()).add(name.removeprefix("registered "))
    shared = {c: sorted(names) for c, names in owners.items() if len(names) > 1}
    assert not shared, f"custom_ids used by several views: {shared}"

    router = getattr(bot, "router", None)
    # The router's table of prefixes (named `_routes` once routes carry their access rule).
    prefixes = set(getattr(router, "_routes", None) or getattr(router, "_handlers", {}) or {})
    assert {"match", "disputes"} <= prefixes, prefixes
    claimed = sorted(c for c in owners if c.split(ROUTER_SEPARATOR, 1)[0] in prefixes)
    assert not claimed, f"view custom_ids the ComponentRouter would take: {claimed}"
