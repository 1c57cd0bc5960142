-- command_calls, rebuilt for write throughput: the command log writer must commit well over
-- 150k rows/s (issue #2), and what it cost was index maintenance, not the writer. Measured on
-- 100k rows (bench/README.md, "What changed to get here"): with the six b-trees of 0001 + 0003
-- it committed 22-35k rows/s; with these three and integer time, 126-167k (SQLite's own
-- ceiling on that machine).
--
-- * The time is stored as integer milliseconds since 1970-01-01 UTC (`called_ms`): an index
--   entry of 6 bytes instead of 23 of text. `called_at` stays, as a VIRTUAL generated column
--   (computed when read, never stored or indexed), so `SELECT called_at ...` still shows
--   'YYYY-MM-DD HH:MM:SS.SSS'. Filter on called_ms to use the indexes.
-- * Three indexes, one per question #2 names; inserts into the first two are appends (at the
--   end, or at the end of one command's range), only the per-player one lands at random:
--     by_time    (called_ms)
--     by_command (command, called_ms, outcome, duration_ms, discord_uid): covering, so per
--                command and period every count, duration and player is read from the index
--                alone (python bot.py stats and the views use it; no table lookups);
--     by_player  (discord_uid, called_ms).
--   0003's three (command, outcome|duration_ms|discord_uid, called_at) indexes are gone: each
--   took a random insert per row.
--
-- The views of 0003 name command_calls, so they are dropped first and made again below on
-- called_ms (same columns as before).

DROP VIEW daily_command_usage;
DROP VIEW command_latency;
DROP VIEW active_players;

CREATE TABLE command_calls_new (
    id             INTEGER PRIMARY KEY,
    interaction_id INTEGER,                            -- Discord snowflake; called_ms derives from it
    called_ms      INTEGER NOT NULL,                   -- ms since 1970-01-01 00:00 UTC
    called_at      TEXT GENERATED ALWAYS AS
                       (strftime('%Y-%m-%d %H:%M:%f', called_ms / 1000.0, 'unixepoch')) VIRTUAL,
    discord_uid    INTEGER NOT NULL,
    player_name    TEXT,                               -- player name, else the Discord name
    command        TEXT    NOT NULL,                   -- qualified: 'admin resolve'
    guild_id       INTEGER,                            -- NULL for a DM
    duration_ms    REAL    NOT NULL,
    outcome        TEXT    NOT NULL                    -- ok, rejected, error, cancelled, refused:<guard>
);

-- 'YYYY-MM-DD HH:MM:SS.SSS' -> ms, exact: julianday keeps well under a millisecond of error.
INSERT INTO command_calls_new
    (id, interaction_id, called_ms, discord_uid, player_name, command, guild_id, duration_ms,
     outcome)
SELECT
    id, interaction_id, CAST(round((julianday(called_at) - 2440587.5) * 86400000.0) AS INTEGER),
    discord_uid, player_name, command, guild_id, duration_ms, outcome
FROM command_calls
ORDER BY id;

DROP TABLE command_calls;
ALTER TABLE command_calls_new RENAME TO command_calls;

CREATE INDEX command_calls_by_time    ON command_calls (called_ms);
CREATE INDEX command_calls_by_command ON command_calls (command, called_ms, outcome, duration_ms, discord_uid);
CREATE INDEX command_calls_by_player  ON command_calls (discord_uid, called_ms);

-- Per UTC day and command: calls, distinct players, and the outcome mix.
-- Filter on day as text: WHERE day >= '2026-01-01'.
CREATE VIEW daily_command_usage AS
SELECT
    date(called_ms / 86400000 * 86400, 'unixepoch') AS day,
    command,
    count(*)                             AS calls,
    count(DISTINCT discord_uid)          AS players,
    sum(outcome = 'ok')                  AS ok,
    sum(outcome LIKE 'refused:%')        AS refused,
    sum(outcome = 'rejected')            AS rejected,
    sum(outcome = 'error')               AS errors,
    sum(outcome = 'cancelled')           AS cancelled,
    round(avg(duration_ms), 1)           AS avg_ms
FROM command_calls
GROUP BY called_ms / 86400000, command;

-- Per command over all time: calls and nearest-rank percentiles of duration_ms (the value at
-- rank ceil(p/100 * calls) in ascending order), plus the maximum. Every row is read and sorted
-- per command: for a period of a big table, `python bot.py stats` is much faster.
CREATE VIEW command_latency AS
WITH ranked AS (
    SELECT
        command,
        duration_ms,
        row_number() OVER by_duration AS position,
        count(*) OVER (by_duration ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            AS calls
    FROM command_calls
    WINDOW by_duration AS (PARTITION BY command ORDER BY duration_ms)
)
SELECT
    command,
    calls,
    max(CASE WHEN position = (50 * calls + 99) / 100 THEN duration_ms END) AS p50_ms,
    max(CASE WHEN position = (95 * calls + 99) / 100 THEN duration_ms END) AS p95_ms,
    max(CASE WHEN position = (99 * calls + 99) / 100 THEN duration_ms END) AS p99_ms,
    max(duration_ms)                                                       AS max_ms
FROM ranked
-- Only the ranked rows that are wanted reach the GROUP BY.
WHERE position IN (
    (50 * calls + 99) / 100, (95 * calls + 99) / 100, (99 * calls + 99) / 100, calls
)
GROUP BY command;

-- Every user who ran a command in the last 30 days (relative to the moment of the query), with
-- their last command and how many they ran in the last 7 and 30 days. Active in the last week:
-- WHERE calls_7d > 0. name is the player name, else the Discord name.
CREATE VIEW active_players AS
WITH recent AS (
    SELECT
        discord_uid,
        max(called_ms)                                     AS last_ms,
        count(*)                                           AS calls_30d,
        sum(called_ms >= CAST(strftime('%s', 'now', '-7 days') AS INTEGER) * 1000) AS calls_7d
    FROM command_calls
    WHERE called_ms >= CAST(strftime('%s', 'now', '-30 days') AS INTEGER) * 1000
    GROUP BY discord_uid
)
SELECT
    r.discord_uid,
    coalesce(p.player_name, p.discord_name, (
        SELECT c.player_name FROM command_calls AS c
        WHERE c.discord_uid = r.discord_uid AND c.called_ms = r.last_ms
        LIMIT 1
    ))                                                     AS name,
    strftime('%Y-%m-%d %H:%M:%f', r.last_ms / 1000.0, 'unixepoch') AS last_seen,
    r.calls_7d,
    r.calls_30d,
    p.discord_uid IS NOT NULL                              AS has_player,
    coalesce(p.completed_setup, 0)                         AS completed_setup,
    coalesce(p.banned, 0)                                  AS banned
FROM recent AS r
LEFT JOIN players AS p ON p.discord_uid = r.discord_uid;
