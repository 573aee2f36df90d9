-- Agents from the company directory and presence sources: a phone number
-- or extension (how a phone system names the agent), the reason a source
-- set the agent away, the sources' last reports, a calendar feed, the
-- directory entry the agent signs in with, and a disabled flag.
ALTER TABLE agents ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN presence_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN on_call INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN in_meeting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN calendar_url TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN directory_dn TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
