-- WhatsApp (bot/channels/whatsapp/). Its customers are users with a negative id: their
-- number negated (bot/domain/channels.py), so every other table serves them unchanged.

-- Each inbound message once, by its wamid (the Cloud API redelivers webhooks). A row is
-- handled as the update with id -id (processed_updates), exactly as a Telegram update is.
CREATE TABLE wa_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wamid TEXT NOT NULL UNIQUE,
    wa_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    handled_at INTEGER
);
CREATE INDEX wa_inbox_unhandled ON wa_inbox (id) WHERE handled_at IS NULL;

-- When each customer last wrote: the 24-hour customer-service window opens then.
CREATE TABLE wa_contacts (
    wa_id TEXT PRIMARY KEY,
    last_inbound_at INTEGER NOT NULL
);

-- What the desk sent, by wamid: the ticket it was about and its latest status webhook
-- (sent, delivered, read, failed), for replies quoting it and, for what the outbox
-- delivered (an agent's reply, a status change), for the card.
CREATE TABLE wa_sent (
    wamid TEXT PRIMARY KEY,
    wa_id TEXT NOT NULL,
    ticket_number INTEGER,
    from_outbox INTEGER NOT NULL DEFAULT 0,
    outbox_id INTEGER,  -- the item delivered, to send again after a recoverable failure
    status TEXT NOT NULL DEFAULT 'accepted',
    error TEXT,
    sent_at INTEGER NOT NULL,
    status_at INTEGER
);
CREATE INDEX wa_sent_ticket ON wa_sent (ticket_number, from_outbox, sent_at);

-- The outbox gains WhatsApp's lane: its audience check must admit 'whatsapp' (SQLite
-- can't change a CHECK in place, so the table is rebuilt, rows, ids and indexes kept).
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,             -- what to deliver (bot/domain/outbox.py)
    audience        TEXT    NOT NULL CHECK (audience IN ('customer', 'admin', 'whatsapp')),
    chat_id         INTEGER,                      -- the customer's chat; NULL: the admin chat
    ticket_number   INTEGER REFERENCES tickets (number),
    payload         TEXT    NOT NULL DEFAULT '{}',-- JSON
    dedupe_key      TEXT,                         -- at most one pending row per key
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'blocked')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL    NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER,
    lane            INTEGER NOT NULL DEFAULT 1
);
INSERT INTO outbox_new (id, kind, audience, chat_id, ticket_number, payload, dedupe_key,
                        state, attempts, next_attempt_at, last_error, created_at, done_at, lane)
SELECT id, kind, audience, chat_id, ticket_number, payload, dedupe_key, state, attempts,
       next_attempt_at, last_error, created_at, done_at, lane FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE UNIQUE INDEX outbox_pending_key ON outbox (dedupe_key)
    WHERE state = 'pending' AND dedupe_key IS NOT NULL;
CREATE INDEX outbox_admin_next ON outbox (audience, state, lane, id);
CREATE INDEX outbox_customer_heads ON outbox (audience, state, chat_id, id);
