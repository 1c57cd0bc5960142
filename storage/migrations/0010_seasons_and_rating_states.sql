-- Seasons, and ratings that know how sure they are (see docs/ratings.md).
--
-- A rating's full state: `mmr` stays the whole number shown and compared (matchmaking, the
-- leaderboard); `rating` is the exact value when it is not a whole number (Glicko-2), and
-- Glicko-2's deviation and volatility sit beside it. NULL means "as a new rating of the
-- system": mmr for rating, the configured start deviation and volatility.
ALTER TABLE ratings ADD COLUMN rating REAL;
ALTER TABLE ratings ADD COLUMN deviation REAL;
ALTER TABLE ratings ADD COLUMN volatility REAL;

-- One row per season; exactly one is open (ended_at NULL): the current season. Everything
-- before this migration is season 1, whose map pool (NULL) is the one in data/ladder.toml.
CREATE TABLE seasons (
    number        INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    ended_at      TEXT,                               -- NULL: the current season
    map_pool      TEXT,                               -- JSON array of map names; NULL: the config's
    rating_system TEXT    NOT NULL DEFAULT 'elo',     -- the system the ratings are computed with
    rating_config TEXT,                               -- JSON: the rating settings in force
    soft_reset    TEXT    NOT NULL DEFAULT 'keep',    -- how this season started from the last
    pull_fraction REAL    NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX seasons_one_open ON seasons ((ended_at IS NULL)) WHERE ended_at IS NULL;

INSERT INTO seasons (number, name, started_at)
VALUES (1, 'Season 1',
        COALESCE((SELECT MIN(created_at) FROM matches), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));

-- A match belongs to the season open when it was created; a rating-log entry to its match's
-- season (an adjustment: the season open when it was made). Set by triggers, so no writer of
-- matches or of the log has to know about seasons.
ALTER TABLE matches ADD COLUMN season INTEGER REFERENCES seasons (number);
ALTER TABLE rating_log ADD COLUMN season INTEGER REFERENCES seasons (number);
UPDATE matches SET season = 1;
UPDATE rating_log SET season = 1;
CREATE INDEX rating_log_by_season ON rating_log (season, seq);

CREATE TRIGGER matches_season AFTER INSERT ON matches WHEN NEW.season IS NULL
BEGIN
    UPDATE matches SET season = (SELECT number FROM seasons WHERE ended_at IS NULL)
    WHERE id = NEW.id;
END;

CREATE TRIGGER rating_log_season AFTER INSERT ON rating_log WHEN NEW.season IS NULL
BEGIN
    UPDATE rating_log SET season = COALESCE(
        (SELECT season FROM matches WHERE id = NEW.match_id),
        (SELECT number FROM seasons WHERE ended_at IS NULL))
    WHERE seq = NEW.seq;
END;

-- The final standings of each ended season: read-only once written, except that a ruling on
-- one of that season's matches rewrites it (the season replayed with the corrected result).
CREATE TABLE season_standings (
    season         INTEGER NOT NULL REFERENCES seasons (number),
    discord_uid    INTEGER NOT NULL,
    race           TEXT    NOT NULL,
    mmr            INTEGER NOT NULL,
    rating         REAL    NOT NULL,
    deviation      REAL    NOT NULL,
    volatility     REAL    NOT NULL,
    games          INTEGER NOT NULL,
    wins           INTEGER NOT NULL,
    losses         INTEGER NOT NULL,
    draws          INTEGER NOT NULL,
    last_played_at TEXT,
    place          INTEGER,                           -- competition place; NULL: unranked
    rank           TEXT,                              -- letter; NULL: unranked
    provisional    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (season, discord_uid, race)
) WITHOUT ROWID;
CREATE INDEX season_standings_by_place ON season_standings (season, place);
