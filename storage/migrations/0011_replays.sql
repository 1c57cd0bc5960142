-- Replays players upload with /replay (see docs/replays.md). Each row is one file the bot read:
-- the file itself is kept as <replay folder>/<sha256>.SC2Replay (0600). A file is used once:
-- the same content (sha256) for another match or by another player is refused, not stored.
-- A file that parsed but does not verify is kept too, as evidence with the reason.
CREATE TABLE replays (
    id          INTEGER PRIMARY KEY,
    match_id    INTEGER NOT NULL REFERENCES matches (id),
    uploader    INTEGER NOT NULL,                      -- discord uid of the player who uploaded
    sha256      TEXT    NOT NULL UNIQUE,               -- hex SHA-256 of the file's bytes
    size        INTEGER NOT NULL,                      -- bytes
    facts       TEXT    NOT NULL,                      -- JSON: release, map, game_type, category,
                                                       -- start_time, length_seconds, players
    verdict     TEXT    NOT NULL CHECK (verdict IN ('verified', 'refused')),
    reason      TEXT,                                  -- refused: coop, not_1v1, computer,
                                                       -- no_result, names, map, race, too_early,
                                                       -- too_late; NULL when verified
    result      TEXT CHECK (result IN ('p1_win', 'p2_win', 'draw')),  -- what it proves (verified)
    effect      TEXT,                                  -- evidence, reported, decided, flagged, ...
    uploaded_at TEXT    NOT NULL,
    CHECK ((verdict = 'verified') = (reason IS NULL))
);
CREATE INDEX replays_by_match ON replays (match_id, id);
CREATE INDEX replays_by_time ON replays (uploaded_at);
