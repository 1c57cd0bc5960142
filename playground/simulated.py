"""Simulated players: they accept the terms, set up a profile, queue, confirm and report on
their own, so a host sees matchmaking, the leaderboard and the web pages fill up.

Each one is a task acting through the local Discord's driver, exactly as a person on the page
does (slash commands, buttons, selects, the /setup modal). Choices come from a seeded
``random.Random``: the same seed gives the same players, races and results. When two simulated
players meet, the first to report draws the result for both, so they agree; against a person
they report what they drew, and a disagreement becomes a dispute for the admin.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
from typing import TYPE_CHECKING

from localdiscord import FakeDiscord, FakeUser, RecordedMessage
from localdiscord.protocol import MODAL
from localdiscord.rules import modal_inputs

if TYPE_CHECKING:
    from .runner import Playground

log = logging.getLogger(__name__)

NAMES = ("ada", "bao", "cyd", "dex", "eli", "fay", "gus", "hal", "ivy", "jun", "kai", "lev",
         "mia", "ned", "oto", "pia", "quin", "rex", "sol", "tam", "uma", "vic", "wes", "xan",
         "yui", "zed")
MATCH = re.compile(r"Match #(\d+)")
WAIT = 10.0  # for an answer of the bot
MATCH_WAIT = 600.0  # for a match to be found: as long as the queue needs
REPORT_WAIT = 120.0
REPORT_LABELS = {"win": "I won", "loss": "I lost", "draw": "Draw"}


class SimulatedPlayers:
    """Adds and runs simulated players on the playground's current run."""

    def __init__(self, playground: Playground, *, seed: int = 1) -> None:
        self.playground = playground
        self.seed = seed
        self.rng = random.Random(seed)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._results: dict[int, tuple[str, str]] = {}  # match id -> (reporter, its report)
        self._count = 0

    def names(self) -> set[str]:
        return set(self._tasks)

    def add(self, count: int) -> list[str]:
        """Add ``count`` players who start playing at once; returns their names."""
        added = []
        for _ in range(count):
            name = self._next_name()
            self.playground.add_player(name)
            player = SimulatedPlayer(self, name, random.Random(f"{self.seed}:{name}"))
            task = asyncio.create_task(player.run(), name=f"simulated {name}")
            task.add_done_callback(self._ended)
            self._tasks[name] = task
            added.append(name)
        return added

    def _next_name(self) -> str:
        while True:
            base = NAMES[self._count % len(NAMES)]
            lap = self._count // len(NAMES)
            self._count += 1
            name = f"sim_{base}" + (str(lap + 1) if lap else "")
            if name not in self.playground.players:
                return name

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("A simulated player stopped", exc_info=task.exception())

    def report_for(self, match_id: int, me: str, rng: random.Random) -> str:
        """What ``me`` reports on ``match_id``: the first of two simulated players draws."""
        drawn = self._results.get(match_id)
        if drawn is None or drawn[0] == me:
            report = rng.choices(("win", "loss", "draw"), weights=(45, 45, 10))[0]
            self._results[match_id] = (me, report)
            return report
        return {"win": "loss", "loss": "win", "draw": "draw"}[drawn[1]]

    async def stop(self) -> None:
        """Stop every simulated player (before a reset, or at exit)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._results.clear()


class SimulatedPlayer:
    """One simulated player's life: set up once, then queue, confirm, report, again."""

    def __init__(self, group: SimulatedPlayers, name: str, rng: random.Random) -> None:
        self.group = group
        self.name = name
        self.rng = rng
        fake = group.playground.fake
        assert fake is not None
        self.fake: FakeDiscord = fake
        self.user: FakeUser = group.playground.user(name)
        self._seen = 0  # messages of the local Discord already looked at for a match DM

    async def pause(self, low: float = 0.3, high: float = 1.5) -> None:
        """A person's pause between two clicks (so a host can watch it happen)."""
        await asyncio.sleep(self.rng.uniform(low, high))

    async def run(self) -> None:
        while True:
            try:
                await self.set_up()
                break
            except (AssertionError, LookupError, TimeoutError) as exc:  # e.g. a cooldown
                log.info("%s: setting up: %s; trying again", self.name,
                         str(exc).splitlines()[0])
                await asyncio.sleep(self.rng.uniform(10, 15))
        while True:
            try:
                await self.play_one()
            except (AssertionError, LookupError, TimeoutError) as exc:
                log.info("%s: %s; queueing again", self.name, str(exc).splitlines()[0])
                await asyncio.sleep(self.rng.uniform(2, 5))

    async def command(self, name: str) -> RecordedMessage:
        inter = await self.fake.slash(self.user, name)
        return await inter.reply(within=WAIT)

    async def press(self, message: RecordedMessage, label: str) -> None:
        click = await self.fake.click(self.user, message, label=label)
        await click.response(within=WAIT)

    async def pick(self, message: RecordedMessage, prefix: str, value: str | None = None) -> str:
        menu = next((c for c in message.selects()
                     if c["custom_id"] == prefix or c["custom_id"].startswith(prefix + ":")), None)
        if menu is None:
            raise LookupError(f"no menu {prefix!r} on: {message.text[:80]!r}")
        offered = [o["value"] for o in menu.get("options", [])]
        choice = value if value is not None else self.rng.choice(offered)
        inter = await self.fake.select(self.user, message, [choice], custom_id=menu["custom_id"])
        await inter.reply(within=WAIT)
        return choice

    async def set_up(self) -> None:
        terms = await self.command("termsofservice")
        await self.pause()
        await self.press(terms, "Accept")
        await self.pause()
        opened = await self.fake.slash(self.user, "setup")
        modal = await opened.response(within=WAIT)
        assert modal.type == MODAL, f"/setup answered with type {modal.type}"
        shown = self.name.removeprefix("sim_").capitalize()
        values = {}
        for spec in modal_inputs(modal.modal):
            custom_id = spec["custom_id"]
            if custom_id.endswith("player_name"):
                values[custom_id] = f"Sim{shown}"
            elif custom_id.endswith("battletag"):
                values[custom_id] = f"Sim{shown}#{self.rng.randint(1000, 9999)}"
        await self.pause(1.0, 2.5)  # typing
        preview = await (await self.fake.submit_modal(self.user, opened, values)).reply(
            within=WAIT)
        await self.pick(preview, "setup:country_page")
        await self.pick(preview, "setup:country")
        await self.pick(preview, "setup:region")
        await self.pause()
        await self.press(preview, "Confirm")

    async def play_one(self) -> None:
        offer = await self.command("queue")
        if not offer.selects():  # refused (e.g. still in a match): try again later
            raise LookupError(offer.text.splitlines()[0] if offer.text else "queue refused")
        await self.pause()
        await self.pick(offer, "queue_view:races")
        await self.pause()
        await self.press(offer, "Join")
        match_dm = await self.fake.wait_until(self._match_dm, MATCH_WAIT, f"{self.name}'s match")
        match_id = int(MATCH.search(match_dm.text).group(1))  # type: ignore[union-attr]
        await self.pause(1.0, 3.0)
        await self.press(match_dm, "Confirm")
        await self.fake.wait_until(
            lambda: self._labelled(match_dm, "I won") or "cancelled" in match_dm.text.lower(),
            REPORT_WAIT, f"{self.name}'s match to start")
        if not self._labelled(match_dm, "I won"):
            return  # cancelled (the opponent did not confirm): queue again
        await self.pause(2.0, 6.0)  # the game itself
        report = self.group.report_for(match_id, self.name, self.rng)
        await self.press(match_dm, REPORT_LABELS[report])
        await self.fake.wait_until(lambda: not self._enabled_buttons(match_dm), REPORT_WAIT,
                                   f"{self.name}'s match to end")
        await self.pause(2.0, 5.0)

    def _match_dm(self) -> RecordedMessage | None:
        """A match DM still asking this player to confirm, among the messages made since the
        last look (each look skips the old ones: many players wait at once, on every event)."""
        channel = self.fake.dm_channel(self.user)
        messages = self.fake.messages
        new = list(itertools.islice(messages.values(), self._seen, None))
        for index, message in enumerate(new):
            if message.channel is channel and message.kind == "channel" \
                    and MATCH.search(message.text) and self._labelled(message, "Confirm"):
                self._seen += index + 1
                return message
        self._seen += len(new)
        return None

    @staticmethod
    def _labelled(message: RecordedMessage, label: str) -> bool:
        return any(b.get("label") == label and not b.get("disabled") for b in message.buttons())

    @staticmethod
    def _enabled_buttons(message: RecordedMessage) -> list[dict]:
        return [b for b in message.buttons()
                if not b.get("disabled") and not str(b.get("label", "")).startswith("Add")]
