"""`python bot.py migrate --to postgresql://...`: copy the SQLite file into an empty PostgreSQL.

The bot must be stopped (the command holds `app.running.RunningLock`, as `ratings` does). The
target must be an empty database (no tables): it is migrated to the same schema version as the
file, then every table is copied in one transaction (parents before children, the tables' own
triggers off so that nothing is counted twice), the identity sequences are moved past the
copied ids, and the copy is checked: every table's row count, and replaying the rating log on
PostgreSQL (through the same repositories the bot uses) gives the ratings stored there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from app.ratings_cli import replay_all
from app.running import AlreadyRunningError, RunningLock
from ladder.config import LadderConfig
from storage.database import migrations
from storage.postgres import ROWS_TABLE, PostgresDatabase, pg_migrations, redact
from storage.seasons import SeasonRepository

_BATCH = 20_000
MIGRATE_STATEMENT_SECONDS = 3600  # one statement of the copy or its checks (see copy_database)

class MigrateError(RuntimeError):
    """The copy was refused or did not verify; the message says why."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    tables: dict[str, int]  # rows copied per table
    ratings_checked: int
    seconds: float


def _tables_in_order(conn: sqlite3.Connection) -> list[str]:
    """The SQLite tables, each after the tables its foreign keys name."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    parents = {
        name: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({name})")} - {name}
        for name in names
    }
    ordered: list[str] = []
    while len(ordered) < len(names):
        ready = [n for n in names if n not in ordered and parents[n] <= set(ordered)]
        if not ready:
            left = sorted(set(names) - set(ordered))
            raise MigrateError(f"foreign keys form a cycle among {left}")
        ordered += ready
    return ordered


def _open_read_only(source: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)


def _copied_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Stored columns (a generated column is computed again by PostgreSQL)."""
    return [r[1] for r in conn.execute(f"PRAGMA table_xinfo({table})") if r[6] == 0]


async def copy_database(
    source: Path, url: str, config: LadderConfig, *, out: Any = sys.stdout
) -> CopyReport:
    """Copy the SQLite file at `source` into the empty PostgreSQL database at `url`."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        if tables:
            raise MigrateError(
                f"{redact(url)} is not empty ({tables} tables): migrate copies into an empty"
                " database only. Nothing was changed."
            )
    finally:
        await conn.close()
    with contextlib.closing(_open_read_only(source)) as lite:
        version = lite.execute("PRAGMA user_version").fetchone()[0]
        if version != len(migrations()) or version != len(pg_migrations()):
            raise MigrateError(
                f"{source} is at schema version {version}; this ladderbot's is"
                f" {len(migrations())}: start the bot on it once (it migrates), stop it, and"
                " run migrate again"
            )
        # The check replays the whole rating log and writes every rating in one batch: minutes
        # for a million matches on a busy server, past the bot's 60 s limit per statement.
        db = await PostgresDatabase.open(url, command_timeout=MIGRATE_STATEMENT_SECONDS)
        try:
            copied = await _copy_tables(lite, db)
            print(f"Copied {sum(copied.values())} rows in {len(copied)} tables.", file=out)
            await _verify_counts(db, copied)
            checked = await _verify_ratings(db, config)
            print(f"Row counts equal; rating log replayed: {checked} ratings equal.", file=out)
        finally:
            await db.close()
    return CopyReport(copied, checked, time.perf_counter() - started)


async def _copy_tables(lite: sqlite3.Connection, db: PostgresDatabase) -> dict[str, int]:
    copied: dict[str, int] = {}
    async with db.pool.acquire() as pg, pg.transaction():
        order = _tables_in_order(lite)
        stored = [ROWS_TABLE.get(table, table) for table in order]  # COPY writes no view
        for table in stored:
            await pg.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        # What the migrations themselves inserted (season 1, the key version) comes from the file.
        await pg.execute(f"TRUNCATE {', '.join(stored)}")
        for table, target in zip(order, stored, strict=True):
            columns = _copied_columns(lite, table)
            text = {
                r["column_name"]
                for r in await pg.fetch(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = $1"
                    " AND data_type = 'text'",
                    target,
                )
            }
            as_text = [i for i, c in enumerate(columns) if c in text]
            cursor = lite.execute(f"SELECT {', '.join(columns)} FROM {table}")
            count = 0
            while rows := cursor.fetchmany(_BATCH):
                if as_text:  # SQLite keeps what it was given: a number in a TEXT column
                    rows = [_texts(row, as_text) for row in rows]
                await pg.copy_records_to_table(target, records=rows, columns=columns)
                count += len(rows)
            copied[table] = count
        for table in stored:
            await pg.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        for row in await pg.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ):
            table, column = row["table_name"], row["column_name"]
            await pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                f" coalesce(max({column}), 0) + 1, false) FROM {table}"
            )
    return copied


def _texts(row: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if values[i] is not None and not isinstance(values[i], str):
            values[i] = str(values[i])
    return tuple(values)


async def _verify_counts(db: PostgresDatabase, copied: dict[str, int]) -> None:
    for table, expected in copied.items():
        found = await db.pool.fetchval(f"SELECT count(*) FROM {table}")
        if found != expected:
            raise MigrateError(f"{table}: {expected} rows in the file, {found} on PostgreSQL")


async def _verify_ratings(db: PostgresDatabase, config: LadderConfig) -> int:
    """Replay the rating log on PostgreSQL (rolled back) and compare with the stored ratings."""
    current = await SeasonRepository().current(db.reader)
    summary = await replay_all(db, config, current.rating_system, dry_run=True)
    if summary.before != summary.after:
        wrong = sorted(k for k in summary.before.keys() | summary.after.keys()
                       if summary.before.get(k) != summary.after.get(k))
        raise MigrateError(
            f"replaying the rating log on PostgreSQL gives other ratings for {len(wrong)} keys,"
            f" e.g. {wrong[:5]}"
        )
    return len(summary.after)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot.py migrate", description="Copy the SQLite database into an empty PostgreSQL."
    )
    parser.add_argument("--to", required=True, help="postgresql://user:pass@host:port/db")
    parser.add_argument("--db", type=Path, help="the SQLite file (default: DATABASE_PATH)")
    return parser


def main(argv: Sequence[str], db_path: Path, config: LadderConfig) -> int:
    """Run `migrate`; 0 copied and verified, 1 refused or failed, 2 usage."""
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    source = Path(args.db or db_path)
    if not args.to.startswith(("postgresql://", "postgres://")):
        print("ladderbot migrate: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    if not source.exists():
        print(f"ladderbot migrate: no database at {source}", file=sys.stderr)
        return 1
    lock = RunningLock(source)
    try:
        lock.acquire("copying the database to PostgreSQL")
    except AlreadyRunningError as exc:
        print(f"ladderbot migrate: {exc}. Nothing was changed.", file=sys.stderr)
        return 1
    try:
        report = asyncio.run(copy_database(source, args.to, config))
    except (MigrateError, OSError, asyncpg.PostgresError, sqlite3.Error, TimeoutError) as exc:
        print(f"ladderbot migrate: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        lock.release()
    print(
        f"Done in {report.seconds:.1f} s: {source} -> {redact(args.to)}. Set DATABASE_URL to it"
        " and start the bot; keep the SQLite file as a backup."
    )
    return 0
