-- PostgreSQL only (SQLite's 0016 is empty): SUM over a comparison, which the repositories' SQL
-- takes from SQLite (whose booleans are integers), runs 3-4x faster.
--
-- 0001 made sum(BOOLEAN) an aggregate whose transition function is a SQL function. The
-- planner never inlines an aggregate's transition function, so every row paid a call of the
-- SQL-function executor: 3.0-4.3 µs a row here, against 0.85-1.1 µs for the same body in
-- PL/pgSQL (SELECT sum(x % 3 = 0) over a million rows). /profile's match query takes twelve
-- such sums over the player's finished matches (W/L/D overall and per window), so on a player
-- with 38 matches the sums alone took 1.3 of the query's 1.7 ms, and /profile was several
-- times slower on PostgreSQL than on SQLite (bench/results/postgres.txt). Same result, same
-- NULL handling (STRICT: a NULL comparison is skipped, as SQLite's SUM skips it).
CREATE OR REPLACE FUNCTION ladder_bool_sum(total BIGINT, value BOOLEAN) RETURNS BIGINT
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    RETURN total + value::int;
END
$$;
