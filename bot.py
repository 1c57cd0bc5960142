"""ladderbot: a self-hosted 1v1 ladder bot for Discord.

    python bot.py            run the bot (settings from .env and the environment)
    python bot.py stats      a usage report from the SQLite file (read-only; --help)
    python bot.py backup P   a consistent copy of the live database (--help)
    python bot.py ratings replay --system NAME [--dry-run]   every rating again (bot stopped)
    python bot.py playground try it without a Discord token: a local Discord in the browser

Everything is wired here, in one place: settings → logging → database → repositories, cache and
the command log writer → pipeline → bot. A stop (SIGINT, SIGTERM, or the bot closing) closes
them in reverse: stop taking commands, let running ones finish, drain the log writer, close the
database. Nothing a player or the bot queued is lost on a clean stop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import aiohttp
import nextcord

from app import backup as backup_cli
from app import pg_migrate, ratings_cli
from app import stats as stats_cli
from app.event_loop import loop_factory, loop_name
from app.gc_tuning import freeze_startup_heap, log_pass_totals
from app.logging import configure_logging
from app.running import AlreadyRunningError, RunningLock
from app.settings import Settings, SettingsError, load_settings
from cache.players import PlayerCache
from cogs.bot import LadderBot
from cogs.localize import all_commands, localize_commands
from cogs.notify import QueueNotifications
from cogs.pipeline import CommandPipeline
from cogs.queue_board import QueueBoard
from ladder.config import ConfigError, LadderConfig, load_ladder_config
from ladder.cooldowns import Cooldowns
from ladder.rating_systems import provisional_rule, rating_system
from services.admin import AdminService
from services.confirmations import AdminConfirmations
from services.elsewhere import Backlog, ChangesElsewhere
from services.ladder_core import LadderCore
from services.leaderboard import LeaderboardService
from services.matches import MatchService
from services.notifications import NotificationService
from services.players import PlayerChanges, PlayerService
from services.public import PublicLadder
from services.queue import QueueService
from services.queue_board import QueueBoardService
from services.replays import ReplayService
from services.seasons import SeasonService
from services.setup_drafts import SetupDraftService
from services.web_login import WebLoginService
from storage.command_log import CommandLogWriter
from storage.database import Database, SchemaTooNewError
from storage.history import HistoryRepository
from storage.leader import Leadership, SoleLeader
from storage.leaderboard import LeaderboardRepository
from storage.players import PLAYERS_CHANNEL, PlayerRepository
from storage.postgres import Listener, PostgresDatabase, open_database
from storage.postgres_command_log import PostgresCommandLogWriter
from storage.queue import QueueRepository
from storage.ratings import RATINGS_CHANNEL
from storage.replays import ReplayFiles
from web.app import WebServices, create_app
from web.login import HostServices, site_address
from web.server import WebServer, WebStartError

log = logging.getLogger("ladderbot")
nextcord.VoiceClient.warn_nacl = False  # no voice here: PyNaCl is not needed

EMBED_DESCRIPTION_LIMIT = 4096
IN_FLIGHT_GRACE_SECONDS = 5.0


HOST_COMMANDS = {"stats": stats_cli.main, "backup": backup_cli.main}


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for the host."""


def load_terms(settings: Settings) -> str:
    """Read the terms of service shown by /termsofservice."""
    path = settings.data_dir / "terms.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StartupError(f"cannot read the terms of service at {path}: {exc}") from exc
    if not text or len(text) > EMBED_DESCRIPTION_LIMIT:
        raise StartupError(f"{path} must hold 1–{EMBED_DESCRIPTION_LIMIT} characters")
    return text


async def build_bot(
    settings: Settings,
    ladder: LadderConfig,
    terms: str,
    db: Database,
    command_log: CommandLogWriter,
) -> LadderBot:
    """Build the repositories, the caches, the ladder services and the pipeline, then the bot."""
    # The file's map pool is the next season's (from `/admin season start` on); the current
    # season's pool is put in force below, once the season service exists.
    file_map_pool = ladder.map_pool
    repository = PlayerRepository(db, PlayerCache())
    # Name keys written by another key version (an older ladderbot, another ICU) are made
    # again now, before the first /setup needs them.
    await repository.refresh_keys()
    leaderboard = LeaderboardRepository(db, aborts_per_month=ladder.matches.aborts_per_month)
    # A player's /profile numbers are kept until they change (SQLite; every write is followed).
    await leaderboard.follow_changes()
    standings = await leaderboard.load_standings(
        datetime.now(UTC),
        races=ladder.race_codes,
        shares=ladder.ranks.shares,
        inactive_days=ladder.ranks.inactive_days,
        provisional=provisional_rule(rating_system(ladder.rating)),
        require_settled=ladder.leaderboard.require_settled,
        min_games=ladder.leaderboard.min_games,
    )
    # Every committed change to a player (profile, country, terms, ban) reaches the standings
    # here, and only here.
    changes = PlayerChanges()
    changes.subscribe(
        lambda p: standings.set_player(
            p.discord_uid, p.display_name, p.country, banned=p.banned, region=p.region
        )
    )
    players = PlayerService(db, repository, QueueRepository(), changes)
    pipeline = CommandPipeline(
        repository,
        command_log,
        admin_ids=settings.admin_ids,
        dm_only=settings.dm_only,
        cooldowns=Cooldowns(ladder.cooldowns),
    )
    # Every committed rating change updates the in-memory standings (ranks, leaderboard).
    core = LadderCore(
        db, repository, ladder, on_ratings_changed=standings.apply, player_changes=changes
    )
    leaderboard_service = LeaderboardService(leaderboard, standings)
    bot = LadderBot(
        db=db,
        command_log=command_log,
        players=players,
        pipeline=pipeline,
        queue=QueueService(core),
        matches=MatchService(core),
        admin=AdminService(core),
        ladder_config=ladder,
        leaderboard=leaderboard_service,
        standings=standings,
        terms_text=terms,
        setup_drafts=SetupDraftService(db),
        confirmations=AdminConfirmations(db),
        admin_ids=settings.admin_ids,
        admin_channel_id=settings.admin_channel_id,
        command_guild_ids=settings.command_guild_ids,
        web_base_url=settings.web_base_url,
        shard_ids=settings.shard_ids,
        shard_count=settings.shard_count,
    )
    seasons = SeasonService(core, on_season_changed=standings.apply, next_map_pool=file_map_pool)
    bot.seasons = seasons

    def follow(config: LadderConfig) -> None:  # the /queue menu offers the pool in force
        bot.ladder_config = config

    core.config_listeners.append(follow)
    # The current season's map pool (season 1's: the file's), now and after each season start.
    pool = await seasons.use_current_map_pool()
    if pool != file_map_pool:
        log.warning(
            "The map pool in the ladder settings differs from the current season's: the season"
            " keeps its own, the settings' pool starts with the next season"
        )
    bot.notifications = NotificationService(core)
    # /activity reads the counts the website's heatmap shows; build_website replaces this
    # with the site's own instance, so both share one cache.
    bot.public = PublicLadder(ladder, standings, leaderboard_service, HistoryRepository(db))
    bot.queue_notifications = QueueNotifications(bot, bot.notifications)
    if settings.queue_channel_id is not None:
        bot.queue_board = QueueBoard(
            bot,
            QueueBoardService(core),
            settings.queue_channel_id,
            ladder.queue_board.edit_interval_seconds,
        )
    # Replay files: a relative replay.folder is beside the SQLite file (data/replays); on
    # PostgreSQL, in DATABASE_PATH's folder all the same (DATA_DIR by default).
    replay_files = ReplayFiles(settings.database_path.parent / ladder.replay.folder)
    bot.replays = ReplayService(core, bot.admin, files=replay_files)
    # Command names and descriptions in the players' languages, before they are synced.
    localize_commands(all_commands(bot))
    return bot


def build_website(settings: Settings, bot: LadderBot) -> WebServer:
    """The website on WEB_HOST:WEB_PORT, reading through the bot's own services."""
    public = PublicLadder(
        bot.ladder_config,
        bot.standings,
        bot.leaderboard,
        HistoryRepository(bot.db),
        replays=bot.replays,
    )
    bot.public = public
    # The host's half: /admin web's login links and the dashboard's numbers.
    bot.web_login = WebLoginService(bot.db)
    host = HostServices(
        logins=bot.web_login,
        admin_ids=settings.admin_ids,
        database_path=bot.db.path,
        command_log=bot.command_log,
        player_cache=bot.players.cache,
        profile_cache=bot.leaderboard.profile_cache,
        started_at=bot.started_at,
        sqlite_file=not isinstance(bot.db, PostgresDatabase),
    )
    services = WebServices(
        public=public,
        base_url=settings.web_base_url,
        host=host,
        seasons=bot.seasons,
        defer_to=bot.pipeline.admission.quiet,
    )
    app = create_app(services)
    return WebServer(app, settings.web_host, settings.web_port)


def once_only_work(bot: LadderBot) -> Leadership | SoleLeader:
    """Matchmaking waves, match deadlines, the queue board and queue notifications run in one
    process: on PostgreSQL the elected leader (storage.leader), on SQLite the only process."""
    if not isinstance(bot.db, PostgresDatabase):
        return SoleLeader(bot.loops.start, bot.loops.stop)

    async def step_down() -> None:
        await bot.loops.stop()
        # The queue board starts again with the next term; the notification loop's sender
        # does not (cogs/notify.py), so the next term gets a new one (its state is stored).
        if bot.queue_notifications is not None:
            bot.queue_notifications = QueueNotifications(bot, bot.queue_notifications.service)

    # Deadlines set by another process's commands: the leader's deadline loop reads the next
    # one again at each check of the lock, so none fires more than a check late.
    leadership = Leadership(bot.db.url, bot.loops.start, step_down, on_check=bot.loops.poke)
    # A wave's transaction checks that this process still leads and that no other wave runs.
    bot.queue.fence = leadership.fence
    return leadership


async def listen_to_other_processes(db: Database) -> tuple[Listener, Backlog] | None:
    """On PostgreSQL, listen for other processes' player and rating writes before start-up
    reads anything, keeping what is heard until `follow_other_processes` takes it over; None on
    SQLite, where this process makes every write."""
    if not isinstance(db, PostgresDatabase):
        return None
    backlog = Backlog((PLAYERS_CHANNEL, RATINGS_CHANNEL))
    listener = db.listener(backlog.channels, backlog.reset)
    await listener.start()
    backlog.reading()
    return listener, backlog


def follow_other_processes(bot: LadderBot, backlog: Backlog) -> ChangesElsewhere:
    """Other processes' writes, heard since before start-up read, reach this one's cache and
    standings (services.elsewhere)."""
    refresh = functools.partial(LeaderboardRepository(bot.db).refresh_players, bot.standings)
    elsewhere = ChangesElsewhere(bot.db, bot.players, bot.standings.apply, refresh)
    elsewhere.start()
    backlog.attach(
        {PLAYERS_CHANNEL: elsewhere.player_changed, RATINGS_CHANNEL: elsewhere.ratings_changed},
        elsewhere.missed,
    )
    return elsewhere


async def serve(
    settings: Settings, ladder: LadderConfig, stop: asyncio.Event | None = None
) -> int:
    """Run the bot until a signal, `stop` or a fatal error; return the process exit status.

    `stop` lets the playground (one process, several runs) end a run as a signal would.
    """
    terms = load_terms(settings)
    running = RunningLock(settings.database_path)
    try:
        running.acquire("starting the bot")
    except AlreadyRunningError as exc:
        raise StartupError(str(exc)) from exc
    try:
        return await _serve(settings, ladder, terms, stop)
    finally:
        running.release()


async def _serve(
    settings: Settings, ladder: LadderConfig, terms: str, stop: asyncio.Event | None
) -> int:
    log.info("Event loop: %s", loop_name())
    if settings.api_base:
        # Every REST URL nextcord builds starts here; the gateway URL comes from GET /gateway.
        nextcord.http.Route.BASE = settings.api_base
        log.info("Using Discord API at %s", settings.api_base)

    db = await open_database(settings.database_url or settings.database_path)
    try:
        await ratings_cli.check_stored_system(db, ladder)
    except ratings_cli.SystemMismatchError as exc:
        await db.close()
        raise StartupError(str(exc)) from exc
    command_log = (
        PostgresCommandLogWriter(db) if isinstance(db, PostgresDatabase) else CommandLogWriter(db)
    )
    command_log.start()
    listening = None
    try:
        listening = await listen_to_other_processes(db)  # None on SQLite
        bot = await build_bot(settings, ladder, terms, db, command_log)
        # What start-up loaded (modules, the standings) lives until exit: keep it out of the
        # collector's full passes, which otherwise stall a command 9-22 ms and free nothing.
        freeze_startup_heap()
        website = build_website(settings, bot) if settings.web_enabled else None
        if website is not None:
            await website.start()
            bot.web_address = site_address(
                settings.web_base_url, settings.web_host, website.port
            )
    except BaseException as exc:
        # A failed start leaks nothing: the writer's task ends, the connections close.
        if listening is not None:
            await listening[0].close()
        await command_log.close()
        await db.close()
        if isinstance(exc, WebStartError):
            raise StartupError(str(exc)) from exc
        raise
    pipeline = bot.pipeline
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        # Refuse new commands from this very moment, not one loop iteration later.
        pipeline.stop_accepting()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    status = 0
    elsewhere = follow_other_processes(bot, listening[1]) if listening is not None else None
    leadership = once_only_work(bot)
    await leadership.start()
    try:
        runner = asyncio.create_task(bot.start(settings.token), name="discord-client")
        stopper = asyncio.create_task(stop.wait(), name="stop-signal")
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            status = _client_status(runner)
        else:
            log.info("Stop requested: finishing running commands")
        stopper.cancel()
    finally:
        # Reverse order of construction: loops and commands, the client, the writer, the database.
        pipeline.stop_accepting()
        await leadership.close()  # the loops stop; on PostgreSQL another process takes over
        if website is not None:  # stops listening; requests already running finish
            await website.stop()
        await pipeline.wait_idle(IN_FLIGHT_GRACE_SECONDS)
        # Match messages on their way (an opponent's DM after a click) go out before the
        # client and the database close; any that do not are repaired at the next start.
        await bot.notifier.drain(IN_FLIGHT_GRACE_SECONDS)
        await bot.close()
        if not runner.done():
            runner.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
        if listening is not None:
            await listening[0].close()
        if elsewhere is not None:
            await elsewhere.close()
        await command_log.close()
        await db.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        log.info("Stopped cleanly: %s", command_log.stats())
        log_pass_totals()
    return status


def _client_status(runner: asyncio.Task) -> int:
    error = runner.exception()
    if error is None:
        log.info("Discord client closed")
        return 0
    if isinstance(error, nextcord.LoginFailure):
        log.error("Discord refused the token (DISCORD_TOKEN): %s", error)
        return 1
    if isinstance(error, aiohttp.ClientConnectionError):
        log.error("Cannot reach Discord: %s", error)
        return 1
    log.error("Discord client failed", exc_info=error)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen sub-command."""
    parser = argparse.ArgumentParser(prog="bot.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "stats", "backup", "playground", "ratings", "migrate"],
        help="default: run; `stats --help`, `backup --help`, `playground --help`,"
        " `ratings --help`, `migrate --help` for theirs",
    )
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "run" and args.args:
        parser.error(f"unrecognized arguments: {' '.join(args.args)}")
    if args.command == "playground":
        # Its own settings, database and local Discord: no token, no .env.
        from playground.runner import main as playground_main

        return playground_main(args.args)
    try:
        if args.command in HOST_COMMANDS:
            settings = load_settings(require_token=False)
            return HOST_COMMANDS[args.command](args.args, settings.database_path)
        if args.command == "migrate":  # the SQLite file into an empty PostgreSQL
            settings = load_settings(require_token=False)
            ladder = load_ladder_config(settings.ladder_config_path)
            return pg_migrate.main(args.args, settings.database_path, ladder)
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_file)
        ladder = load_ladder_config(settings.ladder_config_path)
        if args.command == "ratings":
            return ratings_cli.main(
                args.args, settings.database_url or settings.database_path, ladder
            )
        if args.command == "run":
            return asyncio.run(serve(settings, ladder), loop_factory=loop_factory())
    except (SettingsError, ConfigError, StartupError, SchemaTooNewError) as exc:
        print(f"ladderbot: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
