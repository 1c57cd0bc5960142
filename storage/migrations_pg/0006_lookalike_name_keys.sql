-- PostgreSQL: storage/migrations/0006_lookalike_name_keys.sql (same keys, same key_versions
-- row: storage/players.py recomputes the keys before it first uses one).
ALTER TABLE player_names ADD COLUMN shape_key TEXT;
UPDATE player_names SET shape_key = name_key;
ALTER TABLE player_names ALTER COLUMN shape_key SET NOT NULL;
ALTER TABLE player_names ADD UNIQUE (shape_key);

CREATE TABLE player_battletags (
    battletag_key TEXT    PRIMARY KEY,
    discord_uid   BIGINT  NOT NULL UNIQUE REFERENCES players (discord_uid) ON DELETE CASCADE
);

CREATE TABLE key_versions (
    keys    TEXT PRIMARY KEY,
    version TEXT NOT NULL
);
INSERT INTO key_versions (keys, version) VALUES ('players', 'nfkc-casefold');
