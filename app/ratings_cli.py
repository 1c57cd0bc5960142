"""`python bot.py ratings replay --system NAME [--dry-run]`: every rating again, from the log.

Ratings are a pure function of the rating log, season by season. This replays the whole log
under the chosen system (with the settings of data/ladder.toml), rewriting every past
season's archive, the current ratings and every match's stored before/after numbers, in ONE
transaction; `--dry-run` runs the very same transaction and rolls it back. Either way it
prints the top 20 of the current season before and after and the players whose place moves
most. It refuses while the bot runs and holds the bot's own lock while it works: on SQLite
the file lock beside the database (`app.running.RunningLock`), so the bot cannot start
half-way; on PostgreSQL (DATABASE_URL) the leader's advisory lock, after checking that no bot
process is connected (`_NoBotOnPostgres`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg

from app.running import AlreadyRunningError, RunningLock
from ladder.config import LadderConfig
from ladder.rating import RatingKey
from ladder.rating_systems import SYSTEMS, RatingState
from services.ratings import RatingLedger
from storage.database import Database
from storage.leader import APPLICATION_NAME, LEADER_LOCK_KEY
from storage.matches import MatchRepository
from storage.postgres import is_postgres_url, open_database, redact
from storage.ratings import RatingRepository
from storage.seasons import SeasonRepository


class _RollBack(Exception):
    """Raised inside the transaction to roll a dry run back."""


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """The current season's ladder before and after, and what was done."""

    system_before: str
    system_after: str
    seasons: int
    log_entries: int
    before: dict[RatingKey, RatingState]
    after: dict[RatingKey, RatingState]
    names: dict[int, str]
    applied: bool
    seconds: float


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py ratings", description="Recompute every rating from the rating log."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    rp = sub.add_parser("replay", help="replay the whole log under a rating system")
    rp.add_argument("--system", required=True, choices=SYSTEMS)
    rp.add_argument("--dry-run", action="store_true", help="show the result, write nothing")
    return parser


async def replay_all(
    db: Database, config: LadderConfig, system_name: str, *, dry_run: bool
) -> ReplaySummary:
    """Replay every season under `system_name`; commit unless `dry_run`."""
    seasons = SeasonRepository()
    rating_config = replace(config.rating, system=system_name)
    ledger = RatingLedger(
        RatingRepository(), MatchRepository(), rating_config, shares=config.ranks.shares
    )
    started = time.perf_counter()
    result: ReplaySummary | None = None
    try:
        async with db.transaction() as conn:
            current = await seasons.current(conn)
            all_seasons = await seasons.all(conn)
            before = await seasons.states(conn, ledger.system)
            rows = list(await (await conn.execute("SELECT COUNT(*) FROM rating_log")).fetchall())
            await ledger.replay_from(conn, 1)
            await seasons.set_rating_system(conn, system_name)
            after = await seasons.states(conn, ledger.system)
            name_rows = await (
                await conn.execute(
                    "SELECT discord_uid, COALESCE(player_name, discord_name) FROM players"
                )
            ).fetchall()
            result = ReplaySummary(
                current.rating_system,
                system_name,
                len(all_seasons),
                rows[0][0],
                before,
                after,
                {r[0]: r[1] or str(r[0]) for r in name_rows},
                not dry_run,
                time.perf_counter() - started,
            )
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    assert result is not None
    return result


def _places(states: Mapping[RatingKey, RatingState]) -> dict[RatingKey, int]:
    ranked = sorted(
        (k for k, s in states.items() if s.games > 0), key=lambda k: (-states[k].shown, k)
    )
    places: dict[RatingKey, int] = {}
    previous, place = None, 0
    for i, k in enumerate(ranked):
        if states[k].shown != previous:
            place, previous = i + 1, states[k].shown
        places[k] = place
    return places


def _printable(text: str) -> str:
    # A player's name in the host's terminal: no control characters, no escape sequences.
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:32]


def format_summary(summary: ReplaySummary, provisional: Mapping[RatingKey, bool]) -> str:
    """The before/after report the command prints."""
    before, after = _places(summary.before), _places(summary.after)

    def label(key: RatingKey, states: Mapping[RatingKey, RatingState]) -> str:
        mark = "?" if provisional.get(key) and states is summary.after else ""
        name = _printable(summary.names.get(key[0], str(key[0])))
        return f"{name} ({key[1]}) {states[key].shown}{mark}"

    lines = [
        f"Replayed {summary.log_entries} rating-log entries over {summary.seasons} season(s)"
        f" under {summary.system_after} (stored under {summary.system_before})"
        f" in {summary.seconds:.2f} s.",
        "",
        "Top 20 of the current season, before -> after:",
    ]
    top_before = sorted(before, key=lambda k: (before[k], k))[:20]
    top_after = sorted(after, key=lambda k: (after[k], k))[:20]
    for i in range(max(len(top_before), len(top_after))):
        left = label(top_before[i], summary.before) if i < len(top_before) else ""
        right = label(top_after[i], summary.after) if i < len(top_after) else ""
        lines.append(f"{i + 1:>3}. {left:<48} {right}")
    moves = sorted(
        ((after[k] - before[k], k) for k in before.keys() & after.keys() if before[k] != after[k]),
        key=lambda m: (-abs(m[0]), m[1]),
    )[:10]
    lines += ["", "Biggest changes of place:" if moves else "No player changes place."]
    for _delta, key in moves:
        lines.append(f"  {label(key, summary.after)}: place {before[key]} -> {after[key]}")
    lines += [
        "",
        "Applied in one transaction." if summary.applied else "Dry run: nothing was written.",
    ]
    return "\n".join(lines)


async def _run(db: Database, config: LadderConfig, system: str, dry_run: bool) -> str:
    try:
        summary = await replay_all(db, config, system, dry_run=dry_run)
    finally:
        await db.close()
    ledger = RatingLedger(
        RatingRepository(), MatchRepository(), replace(config.rating, system=system)
    )
    now = int(time.time() * 1_000_000)
    provisional = {k: ledger.system.provisional(s, now) for k, s in summary.after.items()}
    return format_summary(summary, provisional)


# Every bot process on PostgreSQL keeps one connection for the leader election, named so (the
# leader's holds the lock; the others retry on theirs): `storage.leader.APPLICATION_NAME`.
_BOTS_SQL = (
    "SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database()"
    " AND application_name LIKE $1 AND pid <> pg_backend_pid() ORDER BY pid"
)


class _NoBotOnPostgres:
    """On PostgreSQL, the replay's guard against a running bot, held while it runs.

    A bot is running if anyone holds the leader's advisory lock (`storage.leader`: the leader
    holds it for as long as it runs) or if any session of this database is a bot's election
    connection (every bot process keeps one, leader or not: `application_name` 'ladderbot
    leader <pid>' in pg_stat_activity). The guard then takes the leader lock itself, on its own
    connection, until the replay is done: a bot started meanwhile cannot lead (no matchmaking
    wave, no deadline), and its rating writes wait behind the replay's row locks.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection[Any] | None = None

    async def acquire(self, what: str) -> None:
        conn = await asyncpg.connect(
            self.url, server_settings={"application_name": f"ladderbot ratings {os.getpid()}"}
        )
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK_KEY):
                raise AlreadyRunningError(
                    f"the bot is running (a bot process holds the leader lock on"
                    f" {redact(self.url)}); stop it before {what}"
                )
            bots = await conn.fetch(_BOTS_SQL, APPLICATION_NAME.format(pid="%"))
            if bots:
                names = ", ".join(r["application_name"] for r in bots)
                raise AlreadyRunningError(
                    f"the bot is running (connected to {redact(self.url)} as {names}); stop it"
                    f" before {what}"
                )
        except BaseException:
            await conn.close()  # the session's end releases the lock if it was taken
            raise
        self._conn = conn

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


async def _replay_on_postgres(url: str, config: LadderConfig, system: str, dry_run: bool) -> str:
    guard = _NoBotOnPostgres(url)
    await guard.acquire("replaying the ratings")
    try:
        return await _run(await open_database(url), config, system, dry_run)
    finally:
        await guard.release()


def main(argv: Sequence[str], database: str | Path, config: LadderConfig) -> int:
    """Run `ratings` with these arguments on `database` (an SQLite file path, or a
    postgresql:// URL as DATABASE_URL gives it); 0 done, 1 refused or failed, 2 usage."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if is_postgres_url(database):
            assert isinstance(database, str)
            text = asyncio.run(_replay_on_postgres(database, config, args.system, args.dry_run))
        else:
            text = _replay_on_sqlite(Path(database), config, args.system, args.dry_run)
    except AlreadyRunningError as exc:
        print(f"ladderbot ratings: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"ladderbot ratings: {exc}", file=sys.stderr)
        return 1
    print(text)
    if not args.dry_run and args.system != config.rating.system:
        print(
            f'Now set rating.system = "{args.system}" in the ladder settings before starting'
            " the bot: it refuses to start with ratings stored under another system."
        )
    return 0


def _replay_on_sqlite(path: Path, config: LadderConfig, system: str, dry_run: bool) -> str:
    """On SQLite the bot holds a file lock beside the database while it runs: take it, or
    refuse; held until the replay is done, so the bot cannot start half-way."""
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    lock = RunningLock(path)
    lock.acquire("replaying the ratings")
    try:
        return asyncio.run(_open_and_run(path, config, system, dry_run))
    finally:
        lock.release()


async def _open_and_run(path: Path, config: LadderConfig, system: str, dry_run: bool) -> str:
    return await _run(await Database.open(path), config, system, dry_run)


class SystemMismatchError(RuntimeError):
    """The stored ratings were computed under another system than the settings name."""


async def check_stored_system(db: Database, config: LadderConfig) -> None:
    """Refuse to run a ladder whose stored ratings are under another system than configured.

    An empty rating log adopts the configured system (a new ladder needs no replay).
    """
    seasons = SeasonRepository()
    current = await seasons.current(db.reader)
    if current.rating_system == config.rating.system:
        return
    rows = await db.fetchall("SELECT 1 FROM rating_log LIMIT 1")
    if not list(rows):
        async with db.transaction() as conn:
            await seasons.set_rating_system(conn, config.rating.system)
        return
    raise SystemMismatchError(
        f"the ratings are stored under {current.rating_system} but the ladder settings say"
        f' rating.system = "{config.rating.system}"; run `python bot.py ratings replay'
        f" --system {config.rating.system} --dry-run` to preview the change, then without"
        f" --dry-run to make it (or set rating.system back)"
    )
