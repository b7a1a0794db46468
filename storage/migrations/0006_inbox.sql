-- Updates fetched from Telegram but not yet handled. getUpdates confirms a batch as soon
-- as the next one is asked for, so a kill could otherwise lose what was fetched: these
-- are handled again at start-up (customers' texts are kept masked, see bot/telegram_bot.py).
CREATE TABLE inbox (
    update_id       INTEGER PRIMARY KEY,
    payload         TEXT    NOT NULL,   -- the update as JSON
    received_at     INTEGER NOT NULL
);
