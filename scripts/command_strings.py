"""Add the slash commands' own texts to the translation template (i18n/ladderbot.pot).

The commands' names, descriptions, options and choices are arguments to nextcord's decorators,
which Babel's extractor does not see as messages. This builds the bot (on a throwaway database,
connected to nothing), walks its commands as cogs/localize.py does, and adds each text to the
template: names with msgctxt "command", choice names with msgctxt "choice". Run by
`scripts/translations.sh extract`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.settings import load_settings  # noqa: E402
from bot import build_bot  # noqa: E402
from cogs.localize import all_commands, choice_labels, options_of, walk  # noqa: E402
from i18n import NATIVE_NAMES  # noqa: E402
from ladder.config import load_ladder_config  # noqa: E402
from storage.command_log import CommandLogWriter  # noqa: E402
from storage.database import Database  # noqa: E402

NAME_NOTE = (
    "Translators: a slash command or option name: lower case, no spaces, at most 32 letters, "
    "digits, - or _. Players type it after /."
)
CHOICE_NOTE = "Translators: a choice offered for a slash command option."
DESCRIPTION_NOTE = "Translators: a slash command or option description, at most 100 characters."


async def command_texts() -> list[tuple[str, str | None, str]]:
    """(text, context, translator note) for every command text, in command order."""
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "ladder.db")
        writer = CommandLogWriter(db)
        writer.start()
        config = load_ladder_config(ROOT / "data" / "ladder.toml")
        settings = load_settings({"DISCORD_TOKEN": "x", "ADMIN_IDS": "1"}, dotenv=None)
        bot = await build_bot(settings, config, "", db, writer)
        try:
            texts: list[tuple[str, str | None, str]] = []
            for command in walk(all_commands(bot)):
                texts.append((command.name, "command", NAME_NOTE))
                if getattr(command, "description", None):
                    texts.append((command.description, None, DESCRIPTION_NOTE))
                for option in options_of(command):
                    texts.append((option.name, "command", NAME_NOTE))
                    if option.description:
                        texts.append((option.description, None, DESCRIPTION_NOTE))
                    for label in choice_labels(option):
                        if label not in NATIVE_NAMES.values():
                            texts.append((label, "choice", CHOICE_NOTE))
            return texts
        finally:
            await bot.close()
            await writer.close()
            await db.close()


def main(pot: Path) -> int:
    with pot.open("rb") as f:
        catalog: Catalog = read_po(f)
    added = 0
    for text, context, note in asyncio.run(command_texts()):
        if catalog.get(text, context) is None:
            catalog.add(text, context=context, auto_comments=[note])
            added += 1
    with pot.open("wb") as f:
        write_po(f, catalog, width=0, sort_output=True, omit_header=False)
    print(f"{added} command text(s) added to {pot}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "i18n" / "ladderbot.pot"))
