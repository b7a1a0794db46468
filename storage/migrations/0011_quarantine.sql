-- Updates set aside because they could not be handled: PTB could not read them, or their
-- handler failed twice. Each is also recorded in processed_updates, so it is confirmed to
-- Telegram and never replayed; `python -m bot check` lists them. The payload is masked by
-- the fraud guard, as the inbox's is.
CREATE TABLE quarantined_updates (
    update_id       INTEGER PRIMARY KEY,
    payload         TEXT    NOT NULL,   -- the update as JSON (masked)
    error           TEXT    NOT NULL,   -- one line: the exception's type and message
    attempts        INTEGER NOT NULL,   -- how many times it failed (0: it could not be read)
    quarantined_at  INTEGER NOT NULL
);
