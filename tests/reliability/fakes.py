"""What the reliability tests push through the real CommandPipeline without Discord.

`Interaction` has just the attributes `CommandPipeline.run` and `cogs.responses` read; its
`response` records every message sent, so a test can tell "answered once", "never answered" and
"answered twice" apart. `command(...)` returns a handler shaped like the cogs' handlers (a read,
a player write in its own transaction, a refusal, a bug), and `STACK` builds the bot's objects
exactly as `bot.serve()` does, for in-process tests.
"""

from __future__ import annotations

import dataclasses
import random
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cache.players import PlayerCache
from cogs.pipeline import CommandPipeline
from cogs.responses import APOLOGY
from ladder.errors import ConflictError, StorageBusyError
from ladder.guards import Access, CommandRule
from storage.command_log import CommandLogWriter
from storage.database import Database
from storage.players import PlayerRepository

DISCORD_EPOCH_MS = 1_420_070_400_000
RECORD = struct.Struct("<qB")  # records.bin: interaction id, accepted by the writer (1/0)
COUNTRIES = ("FR", "DE", "SE", "NO", "IT", "ES", "US", "BR", "JP", "KR")
BUSY_TEXT = StorageBusyError().user_message

RULES = {
    "help": CommandRule(Access.ANYONE, dm_only=False),
    "profile": CommandRule(Access.TERMS),
    "termsofservice": CommandRule(Access.ANYONE),
    "accept": CommandRule(Access.ANYONE),  # /termsofservice + Accept, for setting players up
    "setcountry": CommandRule(Access.TERMS),
    "queue": CommandRule(Access.ANYONE),
    "boom": CommandRule(Access.ANYONE),
}
WRITES = frozenset({"termsofservice", "accept", "setcountry"})
# The flood's mix, in ‰: mostly reads, a fifth player writes, some refusals and rarely a bug.
MIX = (("help", 600), ("profile", 150), ("termsofservice", 100), ("setcountry", 100),
       ("queue", 50))  # fmt: skip


def read_records(path: Path) -> list[tuple[int, bool]]:
    """(interaction id, accepted) for every record() call in a records.bin file, in order."""
    data = path.read_bytes() if path.exists() else b""
    usable = len(data) - len(data) % RECORD.size  # a write cut short by SIGKILL is ignored
    return [(i, bool(a)) for i, a in RECORD.iter_unpack(data[:usable])]


class Snowflakes:
    """Interaction ids as Discord makes them: the time in ms since 2015, then a counter."""

    def __init__(self) -> None:
        self.seq = 0

    def next(self) -> int:
        self.seq += 1
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (self.seq & 0x3FFFFF)


class Answer:
    """nextcord's InteractionResponse and followup Webhook, as far as the pipeline uses them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def is_done(self) -> bool:
        return bool(self.messages)

    async def send_message(self, **message: Any) -> None:
        if self.messages:
            raise RuntimeError("interaction answered twice")
        self.messages.append(message)

    async def send(self, **message: Any) -> None:  # followup.send
        self.messages.append(message)

    def text(self) -> str:
        """Everything the player read: contents and embed titles and descriptions."""
        parts = []
        for message in self.messages:
            parts.append(str(message.get("content") or ""))
            embed = message.get("embed")
            if embed is not None:
                parts.append(f"{embed.title or ''}\n{embed.description or ''}")
        return "\n".join(parts)


@dataclasses.dataclass(frozen=True)
class User:
    id: int
    name: str


class Interaction:
    """Just enough of nextcord.Interaction for CommandPipeline.run and cogs.responses."""

    application_command = None

    def __init__(
        self, interaction_id: int, user: User, command: str, guild_id: int | None = None
    ) -> None:
        self.id = interaction_id
        self.user = user
        self.data = {"name": command}
        self.guild_id = guild_id
        self.response = Answer()
        self.followup = self.response


def handler(
    players: PlayerRepository,
    interaction: Interaction,
    command: str,
    rng: random.Random,
    on_handle: Callable[[], None] | None = None,
) -> Callable[[], Awaitable[None]]:
    """The handler the pipeline runs for `command`, answering as a cog does."""
    uid, name = interaction.user.id, interaction.user.name
    answer = interaction.response.send_message
    country = rng.choice(COUNTRIES)
    accept = rng.randrange(10) > 0

    async def handle() -> None:
        if on_handle is not None:
            on_handle()
        if command == "help":
            await answer(content="help")
        elif command == "profile":
            player = await players.require(uid)
            await answer(content=f"profile of {player.display_name}")
        elif command in ("termsofservice", "accept"):
            await players.record_terms(uid, name, accept or command == "accept")
            await answer(content="terms saved")
        elif command == "setcountry":
            await players.set_country(uid, country)
            await answer(content="country saved")
        elif command == "queue":
            raise ConflictError("Finish /setup first.")
        else:
            raise RuntimeError("a bug in a handler")

    return handle


def pick(rng: random.Random) -> str:
    """A command of the flood's MIX (1 in 2000 is `boom`, a bug)."""
    if rng.randrange(2000) == 0:
        return "boom"
    roll = rng.randrange(1000)
    for command, share in MIX:
        if roll < share:
            return command
        roll -= share
    raise AssertionError("MIX must add up to 1000")


def was_apology(interaction: Interaction) -> bool:
    return APOLOGY in interaction.response.text()


@dataclasses.dataclass
class Stack:
    """The objects bot.serve() builds, built the same way, for in-process tests."""

    db: Database
    writer: CommandLogWriter
    players: PlayerRepository
    pipeline: CommandPipeline
    ids: Snowflakes = dataclasses.field(default_factory=Snowflakes)
    rng: random.Random = dataclasses.field(default_factory=lambda: random.Random(7))

    @classmethod
    async def open(cls, path: Path, **writer_options: Any) -> Stack:
        db = await Database.open(path)
        writer = CommandLogWriter(db, **writer_options)
        writer.start()
        players = PlayerRepository(db, PlayerCache())
        pipeline = CommandPipeline(players, writer, admin_ids=frozenset(), dm_only=True)
        return cls(db, writer, players, pipeline)

    async def close(self) -> int:
        lost = await self.writer.close()
        await self.db.close()
        return lost

    async def run(self, user: User, command: str, guild_id: int | None = None) -> Sent:
        """One command through CommandPipeline.run, timed from arrival to return."""
        interaction = Interaction(self.ids.next(), user, command, guild_id)
        started = time.perf_counter()
        await self.pipeline.run(
            interaction,  # type: ignore[arg-type]  # a stand-in with what the pipeline reads
            RULES[command],
            handler(self.players, interaction, command, self.rng),
        )
        return Sent(interaction, command, time.perf_counter() - started)


@dataclasses.dataclass
class Sent:
    interaction: Interaction
    command: str
    seconds: float

    @property
    def answers(self) -> int:
        return len(self.interaction.response.messages)

    @property
    def text(self) -> str:
        return self.interaction.response.text()
