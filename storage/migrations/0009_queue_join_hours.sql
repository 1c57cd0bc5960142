-- Queue joins per UTC hour, for the website's activity page ("when do people queue?").
--
-- A queue entry is deleted when its player is matched or leaves, so the joins themselves are
-- not kept anywhere else (command_calls has them, but is never shown publicly). A trigger
-- counts each new queue entry into its hour here: one small upsert in the queue's own
-- transaction, no service changed, and only counts: no player, no id. Joins from before this
-- migration are not counted.
CREATE TABLE queue_join_hours (
    hour  INTEGER PRIMARY KEY,                       -- hours since 1970-01-01 00:00 UTC
    joins INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER queue_join_hours_count AFTER INSERT ON queue_entries
BEGIN
    INSERT INTO queue_join_hours (hour, joins)
    VALUES (CAST(strftime('%s', NEW.joined_at) AS INTEGER) / 3600, 1)
    ON CONFLICT (hour) DO UPDATE SET joins = joins + 1;
END;
