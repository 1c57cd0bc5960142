-- Look-alike names and one player per battletag (hardening issue, defect 1).
--
-- * player_names: every name a player goes by now has two keys, both UTS #39 skeletons
--   (ladder/names.py), and another player may share neither: name_key, the skeleton of the
--   case-folded name, stays the primary key ('Alice', 'ALICE' and 'Аlice' with a Cyrillic А
--   share it); shape_key, the skeleton with case kept, is unique too ('AIice' with a capital I
--   shares it with 'Alice', which case folding would have split into 'aiice' and 'alice').
-- * player_battletags: one row per player with a battletag, keyed by its NFKC casefold. The
--   primary key makes a battletag unique among players (one Battle.net account, one player),
--   also when two players save at the same moment.
-- * key_versions: what computed the stored keys. SQL cannot compute a skeleton, so this
--   migration copies the old keys (NFKC casefold) into both columns, leaves player_battletags
--   empty and records 'nfkc-casefold'. storage/players.py sees that the version is not its
--   own and recomputes every key from the players table in one transaction before it uses
--   one (the same happens when a new ICU changes skeletons). Names or battletags that now
--   clash stay with the player who completed /setup first; the others are logged as warnings
--   and those players must choose again at their next /setup.

CREATE TABLE player_names_new (
    name_key    TEXT    PRIMARY KEY,                   -- skeleton of the NFKC-casefolded name
    shape_key   TEXT    NOT NULL UNIQUE,               -- skeleton of the NFKC name, case kept
    discord_uid INTEGER NOT NULL REFERENCES players (discord_uid) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('main', 'alt'))
) WITHOUT ROWID;
INSERT INTO player_names_new (name_key, shape_key, discord_uid, kind)
SELECT name_key, name_key, discord_uid, kind FROM player_names;
DROP TABLE player_names;
ALTER TABLE player_names_new RENAME TO player_names;
CREATE INDEX player_names_by_player ON player_names (discord_uid);

CREATE TABLE player_battletags (
    battletag_key TEXT    PRIMARY KEY,                 -- NFKC casefold of 'Name#1234'
    discord_uid   INTEGER NOT NULL UNIQUE REFERENCES players (discord_uid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE key_versions (
    keys    TEXT PRIMARY KEY,                          -- 'players': player_names, player_battletags
    version TEXT NOT NULL                              -- ladder.names.KEY_VERSION
) WITHOUT ROWID;
INSERT INTO key_versions (keys, version) VALUES ('players', 'nfkc-casefold');
