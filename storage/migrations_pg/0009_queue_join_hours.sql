-- PostgreSQL: storage/migrations/0009_queue_join_hours.sql, the trigger in PL/pgSQL.
CREATE TABLE queue_join_hours (
    hour  BIGINT PRIMARY KEY,
    joins BIGINT NOT NULL
);

CREATE FUNCTION queue_join_hours_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_join_hours AS q (hour, joins)
    VALUES (floor(extract(epoch FROM NEW.joined_at::timestamp))::bigint / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET joins = q.joins + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER queue_join_hours_count AFTER INSERT ON queue_entries
FOR EACH ROW EXECUTE FUNCTION queue_join_hours_count();
