-- A customer's message waiting for them to say which of their tickets it is for (they
-- have several open). Kept here rather than in memory, so a restart loses nothing. The
-- messages of one album share one choice: `choice_id` is the id of the album's first row
-- (NULL on that row itself).
CREATE TABLE held_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id     INTEGER NOT NULL REFERENCES users (id),
    choice_id       INTEGER REFERENCES held_messages (id),
    tg_chat_id      INTEGER NOT NULL,
    tg_message_id   INTEGER NOT NULL,
    media_group_id  TEXT,
    body            TEXT    NOT NULL,   -- masked by the fraud guard
    attachment      TEXT,               -- JSON (see Attachment.to_json), or NULL
    created_at      INTEGER NOT NULL
);
CREATE INDEX held_by_customer ON held_messages (customer_id, media_group_id);
CREATE UNIQUE INDEX held_by_telegram ON held_messages (tg_chat_id, tg_message_id);
