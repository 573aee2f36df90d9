-- How a group distributes its chats (strategy, wrap-up, auto-accept,
-- opening hours and holidays), as the JSON of parley.GroupRouting.
ALTER TABLE groups ADD COLUMN routing jsonb NOT NULL DEFAULT '{}';
