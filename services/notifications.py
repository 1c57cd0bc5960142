"""Queue notifications' use cases: /notify's settings, which notifications are due (decided
and logged in one transaction), whether one is still worth sending, and its fate."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ladder.config import LadderConfig
from ladder.notifications import (
    Notice,
    NotifySettings,
    Subscriber,
    Waiting,
    notices,
    parse_codes,
    parse_quiet_hours,
    zone,
)
from services.ladder_core import LadderCore
from storage.notifications import NotificationRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Due:
    """A decided notification: its log id and what it says about whom."""

    id: int
    notice: Notice
    created_at: datetime


class NotificationService:
    """What /notify reads and writes, and what the notification loop asks."""

    def __init__(self, core: LadderCore) -> None:
        self._core = core
        self.repo = NotificationRepository()
        # Queue entries (uid, joined_at) already announced: each one is announced once.
        self._announced: set[tuple[int, datetime]] = set()

    @property
    def config(self) -> LadderConfig:
        """The settings in force (the current season's map pool), read from the core."""
        return self._core.config

    async def settings_of(self, uid: int) -> tuple[NotifySettings, datetime | None]:
        """The player's settings (defaults if he never chose) and when he was last notified."""
        reader = self._core.reader
        settings = await self.repo.settings(reader, uid)
        return settings or NotifySettings(), await self.repo.last_sent(reader, uid)

    async def update(
        self,
        uid: int,
        *,
        enabled: bool | None = None,
        races: str | None = None,
        regions: str | None = None,
        quiet_hours: str | None = None,
        time_zone: str | None = None,
    ) -> NotifySettings:
        """Change what was given; every input is checked before anything is written."""
        current, _ = await self.settings_of(uid)
        config = self.config
        changes: dict[str, object] = {}
        if enabled is not None:
            changes["enabled"] = enabled
        if races is not None:
            names = {r.code: r.name for r in config.races}
            local = [(r.code, n) for r in config.races for _, n in r.names]
            changes["races"] = parse_codes(races, config.race_codes, "races", names, local)
        if regions is not None:
            names = {r.code: r.name for r in config.regions}
            local = [(r.code, n) for r in config.regions for _, n in r.names]
            changes["regions"] = parse_codes(regions, config.region_codes, "regions", names, local)
        if quiet_hours is not None:
            changes["quiet"] = parse_quiet_hours(quiet_hours)
        if time_zone is not None:
            changes["time_zone"] = zone(time_zone).key
        updated = replace(current, **changes)  # type: ignore[arg-type]
        async with self._core.write() as conn:
            await self.repo.save_settings(conn, uid, updated, self._core.now())
        return updated

    async def due(self) -> list[Due]:
        """Decide and log the notifications due now: about every player who has waited
        `wait_seconds` and was not announced yet, to the subscribers the rules allow."""
        cfg = self.config.notifications
        start = self.config.rating.start
        async with self._core.write() as conn:
            now = self._core.now()
            statuses = await self._core.queue.all(conn)
            queued = {s.uid for s in statuses}
            # Entries that left the queue are forgotten (a new entry is a new announcement).
            self._announced &= {(s.uid, s.joined_at) for s in statuses}
            ripe = [
                s
                for s in statuses
                if (s.uid, s.joined_at) not in self._announced
                and now - s.joined_at >= timedelta(seconds=cfg.wait_seconds)
            ]
            if not ripe:
                return []
            subs = await self.repo.subscribers(conn)
            if not subs:
                self._announced |= {(s.uid, s.joined_at) for s in ripe}
                return []
            mmrs = await self._core.ratings.mmrs_of_queued(conn)
            regions = await self.repo.regions(conn, [s.uid for s in ripe])
            waiting = [
                Waiting(
                    s.uid,
                    {
                        r: mmrs.get((s.uid, r), start)
                        for r in s.races
                        if r in self.config.race_codes
                    },
                    regions.get(s.uid),
                    s.joined_at,
                    s.waves_waited,
                )
                for s in ripe
            ]
            busy = queued | await self._core.matches.active_uids(conn)
            uids = [uid for uid, _ in subs]
            last = await self.repo.last_counted(conn, uids)
            ratings = await self.repo.ratings(conn, uids)
            subscribers = [
                Subscriber(uid, s, ratings.get(uid) or {"": start}, uid in busy, last.get(uid))
                for uid, s in subs
            ]
            decided = notices(
                waiting, subscribers, now, self.config.matchmaking.window, cfg.interval
            )
            out = [Due(await self.repo.record(conn, n, now), n, now) for n in decided]
            self._announced |= {(s.uid, s.joined_at) for s in ripe}
        if out:
            log.info("Queue notifications: %d decided about %d waiting", len(out), len(ripe))
        return out

    async def still_useful(self, due: Due) -> bool:
        """Whether `due` is worth sending now: the waiting player is still in the same queue
        entry (not matched, not gone) and the notification is not too old."""
        now = self._core.now()
        if now - due.created_at > timedelta(seconds=self.config.notifications.max_age_seconds):
            return False
        status = await self._core.queue.get(self._core.reader, due.notice.about_uid)
        return status is not None and status.joined_at == due.notice.about_joined_at

    async def finish(self, due: Due, outcome: str) -> None:
        """Log what became of a notification: sent, dropped or failed."""
        async with self._core.write() as conn:
            await self.repo.finish(conn, due.id, outcome, self._core.now())

    async def drop_unfinished(self) -> int:
        """At start: notifications a stop left queued are stale."""
        async with self._core.write() as conn:
            return await self.repo.drop_unfinished(conn, self._core.now())
