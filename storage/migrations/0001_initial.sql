-- Times are Unix seconds (UTC). Ticket numbers are the tickets' row ids.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,          -- Telegram user id
    first_name      TEXT    NOT NULL,
    last_name       TEXT,
    username        TEXT,
    language_code   TEXT,                         -- as Telegram last reported it
    chosen_locale   TEXT CHECK (chosen_locale IN ('en', 'id', 'sv')),
    is_banned       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE tickets (
    number                  INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id             INTEGER NOT NULL REFERENCES users (id),
    department              TEXT    NOT NULL,
    subject                 TEXT    NOT NULL,
    priority                TEXT    NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    status                  TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'solved', 'closed')),
    locale                  TEXT    NOT NULL,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    first_response_due_at   INTEGER NOT NULL,
    first_response_at       INTEGER,
    assignee_id             INTEGER,
    follow_up_of            INTEGER REFERENCES tickets (number),
    -- Where the ticket lives in the admin chat (filled by the agent side).
    admin_chat_id           INTEGER,
    admin_thread_id         INTEGER,
    admin_card_message_id   INTEGER
);
CREATE INDEX tickets_by_customer ON tickets (customer_id, number DESC);
CREATE INDEX tickets_by_status_due ON tickets (status, first_response_due_at);

-- Numbers start at 1001: a desk's first ticket should not look like its only one.
INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', 1000);

CREATE TABLE ticket_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_number   INTEGER NOT NULL REFERENCES tickets (number),
    author          TEXT    NOT NULL CHECK (author IN ('customer', 'agent', 'system')),
    author_id       INTEGER,
    body            TEXT    NOT NULL,
    internal        INTEGER NOT NULL DEFAULT 0,   -- an agents' note, never shown to the customer
    tg_chat_id      INTEGER,                      -- where the original message was sent
    tg_message_id   INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket_number, id);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL REFERENCES ticket_messages (id),
    ticket_number   INTEGER NOT NULL REFERENCES tickets (number),
    kind            TEXT    NOT NULL CHECK (kind IN ('photo', 'document')),
    file_id         TEXT    NOT NULL,
    file_unique_id  TEXT    NOT NULL,
    file_size       INTEGER,
    file_name       TEXT,
    mime_type       TEXT,
    media_group_id  TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX attachments_by_ticket ON attachments (ticket_number, id);

CREATE TABLE ticket_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_number   INTEGER NOT NULL REFERENCES tickets (number),
    kind            TEXT    NOT NULL,             -- created, status, priority, assignee, ...
    actor           TEXT    NOT NULL CHECK (actor IN ('customer', 'agent', 'system')),
    actor_id        INTEGER,
    from_value      TEXT,
    to_value        TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_number, id);

-- A ticket being written, saved after every step.
CREATE TABLE drafts (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id),
    data            TEXT    NOT NULL,             -- JSON
    updated_at      INTEGER NOT NULL
);

-- Desk-wide values an operator changes at run time (the bound chat, the default locale).
CREATE TABLE desk_settings (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- PTB persistence: only conversation states are persisted (see storage/persistence.py).
CREATE TABLE ptb_conversations (
    name            TEXT NOT NULL,
    key             TEXT NOT NULL,                -- JSON array of the conversation key
    state           TEXT NOT NULL,                -- JSON
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (name, key)
);
