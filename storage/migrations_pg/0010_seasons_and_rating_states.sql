-- PostgreSQL: storage/migrations/0010_seasons_and_rating_states.sql. The season triggers set
-- the column before the row is written (SQLite's update it just after).
ALTER TABLE ratings ADD COLUMN rating DOUBLE PRECISION;
ALTER TABLE ratings ADD COLUMN deviation DOUBLE PRECISION;
ALTER TABLE ratings ADD COLUMN volatility DOUBLE PRECISION;

CREATE TABLE seasons (
    number        BIGINT  PRIMARY KEY,
    name          TEXT    NOT NULL,
    started_at    TEXT    NOT NULL,
    ended_at      TEXT,
    map_pool      TEXT,
    rating_system TEXT    NOT NULL DEFAULT 'elo',
    rating_config TEXT,
    soft_reset    TEXT    NOT NULL DEFAULT 'keep',
    pull_fraction DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX seasons_one_open ON seasons ((ended_at IS NULL)) WHERE ended_at IS NULL;

INSERT INTO seasons (number, name, started_at)
VALUES (1, 'Season 1', COALESCE((SELECT MIN(created_at) FROM matches),
        to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));

ALTER TABLE matches ADD COLUMN season BIGINT REFERENCES seasons (number);
ALTER TABLE rating_log ADD COLUMN season BIGINT REFERENCES seasons (number);
UPDATE matches SET season = 1;
UPDATE rating_log SET season = 1;
CREATE INDEX rating_log_by_season ON rating_log (season, seq);

CREATE FUNCTION matches_season() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.season IS NULL THEN
        NEW.season := (SELECT number FROM seasons WHERE ended_at IS NULL);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER matches_season BEFORE INSERT ON matches
FOR EACH ROW EXECUTE FUNCTION matches_season();

CREATE FUNCTION rating_log_season() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.season IS NULL THEN
        NEW.season := COALESCE(
            (SELECT season FROM matches WHERE id = NEW.match_id),
            (SELECT number FROM seasons WHERE ended_at IS NULL));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER rating_log_season BEFORE INSERT ON rating_log
FOR EACH ROW EXECUTE FUNCTION rating_log_season();

CREATE TABLE season_standings (
    season         BIGINT  NOT NULL REFERENCES seasons (number),
    discord_uid    BIGINT  NOT NULL,
    race           TEXT    NOT NULL,
    mmr            BIGINT  NOT NULL,
    rating         DOUBLE PRECISION NOT NULL,
    deviation      DOUBLE PRECISION NOT NULL,
    volatility     DOUBLE PRECISION NOT NULL,
    games          BIGINT  NOT NULL,
    wins           BIGINT  NOT NULL,
    losses         BIGINT  NOT NULL,
    draws          BIGINT  NOT NULL,
    last_played_at TEXT,
    place          BIGINT,
    rank           TEXT,
    provisional    BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (season, discord_uid, race)
);
CREATE INDEX season_standings_by_place ON season_standings (season, place);
