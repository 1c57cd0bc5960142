"""The slash commands as Discord receives them, in every language: each name, description,
option and choice localised, every name valid, and no two siblings with one name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cogs.bot import LadderBot
from cogs.localize import all_commands, choice_labels, options_of, valid_name, walk
from i18n import DISCORD_LOCALES, NATIVE_NAMES
from tests.support.offline_bot import offline_bot

ROOT = Path(__file__).resolve().parents[2]
CODES = [code for codes in DISCORD_LOCALES.values() for code in codes]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[LadderBot]:
    async with offline_bot(tmp_path) as built:
        yield built


def named(item: Any) -> list[Any]:
    """What Discord shows by name at one level under `item`: its options or subcommands."""
    return options_of(item) + list((getattr(item, "children", None) or {}).values())


async def test_every_command_text_is_localised_in_every_language(bot: LadderBot) -> None:
    missing = []
    for command in walk(all_commands(bot)):
        for item in [command, *options_of(command)]:
            names = item.name_localizations or {}
            texts = item.description_localizations or {}
            for code in CODES:
                if code not in names:
                    missing.append((item.name, "name", code))
                if item.description and code not in texts:
                    missing.append((item.name, "description", code))
            for label in choice_labels(item):
                if label in NATIVE_NAMES.values():
                    continue  # /language offers each language by its own name
                localised = (item.choice_localizations or {}).get(label, {})
                missing.extend((label, "choice", c) for c in CODES if c not in localised)
    assert missing == []


async def test_localised_names_are_valid_and_siblings_differ(bot: LadderBot) -> None:
    levels: list[list[Any]] = [list(all_commands(bot))]
    levels += [named(c) for c in walk(all_commands(bot)) if named(c)]
    for level in levels:
        for code in CODES:
            shown = [(item.name_localizations or {}).get(code, item.name) for item in level]
            assert all(valid_name(name) for name in shown), (code, shown)
            assert len(set(shown)) == len(shown), (code, sorted(shown))


async def test_the_payload_discord_gets_carries_them(bot: LadderBot) -> None:
    queue = next(c for c in all_commands(bot) if c.name == "queue")
    payload = queue.get_payload(None)
    assert set(payload["name_localizations"]) == set(CODES)
    assert set(payload["description_localizations"]) == set(CODES)
