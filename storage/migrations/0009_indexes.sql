-- Indexes for the queries on hot paths, each shaped so that one index serves both the
-- filter and the order of its query (no full scan, no sort): tests/unit/test_query_plans.py
-- holds every such query to its plan. The planner has no statistics (no ANALYZE), so it
-- prefers the index with the most equality terms: the partial indexes below lead with
-- `status` (one value, or a few) for that reason, so they win over tickets_by_status_since.

-- The status index now ends in status_changed_at: auto-solve and auto-close read tickets
-- by (status, status_changed_at), in that order; the old (status, due) one served only
-- the breach scan and the queue, which have their own indexes now.
DROP INDEX tickets_by_status_due;
CREATE INDEX tickets_by_status_since ON tickets (status, status_changed_at);

-- /queue: open before pending, unanswered first, then by due time and number. Only live
-- tickets are in it, so it stays small however many tickets are closed.
CREATE INDEX tickets_queue
    ON tickets (status, first_response_at IS NOT NULL, first_response_due_at)
    WHERE status IN ('open', 'pending');

-- Missed response targets still to announce: exactly the rows the sweeper acts on.
CREATE INDEX tickets_breach_due ON tickets (status, first_response_due_at)
    WHERE status = 'open' AND first_response_at IS NULL AND breach_announced_at IS NULL;

-- Pending tickets whose customer has not had the reminder yet (reminded ones wait for
-- the auto-solve and would otherwise be read again every minute).
CREATE INDEX tickets_reminder_due ON tickets (status, solve_reminder_at, status_changed_at)
    WHERE status = 'pending' AND solve_reminder_at IS NULL;

-- A customer's live tickets, newest first (a new ticket about the same thing continues one).
CREATE INDEX tickets_live_by_customer ON tickets (customer_id, number DESC)
    WHERE status IN ('open', 'pending');

-- Live tickets by where their card is, to find those without one in the bound admin chat;
-- also counts the live tickets by status for /stats.
CREATE INDEX tickets_live_by_chat ON tickets (status, admin_chat_id, admin_card_message_id)
    WHERE status IN ('open', 'pending', 'solved');

-- /stats: answered tickets ordered by how long the first response took (the median is
-- read at the middle of this index), with what decides whether the target was met.
CREATE INDEX tickets_first_response
    ON tickets (first_response_at - created_at, first_response_at, first_response_due_at)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX ratings_by_score ON ratings (score);

-- The sweeper's expiry of idle forms and its pruning of handled update ids.
CREATE INDEX drafts_by_updated ON drafts (updated_at);
CREATE INDEX processed_updates_by_time ON processed_updates (processed_at);
