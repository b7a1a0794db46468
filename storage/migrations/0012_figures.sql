-- The figures of /stats and /export over a period: when a ticket was solved, closed and
-- resolved (solved, or closed unsolved; cleared when it is reopened), and its first
-- response and resolution times in business hours, counted on the desk's calendar when
-- they happen (SQL can't count business hours, and 1M tickets can't be counted at once).
ALTER TABLE tickets ADD COLUMN solved_at INTEGER;
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN first_response_business INTEGER;  -- seconds
ALTER TABLE tickets ADD COLUMN resolution_business INTEGER;      -- seconds

-- Older tickets take their times from their events; their business-hours durations stay
-- unknown (NULL), so the business-hours figures count only tickets answered from now on.
UPDATE tickets SET solved_at = (
    SELECT MAX(created_at) FROM ticket_events e
    WHERE e.ticket_number = tickets.number AND e.kind = 'status' AND e.to_value = 'solved'
) WHERE status IN ('solved', 'closed');
UPDATE tickets SET closed_at = (
    SELECT MAX(created_at) FROM ticket_events e
    WHERE e.ticket_number = tickets.number AND e.kind = 'status' AND e.to_value = 'closed'
) WHERE status = 'closed';
UPDATE tickets SET resolved_at = COALESCE(solved_at, closed_at)
    WHERE status IN ('solved', 'closed');

-- Each figure reads one index over its period, covering every column it needs.
CREATE INDEX tickets_created ON tickets
    (created_at, department, priority, first_response_at, first_response_due_at);
CREATE INDEX tickets_solved ON tickets (solved_at, department, priority)
    WHERE solved_at IS NOT NULL;
CREATE INDEX tickets_closed ON tickets (closed_at, department, priority)
    WHERE closed_at IS NOT NULL;
CREATE INDEX tickets_answered ON tickets
    (first_response_at, priority, created_at, first_response_business)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX tickets_resolved ON tickets
    (resolved_at, priority, created_at, resolution_business)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_unreachable ON tickets (customer_id) WHERE customer_unreachable = 1;
CREATE INDEX ratings_by_time ON ratings (created_at, score);
