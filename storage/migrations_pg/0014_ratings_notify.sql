-- PostgreSQL only (SQLite's 0014 is empty: one process owns an SQLite file). Every statement
-- that writes ratings rows tells the other bot processes on this database which ones, on
-- channel ladder_ratings (storage.ratings.RATINGS_CHANNEL), inside the writing transaction:
-- PostgreSQL delivers it when the transaction commits, never on a rollback. The payload is a
-- JSON array of [discord_uid, race] keys, or '*' when a statement wrote more than 100 rows (a
-- season start, a replay of the rating log): then every process reads all ratings again. A
-- trigger, not the repositories, so that no path that writes ratings can forget to tell.
CREATE FUNCTION ratings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    keys text;
BEGIN
    SELECT count(*), json_agg(json_build_array(discord_uid, race))::text INTO n, keys
      FROM (SELECT discord_uid, race FROM changed LIMIT 101) AS k;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > 100 OR length(keys) > 7000 THEN  -- a payload holds at most 8000 bytes
        keys := '*';
    END IF;
    PERFORM pg_notify('ladder_ratings', keys);
    RETURN NULL;
END
$$;
CREATE TRIGGER ratings_notify_insert AFTER INSERT ON ratings
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ratings_notify();
CREATE TRIGGER ratings_notify_update AFTER UPDATE ON ratings
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ratings_notify();
