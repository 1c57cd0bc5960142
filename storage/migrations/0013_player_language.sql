-- The language a player chose with /language (one of i18n.LOCALES); NULL follows the language
-- of their Discord client.
ALTER TABLE players ADD COLUMN language TEXT;
