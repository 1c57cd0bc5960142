"""The command log on PostgreSQL: `CommandLogWriter`'s contract, each batch written with COPY.

Everything but the write itself is `CommandLogWriter`'s (storage/command_log.py): the bounded
queue, `record`, the one writer task, the batching, drain on `close()`, retries with backoff,
the counters (dropped, rejected, lost) and their log lines. Only the two methods that talk to the
database differ: a batch goes to `command_calls` in one `COPY` (asyncpg's
`copy_records_to_table`), on a pooled connection of its own, so the log never waits for the
ladder's write transactions (it touches no table they write).

COPY cannot compute a column, so `called_ms` is computed here from the interaction's snowflake
(or now), where SQLite computes it in its INSERT. On PostgreSQL `command_calls` is a view that
computes `called_at` when read (migration 0017), so COPY writes its table, `command_call_rows`.

Speed (bench/bench_command_log.py --postgres; bench/results/postgres.txt): the writer reaches
~0.9 of a bare COPY of ready-made records, so what limits it is the server's work per row,
the row itself ~3.5 µs of CPU here and the two B-trees the stats read (by_command, by_player)
most of the rest; by_time is a BRIN index (migration 0015), and `called_at` is no longer
computed and stored for every row (0017: that was ~2.5-3 µs of it). Committing without waiting
for the WAL flush, or COPY into a staging table then INSERT ... SELECT, measured no faster: a
batch of thousands of rows pays one flush.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from storage.command_log import CommandLogWriter, CommandRow
from storage.postgres import ROWS_TABLE, PostgresDatabase, sqlite_error

COLUMNS = (
    "interaction_id",
    "called_ms",
    "discord_uid",
    "player_name",
    "command",
    "guild_id",
    "duration_ms",
    "outcome",
    "kind",
)
_DISCORD_EPOCH_MS = 1420070400000
_TABLE = ROWS_TABLE["command_calls"]  # COPY cannot write into the view command_calls


def copy_record(row: CommandRow) -> tuple[Any, ...]:
    """A queued row as COPY takes it: `called_ms` from the snowflake, else the time now."""
    interaction_id, uid, name, command, guild_id, duration_ms, outcome, kind = row
    if interaction_id is not None:
        called_ms = (interaction_id >> 22) + _DISCORD_EPOCH_MS
    else:
        called_ms = time.time_ns() // 1_000_000
    return (interaction_id, called_ms, uid, name, command, guild_id, duration_ms, outcome, kind)


class PostgresCommandLogWriter(CommandLogWriter):
    """`CommandLogWriter` whose batches are written to PostgreSQL with COPY."""

    def __init__(self, db: PostgresDatabase, **options: Any) -> None:
        super().__init__(db, **options)
        self._pg = db

    async def _insert(self, batch: list[CommandRow]) -> None:
        await self._copy(batch)

    async def _insert_row_by_row(
        self, batch: list[CommandRow]
    ) -> list[tuple[CommandRow, Exception]]:
        """Copy the rows one at a time; return the refused ones and their errors.

        Only after a batch was refused as invalid (rare: a bug upstream), so one round trip per
        row is fine. A failure that is not about the row (the server gone) is raised: the batch
        is then retried whole, as any failed batch.
        """
        rejected: list[tuple[CommandRow, Exception]] = []
        for row in batch:
            try:
                await self._copy([row])
            except _ROW_ERRORS as exc:
                rejected.append((row, exc))
        return rejected

    async def _copy(self, rows: Sequence[CommandRow]) -> None:
        records = [copy_record(row) for row in rows]
        try:
            async with self._pg.connection() as conn:
                await conn.copy_records_to_table(_TABLE, records=records, columns=COLUMNS)
        except (ValueError, TypeError, OverflowError):  # a value COPY cannot encode: the row's
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise sqlite_error(exc) from exc


# What `_copy` raises for a bad row (as CommandLogWriter's own list, for the row-by-row pass).
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, ValueError, TypeError, OverflowError)
