"""The thin nextcord Bot subclass: typed attributes for what the cogs use, and the cog list."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import nextcord
from nextcord.ext import commands

from cogs.activity import ActivityCog
from cogs.admin import AdminCog
from cogs.components import ComponentRouter
from cogs.ladder_tasks import LadderLoops
from cogs.leaderboard import LeaderboardCog
from cogs.matches import MatchCog, Notifier
from cogs.notify import NotifyCog, QueueNotifications
from cogs.onboarding import OnboardingCog
from cogs.pipeline import RULE_ATTRIBUTE, CommandPipeline
from cogs.profile import ProfileCog
from cogs.queue import QueueCog
from cogs.queue_board import QueueBoard
from cogs.replays import ReplayCog
from ladder.config import LadderConfig
from ladder.guards import Access
from ladder.standings import Standings
from services.admin import AdminService
from services.confirmations import AdminConfirmations
from services.leaderboard import LeaderboardService
from services.matches import MatchService
from services.notifications import NotificationService
from services.players import PlayerService
from services.public import PublicLadder
from services.queue import QueueService
from services.replays import ReplayService
from services.seasons import SeasonService
from services.setup_drafts import SetupDraftService
from services.web_login import WebLoginService
from storage.command_log import CommandLogWriter
from storage.database import Database

log = logging.getLogger(__name__)


COGS = (
    OnboardingCog, ProfileCog, QueueCog, MatchCog, LeaderboardCog, AdminCog, ReplayCog, NotifyCog,
    ActivityCog,
)  # fmt: skip


# How long nextcord waits after the last GUILD_CREATE before "ready", when the waves, deadlines
# and repairs start (nextcord's default: 2 s). Discord sends a small bot's few GUILD_CREATEs
# right after READY; nothing here needs them first (no member cache; channels are fetched or
# partial), and the default held every start's first wave and overdue deadlines 2 s longer.
GUILD_READY_TIMEOUT_S = 0.25


class LadderBot(commands.AutoShardedBot):
    """The bot: built and closed by bot.py, which owns the database and the log writer.

    Always nextcord's auto-sharded bot, so one code path runs any number of gateway shards: the
    process's SHARD_IDS of SHARD_COUNT, or shard 0 of 1 when it is the only process.
    """

    # /admin web's login links: bot.py sets both once the website listens (None: it is off).
    web_login: WebLoginService | None = None
    web_address: str | None = None  # where links point: WEB_BASE_URL, or where the site listens
    seasons: SeasonService | None = None  # bot.py sets it (seasons commands, past seasons)
    # Queue notifications (/notify) and their loop and sender: bot.py sets both.
    notifications: NotificationService | None = None
    queue_notifications: QueueNotifications | None = None
    queue_board: QueueBoard | None = None  # bot.py sets it when QUEUE_CHANNEL_ID is set
    public: PublicLadder | None = None  # the website's reads (/activity shares its counts)
    replays: ReplayService | None = None  # bot.py sets it (/replay, rule by replay)

    def __init__(
        self,
        *,
        db: Database,
        command_log: CommandLogWriter,
        players: PlayerService,
        pipeline: CommandPipeline,
        queue: QueueService,
        matches: MatchService,
        admin: AdminService,
        ladder_config: LadderConfig,
        leaderboard: LeaderboardService,
        standings: Standings,
        terms_text: str,
        setup_drafts: SetupDraftService,
        confirmations: AdminConfirmations,
        admin_ids: frozenset[int] = frozenset(),
        admin_channel_id: int | None = None,
        command_guild_ids: tuple[int, ...] = (),
        web_base_url: str | None = None,
        shard_ids: tuple[int, ...] = (),
        shard_count: int | None = None,
    ) -> None:
        intents = nextcord.Intents.none()
        intents.guilds = True
        super().__init__(
            intents=intents,
            default_guild_ids=list(command_guild_ids) or None,
            # This process's gateway shards (SHARD_IDS of SHARD_COUNT; several processes may
            # share a PostgreSQL), or the one shard of a bot alone. A fixed count, not Discord's
            # recommended one: the shards of other processes must not move under them.
            shard_ids=list(shard_ids) or None,
            shard_count=shard_count or 1,
            guild_ready_timeout=GUILD_READY_TIMEOUT_S,
        )
        self._syncing = asyncio.Lock()
        self.db = db
        self.command_log = command_log
        self.started_at = datetime.now(UTC)
        self.players = players
        self.pipeline = pipeline
        self.queue = queue
        self.matches = matches
        self.admin = admin
        self.ladder_config = ladder_config
        self.leaderboard = leaderboard
        self.standings = standings
        self.race_names: Mapping[str, str] = ladder_config.race_names  # in the reader's language
        self.regions: Mapping[str, str] = ladder_config.region_names
        self.terms_text = terms_text
        self.web_base_url = web_base_url  # WEB_BASE_URL: links to the website, if set
        self.setup_drafts = setup_drafts
        self.confirmations = confirmations
        self.router = ComponentRouter()
        self.notifier = Notifier(self, admin_ids, admin_channel_id)
        # Queue messages of players taken out of the queue (admin, ban, Decline) say so.
        admin.on_left_queue = players.on_left_queue = self.notifier.left_queue_soon
        self.loops = LadderLoops(self, ladder_config.matchmaking.wave_interval_seconds)
        for cog in COGS:
            instance = cog(self)
            for command in instance.application_commands:
                _set_contexts(command, dm_only=pipeline.dm_only)
            self.add_cog(instance)
        # No views are registered: every component's custom_id is routed (cogs/components.py),
        # so the buttons of old messages keep working after a restart.

    # nextcord's BotBase calls the first argument event_name and its Client event: either
    # name differs from one of them.
    def dispatch(self, event_name: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if event_name == "interaction":  # handed over now: the pipeline times its wait from here
            self.pipeline.received(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def on_interaction(self, interaction: nextcord.Interaction) -> None:
        if self.router.handles(interaction):  # every button, select and modal submit
            await self.router.dispatch(interaction)
        else:
            await self.process_application_commands(interaction)

    async def on_connect(self) -> None:
        # Each shard's READY dispatches "connect": one sync at a time, so the second finds the
        # commands the first registered instead of registering them again beside it.
        async with self._syncing:
            await super().on_connect()
        log.info("Slash commands synced with Discord")

    async def on_ready(self) -> None:
        log.info("Connected as %s (id %s)", self.user, self.user.id if self.user else "?")


def _set_contexts(command: nextcord.BaseApplicationCommand, *, dm_only: bool) -> None:
    """Offer a command only where it may be used: with DM_ONLY, player commands only in DMs
    with the bot (Discord then hides them in servers); /help and /admin everywhere.

    Discord applies `contexts` to global commands only; guild-scoped ones (COMMAND_GUILD_IDS)
    show in their guild, and so would a command from an old or modified client: there the
    pipeline's DM-only guard refuses it (admins exempt).
    """
    rule = getattr(command.callback, RULE_ATTRIBUTE, None)
    dm_only_here = dm_only and rule is not None and rule.dm_only and rule.access < Access.ADMIN
    command.integration_types = [nextcord.IntegrationType.guild_install]
    command.contexts = (
        [nextcord.InteractionContextType.bot_dm]
        if dm_only_here
        else [nextcord.InteractionContextType.guild, nextcord.InteractionContextType.bot_dm]
    )
