"""The command log on PostgreSQL: `CommandLogWriter`'s contract, each batch written with COPY.

Everything but the write itself is `CommandLogWriter`'s (storage/command_log.py): the bounded
queue, the one writer task, the batching, drain on `close()`, retries with backoff, the
counters (dropped, rejected, lost) and their log lines. What differs: a batch goes to
`command_calls` in one `COPY` (asyncpg's `copy_records_to_table`), on a pooled connection of
its own, so the log never waits for the ladder's write transactions (it touches no table they
write); up to MAX_IN_FLIGHT batches are written at once; and `record` queues each row in
COPY's own shape.

COPY cannot compute a column, so `called_ms` is computed by `record` from the interaction's
snowflake (or the time of the call), where SQLite computes it in its INSERT: the writer hands
the queued tuples to asyncpg as they are, with no pass over the batch first. On PostgreSQL
`command_calls` is a view that computes `called_at` when read (migration 0017), so COPY writes
its table, `command_call_rows`.

Speed (bench/bench_command_log.py --postgres; bench/results/postgres.txt): the server's work per
row is most of the cost, ~3.5 µs of CPU the row itself and the two B-trees the stats read
(by_command, by_player) most of the rest. One batch at a time kept one server process busy at
most, and left it idle while the writer waited for each commit's WAL flush and made the next
batch; two in flight, each its own COPY and transaction on its own pooled connection (two of the
pool's ten, only while a backlog lasts), roughly doubled the rate at which a backlog is written
(~100-140k -> ~200k rows/s on the 2-core bench machine; end to end, with the bench's 50
producer tasks on the same cores, ~80-98k -> ~110-125k). Committing without waiting for the WAL
flush, or COPY into a staging table then INSERT ... SELECT, measured no faster.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any, cast

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

# A queued row on PostgreSQL: COPY's record, in COLUMNS' order (CommandRow plus called_ms).
CopyRecord = tuple[Any, ...]
# Batches being written at once, each on a pooled connection of its own (see the docstring).
MAX_IN_FLIGHT = 2


def copy_record(row: CommandRow) -> CopyRecord:
    """A row in `record`'s order as COPY takes it: `called_ms` from the snowflake, else now."""
    interaction_id, uid, name, command, guild_id, duration_ms, outcome, kind = row
    if interaction_id is not None:
        called_ms = (interaction_id >> 22) + _DISCORD_EPOCH_MS
    else:
        called_ms = time.time_ns() // 1_000_000
    return (interaction_id, called_ms, uid, name, command, guild_id, duration_ms, outcome, kind)


class PostgresCommandLogWriter(CommandLogWriter):
    """`CommandLogWriter` whose batches are written to PostgreSQL with COPY."""

    def __init__(self, db: PostgresDatabase, **options: Any) -> None:
        options.setdefault("max_in_flight", MAX_IN_FLIGHT)
        super().__init__(db, **options)
        self._pg = db

    def record(
        self,
        interaction_id: int | None,
        discord_uid: int,
        player_name: str | None,
        command: str,
        guild_id: int | None,
        duration_ms: float,
        outcome: str,
        kind: str = "slash",
    ) -> None:
        """Queue one interaction's row as COPY takes it. O(1), never blocks, never raises."""
        queue = self._queue
        if len(queue) < self._limit:
            if interaction_id is None:
                called_ms: int | None = time.time_ns() // 1_000_000
            else:
                try:
                    called_ms = (interaction_id >> 22) + _DISCORD_EPOCH_MS
                except TypeError:  # not a snowflake: COPY refuses the row (counted as rejected)
                    called_ms = None
            queue.append(
                (  # type: ignore[arg-type]  # the queue holds CopyRecords here (see _copy)
                    interaction_id,
                    called_ms,
                    discord_uid,
                    player_name,
                    command,
                    guild_id,
                    duration_ms,
                    outcome,
                    kind,
                )
            )
            if len(queue) == self._batch_size:
                self._wake.set()
        else:
            self._dropped += 1
            self._report_drop()

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
        records = cast(Sequence[CopyRecord], rows)  # queued by record() in COPY's shape
        try:
            async with self._pg.connection() as conn:
                await conn.copy_records_to_table(_TABLE, records=records, columns=COLUMNS)
        except (ValueError, TypeError, OverflowError):  # a value COPY cannot encode: the row's
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            raise sqlite_error(exc) from exc


# What `_copy` raises for a bad row (as CommandLogWriter's own list, for the row-by-row pass).
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, ValueError, TypeError, OverflowError)
