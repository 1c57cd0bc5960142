-- Every interaction is logged, not only slash commands (hardening issue, defect 3).
--
-- * command_calls.kind: 'slash', 'component' (a button or select), 'modal' (a modal submit) or
--   'autocomplete'. For a component or modal, `command` holds its route ('match:report',
--   'queue_view:join'), never the raw custom_id (which carries ids). Rows written before this
--   migration were all slash commands. ADD COLUMN with a constant default rewrites nothing.
-- * match_messages.shown: a digest of what the message last showed, written after Discord
--   accepted the edit. An edit that would show the same thing is skipped (no REST call from the
--   bot's shared rate limit), and at start every open match's message whose digest differs
--   from what SQLite says now (an edit lost to a stop or a crash) is rendered again.
ALTER TABLE command_calls ADD COLUMN kind TEXT NOT NULL DEFAULT 'slash';
ALTER TABLE match_messages ADD COLUMN shown TEXT;
