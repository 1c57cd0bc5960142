-- PostgreSQL only (SQLite's 0017 is empty): called_at is computed when read, as on SQLite,
-- instead of being computed and stored for every row the command log writes.
--
-- PostgreSQL 15 has no VIRTUAL generated columns, so 0004 made called_at a STORED one: the
-- command log's COPY computed ms_text(called_ms) and stored 23 more bytes for every row. That
-- was ~2.5-3 µs of the server's ~10 µs a row, and it kept the writer under 100k rows/s
-- (bench/bench_command_log.py --postgres; bench/results/postgres.txt).
--
-- The rows now live in command_call_rows (the same columns, less called_at; the same indexes,
-- which keep their names), and command_calls is a view of it that adds called_at, so every
-- query of command_calls reads as before, `SELECT called_at ... FROM command_calls` included.
-- The view is automatically updatable (one table, plain columns), so INSERT INTO command_calls
-- (every column but called_at) still works; the command log writer COPYs into
-- command_call_rows, since COPY cannot write into a view. Queries through the view use the
-- table's indexes: the planner expands the view in place.
--
-- The three views of 0003/0004 follow the table through its rename (PostgreSQL keeps them
-- bound to the table itself, not its name), so they are left as they are.
-- tests/storage/test_schema_parity.py compares command_call_rows plus the view's called_at
-- with SQLite's command_calls table.
ALTER TABLE command_calls RENAME TO command_call_rows;
ALTER TABLE command_call_rows DROP COLUMN called_at;

CREATE VIEW command_calls AS
SELECT
    id,
    interaction_id,
    called_ms,
    ms_text(called_ms) AS called_at,
    discord_uid,
    player_name,
    command,
    guild_id,
    duration_ms,
    outcome,
    kind
FROM command_call_rows;
