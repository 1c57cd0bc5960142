-- PostgreSQL: the views and stats indexes of storage/migrations/0003_views.sql.
CREATE INDEX command_calls_by_command_outcome  ON command_calls (command, outcome, called_at);
CREATE INDEX command_calls_by_command_duration ON command_calls (command, duration_ms, called_at);
CREATE INDEX command_calls_by_command_player   ON command_calls (command, discord_uid, called_at);

CREATE VIEW daily_command_usage AS
SELECT
    substr(called_at, 1, 10)             AS day,
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
GROUP BY day, command;

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
        max(called_at)                                     AS last_seen,
        count(*)                                           AS calls_30d,
        sum(called_at >= strftime('%Y-%m-%d %H:%M:%f', (now() - interval '7 days')::text))
                                                           AS calls_7d
    FROM command_calls
    WHERE called_at >= strftime('%Y-%m-%d %H:%M:%f', (now() - interval '30 days')::text)
    GROUP BY discord_uid
)
SELECT
    r.discord_uid,
    coalesce(p.player_name, p.discord_name, (
        SELECT c.player_name FROM command_calls AS c
        WHERE c.discord_uid = r.discord_uid AND c.called_at = r.last_seen
        LIMIT 1
    ))                                                     AS name,
    r.last_seen,
    r.calls_7d,
    r.calls_30d,
    (p.discord_uid IS NOT NULL)::int                       AS has_player,
    coalesce(p.completed_setup, 0)                         AS completed_setup,
    coalesce(p.banned, 0)                                  AS banned
FROM recent AS r
LEFT JOIN players AS p ON p.discord_uid = r.discord_uid;

CREATE VIEW player_overview AS
SELECT
    p.discord_uid,
    p.player_name,
    p.discord_name,
    p.country,
    p.region,
    p.accepted_tos,
    p.completed_setup,
    p.banned,
    p.created_at,
    count(r.race)                   AS races,
    max(r.mmr)                      AS best_mmr,
    coalesce(sum(r.games), 0)       AS games,
    coalesce(sum(r.wins), 0)        AS wins,
    coalesce(sum(r.losses), 0)      AS losses,
    coalesce(sum(r.draws), 0)       AS draws,
    max(r.last_played_at)           AS last_played_at
FROM players AS p
LEFT JOIN ratings AS r ON r.discord_uid = p.discord_uid
GROUP BY p.discord_uid;
