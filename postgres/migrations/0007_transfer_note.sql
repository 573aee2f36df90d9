-- The note the agent who last transferred a chat left for the colleague
-- who takes it; agents only.
ALTER TABLE chats ADD COLUMN transfer_note text NOT NULL DEFAULT '';
