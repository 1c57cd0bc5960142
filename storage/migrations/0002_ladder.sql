-- The ladder: ratings per (player, race), the queue, matches and their reports, the rating log,
-- aborts, disputes with evidence, and what admins did. Everything a restart must not lose.

-- One MMR per (player, race). W/L/D and last_played_at are kept with it for the leaderboard.
CREATE TABLE ratings (
    discord_uid    INTEGER NOT NULL REFERENCES players (discord_uid),
    race           TEXT    NOT NULL,                  -- a race code from data/ladder.toml
    mmr            INTEGER NOT NULL,
    games          INTEGER NOT NULL DEFAULT 0,
    wins           INTEGER NOT NULL DEFAULT 0,
    losses         INTEGER NOT NULL DEFAULT 0,
    draws          INTEGER NOT NULL DEFAULT 0,
    last_played_at TEXT,
    PRIMARY KEY (discord_uid, race)
) WITHOUT ROWID;
CREATE INDEX ratings_by_mmr      ON ratings (mmr DESC, discord_uid, race);
CREATE INDEX ratings_by_race_mmr ON ratings (race, mmr DESC, discord_uid);

-- What a player chose last time in /queue, offered again next time.
CREATE TABLE queue_preferences (
    discord_uid INTEGER PRIMARY KEY REFERENCES players (discord_uid),
    races       TEXT    NOT NULL,                     -- JSON array of race codes
    vetoes      TEXT    NOT NULL,                     -- JSON array of map names
    updated_at  TEXT    NOT NULL
);

-- Who is waiting for a match right now. A row leaves when matched or cancelled.
CREATE TABLE queue_entries (
    discord_uid  INTEGER PRIMARY KEY REFERENCES players (discord_uid),
    races        TEXT    NOT NULL,                    -- JSON array of race codes
    vetoes       TEXT    NOT NULL,                    -- JSON array of map names
    joined_at    TEXT    NOT NULL,
    waves_waited INTEGER NOT NULL DEFAULT 0,
    channel_id   INTEGER,                             -- the queue message, updated with the time waited
    message_id   INTEGER
);

CREATE TABLE matches (
    id                   INTEGER PRIMARY KEY,
    status               TEXT    NOT NULL CHECK (status IN ('awaiting_confirmation', 'in_progress',
                             'finished', 'disputed', 'cancelled', 'aborted', 'invalidated')),
    player1_uid          INTEGER NOT NULL REFERENCES players (discord_uid),
    player1_race         TEXT    NOT NULL,
    player1_mmr          INTEGER NOT NULL,            -- player 1's rating before the match
    player2_uid          INTEGER NOT NULL REFERENCES players (discord_uid),
    player2_race         TEXT    NOT NULL,
    player2_mmr          INTEGER NOT NULL,
    map                  TEXT    NOT NULL,
    created_at           TEXT    NOT NULL,
    confirm_deadline     TEXT    NOT NULL,
    player1_confirmed_at TEXT,
    player2_confirmed_at TEXT,
    started_at           TEXT,                        -- both confirmed
    report_deadline      TEXT,
    player1_report       TEXT CHECK (player1_report IN ('win', 'loss', 'draw')),
    player1_reported_at  TEXT,
    player2_report       TEXT CHECK (player2_report IN ('win', 'loss', 'draw')),
    player2_reported_at  TEXT,
    result               TEXT CHECK (result IN ('p1_win', 'p2_win', 'draw')),
    decided_by           TEXT,                        -- agreement, single_report, no_reports, admin
    mmr_change           INTEGER,                     -- player 1's gain (player 2 lost as much)
    ended_at             TEXT,
    aborted_by           INTEGER,
    no_shows             TEXT,                        -- JSON array of uids who did not confirm
    CHECK (player1_uid <> player2_uid)
);
CREATE INDEX matches_by_player1 ON matches (player1_uid, id);
CREATE INDEX matches_by_player2 ON matches (player2_uid, id);
CREATE INDEX matches_open ON matches (status)
    WHERE status IN ('awaiting_confirmation', 'in_progress', 'disputed');

-- The DM that shows a match to each player: edited as the match moves on.
CREATE TABLE match_messages (
    match_id    INTEGER NOT NULL REFERENCES matches (id),
    discord_uid INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (match_id, discord_uid)
) WITHOUT ROWID;

-- What admins did: every /admin action, with its reason.
CREATE TABLE admin_actions (
    id         INTEGER PRIMARY KEY,
    admin_uid  INTEGER NOT NULL,
    action     TEXT    NOT NULL,                      -- resolve_match, adjust_mmr, ban, unban, ...
    target     TEXT,                                  -- 'player:<uid>', 'match:<id>', 'queue'
    details    TEXT,                                  -- JSON
    reason     TEXT,
    created_at TEXT    NOT NULL
);
CREATE INDEX admin_actions_by_time ON admin_actions (created_at);

-- The ordered log that ratings are a pure function of: finalised matches and admin MMR
-- adjustments, in the order they happened. A correction keeps its match's place (seq) and the
-- ratings are replayed from there.
CREATE TABLE rating_log (
    seq             INTEGER PRIMARY KEY,
    match_id        INTEGER UNIQUE REFERENCES matches (id),
    discord_uid     INTEGER,                          -- an adjustment's player and race
    race            TEXT,
    adjustment      TEXT CHECK (adjustment IN ('set', 'add')),
    amount          INTEGER,
    admin_action_id INTEGER REFERENCES admin_actions (id),
    CHECK ((match_id IS NULL) = (adjustment IS NOT NULL))
);

-- Aborts spent per player per UTC calendar month ('YYYY-MM'); the allowance refills monthly.
CREATE TABLE aborts (
    discord_uid INTEGER NOT NULL,
    month       TEXT    NOT NULL,
    used        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (discord_uid, month)
) WITHOUT ROWID;

CREATE TABLE disputes (
    id             INTEGER PRIMARY KEY,
    match_id       INTEGER NOT NULL UNIQUE REFERENCES matches (id),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'resolved')),
    player1_report TEXT,
    player2_report TEXT,
    opened_at      TEXT    NOT NULL,
    ruling         TEXT CHECK (ruling IN ('p1_win', 'p2_win', 'draw', 'invalidate')),
    ruled_by       INTEGER,
    ruled_at       TEXT,
    reason         TEXT
);
CREATE INDEX disputes_by_status ON disputes (status, opened_at);

-- What each player brings to a dispute: a note and a link or attachment URL.
CREATE TABLE dispute_evidence (
    id          INTEGER PRIMARY KEY,
    dispute_id  INTEGER NOT NULL REFERENCES disputes (id),
    discord_uid INTEGER NOT NULL,
    note        TEXT,
    url         TEXT,
    added_at    TEXT    NOT NULL
);
CREATE INDEX dispute_evidence_by_dispute ON dispute_evidence (dispute_id);
