-- The agent side: where each ticket's messages live in the admin chat and the customer's
-- chat, response-target breaches, bans, and edits kept beside their originals.

ALTER TABLE tickets ADD COLUMN breach_announced_at INTEGER;

ALTER TABLE users ADD COLUMN ban_notified INTEGER NOT NULL DEFAULT 0;

ALTER TABLE ticket_messages ADD COLUMN edit_of INTEGER REFERENCES ticket_messages (id);

-- Every Telegram message that belongs to a ticket, on either side, so a reply to any of
-- them finds the ticket and an edit finds its copy.
CREATE TABLE relayed_messages (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_number       INTEGER NOT NULL REFERENCES tickets (number),
    ticket_message_id   INTEGER REFERENCES ticket_messages (id),
    kind                TEXT    NOT NULL,   -- card, to_customer, to_admin, note, notice
    admin_chat_id       INTEGER,
    admin_message_id    INTEGER,            -- the message in the admin chat
    customer_chat_id    INTEGER,
    customer_message_id INTEGER,            -- the message in the customer's chat
    created_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX relayed_by_admin_message
    ON relayed_messages (admin_chat_id, admin_message_id) WHERE admin_message_id IS NOT NULL;
CREATE INDEX relayed_by_customer_message
    ON relayed_messages (customer_chat_id, customer_message_id)
    WHERE customer_message_id IS NOT NULL;
CREATE INDEX relayed_by_ticket ON relayed_messages (ticket_number, id);

CREATE INDEX tickets_by_thread ON tickets (admin_chat_id, admin_thread_id);
