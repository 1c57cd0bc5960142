-- Queue notifications (/notify) and the live queue board.

-- What a player chose with /notify. races/regions: JSON arrays of codes, [] = all of them.
-- quiet_start/quiet_end: 'HH:MM' on the player's wall clock in time_zone (IANA), or NULL.
CREATE TABLE notify_settings (
    discord_uid INTEGER PRIMARY KEY REFERENCES players (discord_uid),
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    races       TEXT    NOT NULL DEFAULT '[]',
    regions     TEXT    NOT NULL DEFAULT '[]',
    quiet_start TEXT,
    quiet_end   TEXT,
    time_zone   TEXT    NOT NULL DEFAULT 'UTC',
    updated_at  TEXT    NOT NULL
);

-- Every notification: queued when decided, then sent, dropped (stale: the waiting player left
-- or was matched, or it waited too long) or failed. Only counts and codes: the waiting player
-- is kept (about_uid) for the stale check and never shown.
CREATE TABLE notifications_sent (
    id          INTEGER PRIMARY KEY,
    discord_uid INTEGER NOT NULL,
    about_uid   INTEGER NOT NULL,
    race        TEXT    NOT NULL,
    region      TEXT,
    created_at  TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('queued', 'sent', 'dropped', 'failed')),
    finished_at TEXT
);
CREATE INDEX notifications_sent_by_player ON notifications_sent (discord_uid, created_at);

-- The live queue board: the one message in QUEUE_CHANNEL_ID, kept across restarts.
CREATE TABLE queue_board (
    channel_id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    shown      TEXT    NOT NULL DEFAULT ''            -- what it shows, to edit only on change
);
