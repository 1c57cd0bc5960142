-- The host dashboard's login without passwords. `/admin web` gives an admin a one-time link;
-- only the SHA-256 of its token is kept, so a copy of the database (a backup) holds no link
-- that works. The first use sets `used_at` (a conditional UPDATE, so two clicks at once log in
-- once); the bot treats a link created over ten minutes ago as expired and removes rows older
-- than a day when it makes a new one.
CREATE TABLE web_logins (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT    NOT NULL UNIQUE,               -- hex SHA-256 of the link's token
    admin_uid  INTEGER NOT NULL,                      -- who asked: the session is theirs
    created_at TEXT    NOT NULL,
    used_at    TEXT                                   -- NULL until the link is used
);

-- Secrets the website keeps across restarts, made once: 'session' signs the session cookie.
-- Deleting that row logs every browser out (a new one is made at the next login).
CREATE TABLE web_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at TEXT    NOT NULL
);
