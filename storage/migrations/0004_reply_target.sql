-- The ticket a customer chose to reply to (the Reply button), kept across restarts.
ALTER TABLE users ADD COLUMN reply_ticket INTEGER REFERENCES tickets (number);
