"""The host's half of the seeded site: command calls in `command_calls` (through the real log
writer) and the services the login and dashboard pages read, on a site from `tests.web.seed`.

    host = await open_host(site, seeded)      # the writer has logged CALLS rows by now
    app = create_app(host.services)           # public pages + /login + /dashboard
    link = await host.login_link()            # what /admin web would give ADMIN_UID
    ...
    await host.close()                        # before site.close()
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from cache.players import PlayerCache
from cache.profiles import ProfileCache
from services.web_login import WebLoginService
from storage.command_log import CommandLogWriter
from storage.database import epoch_ms
from storage.postgres import PostgresDatabase
from tests.web.seed import ADMIN_UID, Seeded, Site
from web.app import WebServices
from web.login import HostServices

DISCORD_EPOCH_MS = 1_420_070_400_000
# command -> (calls over the last 7 days, typical ms)
COMMANDS = {
    "queue": (60, 40.0),
    "profile": (45, 12.0),
    "leaderboard": (30, 25.0),
    "setup": (12, 150.0),
    "termsofservice": (9, 8.0),
    "admin resolve": (4, 60.0),
}
OUTCOMES = ("ok",) * 8 + ("refused:terms", "rejected", "error", "cancelled")


@dataclass
class Host:
    site: Site
    services: WebServices
    logins: WebLoginService
    writer: CommandLogWriter
    calls: Counter[str]  # command -> rows logged

    async def login_link(self, admin_uid: int = ADMIN_UID) -> str:
        """The path /admin web links to (without the address)."""
        return f"/login/{await self.logins.issue(admin_uid)}"

    async def close(self) -> None:
        await self.writer.close()


async def wait_written(writer: CommandLogWriter, rows: int, within: float = 10.0) -> None:
    """Wait until the writer has committed `rows` rows (woken by each batch it ends)."""
    try:
        async with asyncio.timeout(within):
            await writer.written_at_least(rows)
    except TimeoutError:
        raise AssertionError(f"the log writer wrote {writer.stats()} of {rows} rows") from None
    assert writer.stats().written >= rows, f"the writer stopped: {writer.stats()}"


def snowflake(moment: datetime, sequence: int) -> int:
    """A Discord id made at `moment` (the writer derives called_ms from it)."""
    return ((epoch_ms(moment) - DISCORD_EPOCH_MS) << 22) | (sequence & 0x3FFFFF)


async def open_host(
    site: Site,
    seeded: Seeded,
    *,
    now: datetime | None = None,
    base_url: str | None = None,
    logins: WebLoginService | None = None,
) -> Host:
    """Log seeded command calls over the last 7 days through a real writer, and give the site
    its host services (ADMIN_UID is the admin)."""
    now = now or datetime.now(UTC)
    rng = random.Random(12)
    writer = CommandLogWriter(site.db)
    writer.start()
    calls: Counter[str] = Counter()
    uids = list(seeded.uids.values())
    sequence = 0
    # Within the last 7 UTC days, today included (the dashboard's default period).
    first = datetime.combine(now.date() - timedelta(days=6), time(), UTC)
    for command, (count, typical) in COMMANDS.items():
        for _ in range(count):
            sequence += 1
            at = first + (now - first) * rng.random()
            duration = round(typical * rng.lognormvariate(0, 0.5), 3)
            writer.record(snowflake(at, sequence), rng.choice(uids), None, command, None,
                          duration, rng.choice(OUTCOMES))  # fmt: skip
            calls[command] += 1
    await wait_written(writer, calls.total())
    logins = logins or WebLoginService(site.db)
    host = HostServices(
        logins=logins,
        admin_ids=frozenset({ADMIN_UID}),
        database_path=site.db.path,
        command_log=writer,
        player_cache=PlayerCache(),
        started_at=now - timedelta(hours=5),
        # As bot.py gives it: profiles are kept on SQLite only.
        profile_cache=None if isinstance(site.db, PostgresDatabase) else ProfileCache(),
    )
    services = dataclasses.replace(site.services, host=host, base_url=base_url)
    return Host(site, services, logins, writer, calls)
