-- An optional photo of an agent (an https address), shown to visitors.
ALTER TABLE agents ADD COLUMN photo_url TEXT NOT NULL DEFAULT '';
