-- An optional photo of an agent (an https address), shown to visitors.
ALTER TABLE agents ADD COLUMN photo_url text NOT NULL DEFAULT '';
