-- Several workers share the inbox (PostgreSQL): each update's line (a private chat, a
-- forum topic: the updates that must be handled in order), and who handles it until when.
-- A worker claims the oldest update of a line no one holds (storage.updates.Inbox.claim).
ALTER TABLE inbox ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claimed_until REAL;
ALTER TABLE inbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbox_lines ON inbox (line, update_id);
