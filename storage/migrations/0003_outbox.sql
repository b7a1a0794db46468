-- Everything the bot owes anyone, written in the same transaction as the change that
-- caused it and delivered by one dispatcher (bot/dispatcher.py).
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,             -- what to deliver (see bot/notify.py)
    audience        TEXT    NOT NULL CHECK (audience IN ('customer', 'admin')),
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
    done_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE UNIQUE INDEX outbox_pending_key ON outbox (dedupe_key)
    WHERE state = 'pending' AND dedupe_key IS NOT NULL;

-- Updates already handled, so a restart never runs one twice.
CREATE TABLE processed_updates (
    update_id       INTEGER PRIMARY KEY,
    processed_at    INTEGER NOT NULL
);

-- When the status last changed, for auto-solve and auto-close, and the reminder sent
-- before an auto-solve. A customer who blocked the bot is shown on the card.
ALTER TABLE tickets ADD COLUMN status_changed_at INTEGER;
ALTER TABLE tickets ADD COLUMN solve_reminder_at INTEGER;
ALTER TABLE tickets ADD COLUMN customer_unreachable INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET status_changed_at = updated_at;

-- A message arriving twice (a re-delivered update) is stored once.
CREATE UNIQUE INDEX ticket_messages_by_telegram
    ON ticket_messages (tg_chat_id, tg_message_id)
    WHERE tg_message_id IS NOT NULL AND edit_of IS NULL;

CREATE TABLE ratings (
    ticket_number   INTEGER PRIMARY KEY REFERENCES tickets (number),
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment         TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
