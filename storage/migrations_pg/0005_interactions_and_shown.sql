-- PostgreSQL: storage/migrations/0005_interactions_and_shown.sql.
ALTER TABLE command_calls ADD COLUMN kind TEXT NOT NULL DEFAULT 'slash';
ALTER TABLE match_messages ADD COLUMN shown TEXT;
