-- Core schema: players, what changed on them, and one row per application command.
-- All *_at columns are UTC text 'YYYY-MM-DD HH:MM:SS.SSS', readable and comparable in sqlite3.

CREATE TABLE players (
    discord_uid        INTEGER PRIMARY KEY,            -- the Discord user id
    discord_name       TEXT    NOT NULL,               -- Discord username when last seen
    player_name        TEXT,                           -- chosen in /setup
    battletag          TEXT,
    alt_name_1         TEXT,
    alt_name_2         TEXT,
    country            TEXT,                           -- ISO 3166-1 alpha-2
    region             TEXT,                           -- a region code from data/ladder.toml
    accepted_tos       INTEGER NOT NULL DEFAULT 0 CHECK (accepted_tos IN (0, 1)),
    accepted_tos_at    TEXT,                           -- when the last decision was made
    completed_setup    INTEGER NOT NULL DEFAULT 0 CHECK (completed_setup IN (0, 1)),
    completed_setup_at TEXT,
    banned             INTEGER NOT NULL DEFAULT 0 CHECK (banned IN (0, 1)),
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL
);

-- Every name a player goes by (main and alts), folded for comparison: the primary key makes
-- names unique among all players, case-insensitively, whatever the script.
CREATE TABLE player_names (
    name_key    TEXT    PRIMARY KEY,                   -- casefolded NFKC form of the name
    discord_uid INTEGER NOT NULL REFERENCES players (discord_uid) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('main', 'alt'))
) WITHOUT ROWID;
CREATE INDEX player_names_by_player ON player_names (discord_uid);

-- Which setting of a player changed, from what to what, by whom (the player or an admin).
CREATE TABLE player_action_logs (
    id          INTEGER PRIMARY KEY,
    discord_uid INTEGER NOT NULL,
    setting     TEXT    NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    changed_by  INTEGER NOT NULL,
    changed_at  TEXT    NOT NULL
);
CREATE INDEX player_action_logs_by_player ON player_action_logs (discord_uid, changed_at);

-- One row per application command, written in batches by the command log writer.
CREATE TABLE command_calls (
    id             INTEGER PRIMARY KEY,
    interaction_id INTEGER,                            -- Discord snowflake; called_at derives from it
    called_at      TEXT    NOT NULL,
    discord_uid    INTEGER NOT NULL,
    player_name    TEXT,                               -- player name, else the Discord name
    command        TEXT    NOT NULL,                   -- qualified: 'admin resolve'
    guild_id       INTEGER,                            -- NULL for a DM
    duration_ms    REAL    NOT NULL,
    outcome        TEXT    NOT NULL                    -- ok, rejected, error, cancelled, refused:<guard>
);
CREATE INDEX command_calls_by_time    ON command_calls (called_at);
CREATE INDEX command_calls_by_command ON command_calls (command, called_at);
CREATE INDEX command_calls_by_player  ON command_calls (discord_uid, called_at);
