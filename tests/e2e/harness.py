"""Running a bot against the fake Discord: the real ``bot.py`` as a subprocess, or a nextcord
client inside the test's own event loop.

Both wait for the same signal from the fake: the bot identified on the gateway, got READY, and
finished syncing its application commands (see ``FakeDiscord.wait_synced``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import nextcord

from localdiscord import FakeDiscord, FakeUser
from tests.support.backends import start_migrated
from tests.support.zygote import ForkedBot, forking, zygote

if TYPE_CHECKING:
    from cogs.bot import LadderBot

REPO_ROOT = Path(__file__).resolve().parents[2]
# Tests click faster than people do: their bots run with cooldowns off (data/ladder.toml's
# [cooldowns] keys) unless a test sets them, e.g. ladder_data_dir(..., leaderboard=30).
NO_COOLDOWNS: dict[str, float | int] = {
    "budget_calls": 1_000_000, "leaderboard": 0, "setup": 0, "queue": 0, "queue_view:join": 0,
    "queue:leave": 0,
}  # fmt: skip


def set_ladder_settings(text: str, settings: dict[str, float | int]) -> str:
    """ladder.toml's `text` with each of `settings` (bare or quoted key = value) replaced;
    each key must be in it once, so a typo fails instead of being ignored."""
    for key, value in settings.items():
        text, count = re.subn(
            rf'(?m)^("?){re.escape(key)}\1 = .*$', rf"\g<1>{key}\1 = {value}", text
        )
        assert count == 1, f"ladder.toml has no single setting {key!r}"
    return text


@functools.cache
def bot_command_names() -> frozenset[str]:
    """Every slash command the bot defines (its cogs' class attributes): a start waits until
    all of them are registered, not for a pause in the sync that a busy machine can fake."""
    from nextcord import BaseApplicationCommand

    from cogs.bot import COGS

    return frozenset(
        v.name for cog in COGS for v in vars(cog).values()
        if isinstance(v, BaseApplicationCommand) and v.name
    )  # fmt: skip


def data_without_cooldowns(folder: Path) -> Path:
    """A copy of data/ in `folder` whose ladder.toml has the cooldowns off."""
    data = folder / "data"
    if not data.exists():
        shutil.copytree(REPO_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db*"))
        toml = data / "ladder.toml"
        toml.write_text(
            set_ladder_settings(toml.read_text(encoding="utf-8"), NO_COOLDOWNS), encoding="utf-8"
        )
    return data
BOT_SCRIPT = REPO_ROOT / "bot.py"
START_TIMEOUT = 20.0  # first start imports nextcord and migrates a new database
STOP_TIMEOUT = 10.0
LOG_TAIL_CHARS = 12_000
READY_LINE = "Connected as "  # cogs/bot.py logs it in on_ready
SYNCED_LINE = "Slash commands synced"  # cogs/bot.py logs it once its commands are in place
WAIT = 15.0  # generous upper bound for anything the bot does on its own (2 shared cores)


class BotProcess:
    """The real bot program (``python bot.py``) pointed at the fake Discord.

    One BotProcess is one bot installation: its database file survives ``stop()``, so
    ``restart()`` (or ``stop()`` then ``start()``) runs the bot again on the same data.
    Each run writes stdout and stderr to its own log file in ``workdir``.

    ``database_url``: run on PostgreSQL (DATABASE_URL) instead of the SQLite file: a URL, or an
    async function that makes a fresh database and returns its URL, called at the first start.
    ``state.db_rows`` reads whichever the bot uses.

    ``exec_start``: start it as ``python bot.py`` itself; by default it is forked from the
    tests' zygote, a Python that has imported the bot already (tests/support/zygote.py).
    """

    def __init__(self, fake: FakeDiscord, workdir: Path, *,
                 admins: Iterable[FakeUser | int] = (), dm_only: bool = True,
                 command_guild_ids: Iterable[int] = (), env: dict[str, str] | None = None,
                 name: str = "bot",
                 database_url: str | Callable[[], Awaitable[str]] | None = None,
                 exec_start: bool = False) -> None:
        self.fake = fake
        self.workdir = workdir
        self.name = name
        self.database_path = workdir / "ladder.db"
        self.database_url = database_url
        # `python bot.py` itself, not forked from the tests' zygote (tests.support.zygote)
        self.exec_start = exec_start
        self.admin_ids = [a.id if isinstance(a, FakeUser) else int(a) for a in admins]
        self.dm_only = dm_only
        self.command_guild_ids = list(command_guild_ids)
        self.extra_env = dict(env or {})
        self.proc: asyncio.subprocess.Process | ForkedBot | None = None
        self.log_paths: list[Path] = []
        self.exit_codes: list[int] = []
        self._log_file: IO[bytes] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False

    def environment(self) -> dict[str, str]:
        """The bot's settings. Every setting is given, so a developer's .env cannot leak in."""
        env = dict(os.environ)
        env.update({
            "DISCORD_TOKEN": self.fake.token,
            "DISCORD_API_BASE": self.fake.api_base,
            "DATABASE_PATH": str(self.database_path),
            "ADMIN_IDS": ",".join(map(str, self.admin_ids)),
            "DM_ONLY": "true" if self.dm_only else "false",
            "LOG_LEVEL": "DEBUG",
            "LOG_FILE": "",
            "COMMAND_GUILD_IDS": ",".join(map(str, self.command_guild_ids)),
            "ADMIN_CHANNEL_ID": "",
            "QUEUE_CHANNEL_ID": "",
            "WEB_PORT": "0",  # the website on a free port: bots run side by side
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        if isinstance(self.database_url, str):
            env["DATABASE_URL"] = self.database_url
        if "DATA_DIR" not in self.extra_env:
            env["DATA_DIR"] = str(data_without_cooldowns(self.workdir))
        env.update(self.extra_env)
        return env

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def log_path(self) -> Path | None:
        return self.log_paths[-1] if self.log_paths else None

    def log_text(self, run: int = -1) -> str:
        if not self.log_paths:
            return ""
        if self._log_file is not None:
            self._log_file.flush()
        return self.log_paths[run].read_text(encoding="utf-8", errors="replace")

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        text = self.log_text()
        return text if len(text) <= chars else "...\n" + text[-chars:]

    async def start(self, *, names: Iterable[str] = (), within: float = START_TIMEOUT) -> None:
        """Start ``bot.py`` and wait until it is connected and has synced its commands.

        ``names``: commands that must be registered before the bot counts as started; by
        default every command the bot defines, where it registers them (its first command
        guild, else globally).
        """
        if not BOT_SCRIPT.exists():
            raise FileNotFoundError(f"{BOT_SCRIPT} does not exist yet")
        assert not self.running, "the bot is already running"
        if callable(self.database_url):
            self.database_url = await self.database_url()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / f"{self.name}-run{len(self.log_paths) + 1}.log"
        self.log_paths.append(log_path)
        self._log_file = log_path.open("wb")
        self._stopping = False
        self.fake.fail_waits(None)
        after = self.fake.ready_count
        if not self.environment().get("DATABASE_URL") and not self.exec_start and forking():
            # A new installation's file, as migrated by the bot (copied, not migrated again):
            # only `python bot.py` itself (exec_start, tests about starting) migrates its own.
            await start_migrated(self.database_path)
        if forking() and not self.exec_start:  # forked from a Python that has imported bot
            self.proc = await zygote().spawn([], self.environment(), REPO_ROOT, self._log_file)
        else:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, str(BOT_SCRIPT), cwd=REPO_ROOT, env=self.environment(),
                stdin=asyncio.subprocess.DEVNULL, stdout=self._log_file,
                stderr=asyncio.subprocess.STDOUT)
        self._watcher = asyncio.create_task(self._watch_exit(self.proc))
        try:
            await self.fake.wait_synced(
                names=set(names) or bot_command_names(), after=after, within=within,
                guild=self.command_guild_ids[0] if self.command_guild_ids else None)
            # Every command registered is not the end of a sync that changes them (a restart
            # with other settings edits the registered ones): the bot says when it is done.
            await self._logged(SYNCED_LINE, within, "its commands synced")
        except BaseException as exc:
            await self._kill()
            raise RuntimeError(f"the bot did not start: {exc}\n--- bot log {log_path} ---\n"
                               f"{self.log_tail()}") from exc

    async def until_ready(self, within: float = START_TIMEOUT) -> None:
        """Wait until this run's bot logged nextcord's "ready" (its loops start then: waves,
        deadlines, repairs), for a test whose flood must not meet that start-up work too."""
        await self._logged(READY_LINE, within, "the bot to be ready")

    async def _logged(self, line: str, within: float, what: str) -> None:
        # The log is the bot's only word on these moments: read every 20 ms, never longer.
        await self.fake.wait_until(lambda: line in self.log_text(), within, what, poll=0.02)

    async def _watch_exit(self, proc: asyncio.subprocess.Process | ForkedBot) -> None:
        code = await proc.wait()
        if not self._stopping:
            self.fake.fail_waits(f"the bot exited unexpectedly with code {code}; see its log "
                                 f"{self.log_path}:\n{self.log_tail(4000)}")

    async def stop(self, within: float = STOP_TIMEOUT, *,
                   sig: signal.Signals = signal.SIGTERM) -> int:
        """SIGTERM (or ``sig``), then wait: the bot must close cleanly with exit code 0."""
        if self.proc is None or not self.running:
            code = self.proc.returncode if self.proc else 0
            self._close_log()
            return code if code is not None else 0
        self._stopping = True
        self.proc.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            await self._kill()
            raise AssertionError(f"the bot did not exit within {within}s of {sig.name}\n"
                                 f"--- bot log ---\n{self.log_tail()}") from None
        finally:
            await self._await_watcher()
        self.exit_codes.append(code)
        self._close_log()
        if code != 0:
            raise AssertionError(f"the bot exited with code {code} after {sig.name}\n"
                                 f"--- bot log ---\n{self.log_tail()}")
        return code

    async def restart(self, *, names: Iterable[str] = (), within: float = START_TIMEOUT) -> None:
        """Stop (cleanly) and start again on the same database."""
        await self.stop()
        await self.start(names=names, within=within)

    async def _kill(self) -> None:
        self._stopping = True
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        await self._await_watcher()
        self._close_log()

    async def _await_watcher(self) -> None:
        if self._watcher is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


@contextlib.asynccontextmanager
async def running_client(fake: FakeDiscord, client: nextcord.Client, *,
                         names: Iterable[str] = (),
                         within: float = START_TIMEOUT) -> AsyncIterator[nextcord.Client]:
    """Run a nextcord client in this event loop against the fake, for the ``async with`` body.

    Sets ``nextcord.http.Route.BASE`` as the bot does with DISCORD_API_BASE, and puts it back.
    """
    old_base = nextcord.http.Route.BASE
    nextcord.http.Route.BASE = fake.api_base
    after = fake.ready_count
    from cogs.bot import LadderBot

    if not names and isinstance(client, LadderBot):
        names = bot_command_names()  # its whole sync, as BotProcess.start waits for
    runner = asyncio.create_task(client.start(fake.token), name="nextcord client")
    try:
        waiter = asyncio.create_task(fake.wait_synced(names=names, after=after, within=within))
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            waiter.cancel()
            runner.result()  # raises what stopped the client
            raise RuntimeError("the client stopped before it was ready")
        waiter.result()
        yield client
    finally:
        await client.close()
        await asyncio.wait({runner}, timeout=STOP_TIMEOUT)
        if not runner.done():
            runner.cancel()
        elif not runner.cancelled():
            runner.exception()  # retrieved: it was raised above, or the test is over anyway
        nextcord.http.Route.BASE = old_base


@contextlib.asynccontextmanager
async def in_process_bot(tmp_path: Path) -> AsyncIterator[LadderBot]:
    """A LadderBot built by bot.py's build_bot (tmp database), for running_client()."""
    # Imported here: the benches import this module with tests/ first on sys.path, where
    # ``web`` would be the tests' package instead of the website bot.py imports.
    from app.settings import load_settings
    from bot import build_bot
    from ladder.config import load_ladder_config
    from storage.command_log import CommandLogWriter
    from storage.database import Database

    db = await Database.open(tmp_path / "in-process.db")
    writer = CommandLogWriter(db)
    writer.start()
    config = load_ladder_config(data_without_cooldowns(tmp_path) / "ladder.toml")
    settings = load_settings({"DISCORD_TOKEN": "test-token"}, dotenv=None)
    bot = await build_bot(settings, config, "Play fair.", db, writer)
    try:
        yield bot
    finally:
        await bot.close()
        await writer.close()
        await db.close()


# --------------------------------------------------------------------------------------------
# What the fixtures of tests/e2e and tests/reliability are made of.
# --------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def checked_fake() -> AsyncIterator[FakeDiscord]:
    """A started local Discord; at the end, fail if the bot hit an unknown route, broke a
    Discord rule, or left an interaction unanswered."""
    async with FakeDiscord() as fake:
        yield fake
        await fake.settle()
        assert not fake.unknown_routes, f"the bot called routes the fake does not serve: " \
                                        f"{fake.unknown_routes}"
        assert not fake.violations, "the bot broke Discord rules:\n" + "\n".join(
            f"  {v}" for v in fake.violations)


class BotFactory:
    """``make(admins=[alice])`` makes a BotProcess (not started) on ``fake``, in its own folder
    under ``base``; ``made`` lists them all, for their logs.

    ``new_database``: when set, each bot made runs on PostgreSQL, on the database this async
    function gives for the SQLite file the bot would use (see BotProcess's ``database_url``),
    unless it is given its own.
    """

    def __init__(self, fake: FakeDiscord, base: Path) -> None:
        self.fake = fake
        self.base = base
        self.made: list[BotProcess] = []
        self.new_database: Callable[[Path], Awaitable[str]] | None = None

    def __call__(self, **kwargs: Any) -> BotProcess:
        kwargs.setdefault("name", f"bot{len(self.made) + 1}")
        workdir = self.base / kwargs["name"]
        if self.new_database is not None:
            kwargs.setdefault(
                "database_url", functools.partial(self.new_database, workdir / "ladder.db")
            )
        process = BotProcess(self.fake, workdir, **kwargs)
        self.made.append(process)
        return process

    async def stop_all(self) -> None:
        """Stop every bot made: each must exit 0 after SIGTERM."""
        errors = []
        for process in self.made:
            try:
                await process.stop()
            except AssertionError as exc:
                errors.append(str(exc))
        assert not errors, "\n\n".join(errors)


@contextlib.asynccontextmanager
async def bot_factory(fake: FakeDiscord, base: Path) -> AsyncIterator[BotFactory]:
    """A BotFactory whose bots are all stopped (cleanly, or the block fails) at the end."""
    factory = BotFactory(fake, base)
    yield factory
    await factory.stop_all()


def log_sections(processes: Iterable[BotProcess]) -> list[tuple[str, str]]:
    """Each bot run's log (its tail), as sections for the report of a failed test."""
    sections = []
    for process in processes:
        for n, path in enumerate(process.log_paths, start=1):
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() \
                else "(no log)"
            sections.append((f"{process.name} log, run {n} ({path})", text[-LOG_TAIL_CHARS:]))
    return sections
