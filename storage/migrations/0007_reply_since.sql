-- When the customer pressed Reply: a Reply left open longer than the conversation timeout
-- is over, even if the bot restarted in between (PTB's timeout does not survive that).
ALTER TABLE users ADD COLUMN reply_since INTEGER;
