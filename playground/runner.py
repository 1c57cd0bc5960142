"""``python bot.py playground``: the local Discord, the real bot and the page, in one process.

``Playground`` owns one *run*: a fresh local Discord (``localdiscord.FakeDiscord``) with the
players alice, bob and an admin, and the bot served by ``bot.serve`` — the very function
``python bot.py`` runs, so the same ``build_bot``, cogs, pipeline, command log and website —
with settings made here (never from ``.env`` or the environment): the local Discord's address
and token, its own SQLite file, the website on a free port of 127.0.0.1, and short ladder
timers. ``reset()`` stops the run, deletes that SQLite file and starts a new run.

The bot, the local Discord and the page share one event loop: a page request acts as a player
by sending the interaction Discord would send, and the bot answers it over 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import logging
import os
import secrets
import socket
import sys
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from app.logging import configure_logging
from app.settings import REPO_ROOT, Settings
from ladder.config import ConfigError, LadderConfig, load_ladder_config
from localdiscord import FakeDiscord, FakeUser

log = logging.getLogger(__name__)

DEFAULT_DATABASE = REPO_ROOT / "data" / "playground.db"
DEFAULT_PORT = 8765
HOST = "127.0.0.1"  # the playground never listens nor connects anywhere else
PLAYERS = ("alice", "bob")
ADMIN = "admin"
START_TIMEOUT = 30.0
# Short timers, so a match takes seconds: a wave every 2 s, 45 s to confirm (time enough for a
# person switching between two players), results accepted for 10 minutes.
TIMERS = {
    "wave_interval_seconds": 2.0,
    "confirmation_window_seconds": 45.0,
    "report_deadline_minutes": 10.0,
}
# The commands the bot must have registered before a run counts as started.
EXPECTED_COMMANDS = ("termsofservice", "setup", "queue", "leaderboard", "profile", "admin")
NO_RESPONSE_GRACE = 0.5  # after Discord's 3 s, an interaction left unanswered is a violation
PLAYER_ID_MS = 315_619_200_000  # 2025-01-01 in Discord's epoch: ids of the page's players


class PlaygroundError(Exception):
    """The playground cannot start; the message is one line."""


def playground_ladder(path: Path, timers: dict[str, float] | None = None) -> LadderConfig:
    """The host's ladder settings (races, maps, ratings) with the playground's short timers."""
    config = load_ladder_config(path)
    timers = {**TIMERS, **(timers or {})}
    matchmaking = dataclasses.replace(
        config.matchmaking, wave_interval_seconds=timers["wave_interval_seconds"]
    )
    matches = dataclasses.replace(
        config.matches,
        confirmation_window_seconds=timers["confirmation_window_seconds"],
        report_deadline_minutes=timers["report_deadline_minutes"],
    )
    return dataclasses.replace(config, matchmaking=matchmaking, matches=matches)


def player_id(name: str) -> int:
    """The same Discord id for a name in every run (a snowflake of 2025-01-01 plus a hash), so
    the ladder kept in the playground's database still knows alice after a restart."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest())
    return (PLAYER_ID_MS << 22) | (digest & ((1 << 22) - 1))


def free_port() -> int:
    """A port of 127.0.0.1 free right now (for the website, whose address the page links)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def delete_database(path: Path) -> None:
    """Remove the playground's SQLite file and its -wal/-shm companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


@dataclasses.dataclass(frozen=True)
class Options:
    """What ``bot.py playground`` was asked for."""

    database_path: Path = DEFAULT_DATABASE
    port: int = DEFAULT_PORT
    web_port: int | None = None  # None: a free port
    data_dir: Path = REPO_ROOT / "data"
    seed: int = 1
    open_browser: bool = True
    fresh: bool = False  # start from an empty database
    timers: dict[str, float] = dataclasses.field(default_factory=dict)


class Playground:
    """The current run (local Discord + bot) and the players of the page."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.ladder = playground_ladder(options.data_dir / "ladder.toml", options.timers)
        self.generation = 0  # counts runs: the page reloads everything when it changes
        self.fake: FakeDiscord | None = None
        self.admin: FakeUser | None = None
        self.players: dict[str, FakeUser] = {}  # name -> user, in the order they were added
        self.web_port = options.web_port or free_port()
        self.ended = asyncio.Event()  # the bot stopped by itself (a signal, a failure)
        self.status = 0
        self.on_reset: list[object] = []  # callables run (awaited) before a reset's new run
        self._stop: asyncio.Event | None = None
        self._bot_task: asyncio.Task[int] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._resetting = False
        self._lock = asyncio.Lock()

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}/"

    def settings(self, fake: FakeDiscord, admin: FakeUser) -> Settings:
        """The bot's settings for a run, made here: nothing is read from .env or the environment."""
        return Settings(
            token=fake.token,
            database_path=self.options.database_path,
            admin_ids=frozenset({admin.id}),
            dm_only=True,
            log_level="INFO",
            api_base=fake.api_base,
            data_dir=self.options.data_dir,
            web_enabled=True,
            web_host=HOST,
            web_port=self.web_port,
        )

    # ---- runs ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start a run: a new local Discord, its players, and the bot on the SQLite file."""
        import bot as ladderbot  # the entry point's serve(): imported late, it imports the world

        if self.options.fresh and self.generation == 0:
            delete_database(self.options.database_path)
        self.options.database_path.parent.mkdir(parents=True, exist_ok=True)
        fake = FakeDiscord(token=secrets.token_urlsafe(24), bot_name="LadderBot")
        await fake.start()
        admin = fake.user(ADMIN, user_id=player_id(ADMIN))
        players = {name: fake.user(name, user_id=player_id(name)) for name in PLAYERS}
        self.fake, self.admin, self.players = fake, admin, players
        self.generation += 1
        self._stop = asyncio.Event()
        ready_after = fake.ready_count
        self._bot_task = asyncio.create_task(
            ladderbot.serve(self.settings(fake, admin), self.ladder, stop=self._stop),
            name="playground-bot",
        )
        self._bot_task.add_done_callback(self._bot_ended)
        synced = asyncio.create_task(
            fake.wait_synced(names=EXPECTED_COMMANDS, after=ready_after, within=START_TIMEOUT)
        )
        await asyncio.wait({synced, self._bot_task}, return_when=asyncio.FIRST_COMPLETED)
        if not synced.done():
            synced.cancel()
            raise PlaygroundError(f"the bot stopped while starting: {self._bot_failure()}")
        try:
            synced.result()
        except TimeoutError as exc:
            raise PlaygroundError(f"the bot did not connect to the local Discord: {exc}") from exc
        self._watchdog = asyncio.create_task(self._watch_deadlines(fake), name="no-response")
        log.info("Playground run %s ready (database %s)", self.generation,
                 self.options.database_path)

    def _bot_failure(self) -> str:
        task = self._bot_task
        if task is None or not task.done() or task.cancelled():
            return "cancelled"
        error = task.exception()
        return f"{type(error).__name__}: {error}" if error else f"exit status {task.result()}"

    def _bot_ended(self, task: asyncio.Task[int]) -> None:
        if self._resetting:
            return
        if task.cancelled():
            self.status = 1
        elif task.exception() is not None:
            log.error("The bot failed", exc_info=task.exception())
            self.status = 1
        else:
            self.status = task.result()
        self.ended.set()

    async def _stop_run(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._stop is not None:
            self._stop.set()
        if self._bot_task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._bot_task
            self._bot_task = None
        if self.fake is not None:
            await self.fake.close()
        # serve() froze its start-up heap out of the collector; that run is over, so let its
        # cycles (the bot, its cogs, the old local Discord) be collected after a reset.
        gc.unfreeze()

    async def reset(self) -> None:
        """A fresh playground: stop the bot, delete its database, start a new run."""
        async with self._lock:
            self._resetting = True
            try:
                for hook in self.on_reset:
                    await hook()  # type: ignore[operator]
                await self._stop_run()
                delete_database(self.options.database_path)
                await self.start()
            finally:
                self._resetting = False

    async def close(self) -> None:
        self._resetting = True
        for hook in self.on_reset:
            await hook()  # type: ignore[operator]
        await self._stop_run()

    # ---- players ----------------------------------------------------------------------------

    def user(self, name: str) -> FakeUser:
        """A player of the page by name (the admin included)."""
        if self.admin is not None and name == self.admin.username:
            return self.admin
        try:
            return self.players[name]
        except KeyError:
            raise LookupError(f"no player {name!r}") from None

    def add_player(self, name: str) -> FakeUser:
        if self.fake is None:
            raise RuntimeError("the playground is not running")
        if name in self.players or name == ADMIN:
            raise ValueError(f"{name!r} is already a player")
        user = self.fake.user(name, user_id=player_id(name))
        self.players[name] = user
        return user

    def version(self) -> tuple[int, int, int, int, int]:
        """Changes whenever anything the page shows may have changed."""
        fake = self.fake
        if fake is None:
            return (self.generation, 0, 0, 0, 0)
        return (self.generation, len(fake.requests), len(fake.interactions),
                len(fake.violations), len(self.players))

    async def wait_change(self, since: tuple[int, ...], within: float) -> tuple[int, ...]:
        """Wait (woken by the local Discord's records) until ``version()`` differs from since."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            now = self.version()
            if now != since:
                return now
            left = deadline - loop.time()
            if left <= 0:
                return now
            fake = self.fake
            if fake is None:
                await asyncio.sleep(min(left, 0.2))
                continue
            with contextlib.suppress(TimeoutError):
                # A reset swaps the local Discord: look again at least every second.
                await fake.wait_until(lambda: self.version() != since, min(left, 1.0),
                                      "a change")

    async def _watch_deadlines(self, fake: FakeDiscord) -> None:
        """An interaction left unanswered past Discord's 3 s is a broken rule, shown on the page
        (the end-to-end tests find these with ``settle()`` at the end of a run)."""
        while True:
            await asyncio.sleep(0.5)
            limit = time.monotonic() - fake.response_deadline - NO_RESPONSE_GRACE
            for inter in list(fake.interactions.values()):
                if inter.callback is None and not inter.failed and inter.injected_at < limit:
                    fake.violation("no-response", f"{inter!r} was never answered", inter.id)


# ---- the command line ------------------------------------------------------------------------


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="bot.py playground",
        description="Try ladderbot without a Discord token: the real bot against a local "
        "Discord on 127.0.0.1, played from a page in your browser.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the page's port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any)")
    parser.add_argument("--web-port", type=int, default=None,
                        help="the ladder website's port (default: a free one)")
    parser.add_argument("--database", type=Path, default=DEFAULT_DATABASE,
                        help="the playground's SQLite file (default data/playground.db)")
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated players")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    args = parser.parse_args(list(argv))
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0..65535")
    return Options(database_path=args.database, port=args.port, web_port=args.web_port,
                   seed=args.seed, open_browser=not args.no_browser, fresh=args.fresh)


def guard_database(options: Options) -> None:
    """The playground writes its own file only: never the bot's real database."""
    real = (REPO_ROOT / "data" / "ladder.db").resolve()
    if options.database_path.resolve() == real:
        raise PlaygroundError(f"{real} is the bot's real database; the playground needs its own")


def can_open_browser() -> bool:
    """A graphical browser can show the page (not a text browser taking over the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


async def run(options: Options) -> int:
    from playground.app import PlaygroundSite  # the page imports the runner

    guard_database(options)
    playground = Playground(options)
    site = PlaygroundSite(playground, seed=options.seed)
    try:  # the page's port first: a taken one stops us before the bot starts
        await site.start(HOST, options.port)
    except OSError as exc:
        raise PlaygroundError(f"cannot listen on {HOST}:{options.port} ({exc.strerror}); "
                              "choose another with --port") from exc
    try:
        await playground.start()
    except BaseException:
        await site.stop()
        await playground.close()
        raise
    print(f"ladderbot playground: open {site.url} (the ladder website: {playground.web_url})",
          flush=True)
    if options.open_browser and can_open_browser():
        await asyncio.to_thread(webbrowser.open, site.url)
    try:
        await playground.ended.wait()
    finally:
        await site.stop()
        await playground.close()
    return playground.status


def main(argv: Sequence[str] = ()) -> int:
    """``bot.py playground [--port N] [--fresh] [--no-browser] ...``"""
    options = parse_options(argv)
    configure_logging("INFO")
    try:
        return asyncio.run(run(options))
    except (PlaygroundError, ConfigError) as exc:
        print(f"ladderbot playground: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C between two runs (a reset), when no handler is set
        return 130
