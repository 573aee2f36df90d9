-- Agents from the company directory and presence sources: a phone number
-- or extension (how a phone system names the agent), the reason a source
-- set the agent away, the sources' last reports, a calendar feed, the
-- directory entry the agent signs in with, and a disabled flag.
ALTER TABLE agents ADD COLUMN phone text NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN presence_reason text NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN on_call boolean NOT NULL DEFAULT false;
ALTER TABLE agents ADD COLUMN in_meeting boolean NOT NULL DEFAULT false;
ALTER TABLE agents ADD COLUMN calendar_url text NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN directory_dn text NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN disabled boolean NOT NULL DEFAULT false;
