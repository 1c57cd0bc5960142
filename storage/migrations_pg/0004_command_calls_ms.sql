-- PostgreSQL: command_calls on integer milliseconds, as storage/migrations/0004_command_calls_ms.sql.
-- called_at stays as a generated column; PostgreSQL 15 has only STORED ones (computed on write).
DROP VIEW daily_command_usage;
DROP VIEW command_latency;
DROP VIEW active_players;
DROP INDEX command_calls_by_time, command_calls_by_command, command_calls_by_player,
    command_calls_by_command_outcome, command_calls_by_command_duration,
    command_calls_by_command_player;

ALTER TABLE command_calls ADD COLUMN called_ms BIGINT;
UPDATE command_calls
SET called_ms = round(extract(epoch FROM called_at::timestamp) * 1000)::bigint;
ALTER TABLE command_calls ALTER COLUMN called_ms SET NOT NULL;
ALTER TABLE command_calls DROP COLUMN called_at;
ALTER TABLE command_calls ADD COLUMN called_at TEXT GENERATED ALWAYS AS (ms_text(called_ms)) STORED;

CREATE INDEX command_calls_by_time    ON command_calls (called_ms);
CREATE INDEX command_calls_by_command ON command_calls (command, called_ms, outcome, duration_ms, discord_uid);
CREATE INDEX command_calls_by_player  ON command_calls (discord_uid, called_ms);

CREATE VIEW daily_command_usage AS
SELECT
    to_char(to_timestamp(called_ms / 86400000 * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
    command,
    count(*)                             AS calls,
    count(DISTINCT discord_uid)          AS players,
    sum(outcome = 'ok')                  AS ok,
    sum(outcome LIKE 'refused:%')        AS refused,
    sum(outcome = 'rejected')            AS rejected,
    sum(outcome = 'error')               AS errors,
    sum(outcome = 'cancelled')           AS cancelled,
    round(avg(duration_ms)::numeric, 1)  AS avg_ms
FROM command_calls
GROUP BY called_ms / 86400000, command;

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
    max(calls)                                                             AS calls,
    max(CASE WHEN position = (50 * calls + 99) / 100 THEN duration_ms END) AS p50_ms,
    max(CASE WHEN position = (95 * calls + 99) / 100 THEN duration_ms END) AS p95_ms,
    max(CASE WHEN position = (99 * calls + 99) / 100 THEN duration_ms END) AS p99_ms,
    max(duration_ms)                                                       AS max_ms
FROM ranked
WHERE position IN (
    (50 * calls + 99) / 100, (95 * calls + 99) / 100, (99 * calls + 99) / 100, calls
)
GROUP BY command;

CREATE VIEW active_players AS
WITH recent AS (
    SELECT
        discord_uid,
        max(called_ms)                                     AS last_ms,
        count(*)                                           AS calls_30d,
        sum(called_ms >= floor(extract(epoch FROM now() - interval '7 days'))::bigint * 1000)
                                                           AS calls_7d
    FROM command_calls
    WHERE called_ms >= floor(extract(epoch FROM now() - interval '30 days'))::bigint * 1000
    GROUP BY discord_uid
)
SELECT
    r.discord_uid,
    coalesce(p.player_name, p.discord_name, (
        SELECT c.player_name FROM command_calls AS c
        WHERE c.discord_uid = r.discord_uid AND c.called_ms = r.last_ms
        LIMIT 1
    ))                                                     AS name,
    ms_text(r.last_ms)                                     AS last_seen,
    r.calls_7d,
    r.calls_30d,
    (p.discord_uid IS NOT NULL)::int                       AS has_player,
    coalesce(p.completed_setup, 0)                         AS completed_setup,
    coalesce(p.banned, 0)                                  AS banned
FROM recent AS r
LEFT JOIN players AS p ON p.discord_uid = r.discord_uid;
