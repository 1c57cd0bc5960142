-- Every component is routed by its custom_id; nothing is kept in memory per message. What a
-- /setup preview and an admin's confirmation question need between clicks is kept here, so
-- their buttons answer correctly after a restart. Both ids are AUTOINCREMENT: an id is never
-- given again, so the buttons of a finished draft or question can never act on a newer one.

-- One /setup draft per player: the names typed in the modal, then the country and region
-- picked on the preview (whose custom_ids carry the id). Deleted on Confirm or Cancel; a new
-- /setup replaces it with a new id; the bot treats one created over an hour ago as expired.
CREATE TABLE setup_drafts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    discord_uid INTEGER NOT NULL UNIQUE REFERENCES players (discord_uid),
    player_name TEXT    NOT NULL,
    battletag   TEXT    NOT NULL,
    alt_names   TEXT    NOT NULL,                     -- JSON array, at most two names
    country     TEXT,                                 -- NULL until picked
    region      TEXT,
    created_at  TEXT    NOT NULL
);

-- An admin action waiting for its Confirm: what was asked and the state the question showed.
-- The first Confirm or Cancel sets `used` (a conditional UPDATE, so a double click acts once);
-- the bot treats one created over two minutes ago as expired.
CREATE TABLE admin_confirmations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_uid  INTEGER NOT NULL,                      -- the only user who may answer it
    action     TEXT    NOT NULL,                      -- 'resolve', 'mmr', 'ban', 'clearqueue'
    arguments  TEXT    NOT NULL,                      -- JSON object: the command's options
    expected   TEXT    NOT NULL,                      -- JSON object: the state the admin saw
    created_at TEXT    NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
);
