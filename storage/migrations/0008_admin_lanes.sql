-- The agents' chat is served by lane (bot/domain/outbox.py): an agent's answer first, then
-- customers' words and new cards, then refreshes and notices. Customers' items keep lane 0.
ALTER TABLE outbox ADD COLUMN lane INTEGER NOT NULL DEFAULT 1;
UPDATE outbox SET lane = 0 WHERE audience = 'customer';
UPDATE outbox SET lane = 2 WHERE audience = 'admin'
    AND kind IN ('card', 'breach', 'undeliverable', 'customer_status');

-- The admin line's next item, and each customer's oldest, read in index order (they
-- replace the plain pending-in-order index, which the planner would otherwise prefer).
DROP INDEX outbox_pending_in_order;
CREATE INDEX outbox_admin_next ON outbox (audience, state, lane, id);
CREATE INDEX outbox_customer_heads ON outbox (audience, state, chat_id, id);
