-- The dispatcher reads pending items in id order (a chat's items strictly in order).
CREATE INDEX outbox_pending_in_order ON outbox (state, id);
