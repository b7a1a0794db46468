-- /stats over a period counts its tickets by department and priority. Read from indexes
-- led by the period's time, those counts sorted every ticket of the period into their
-- groups (a 90-day period of a 1,000,000-ticket desk holds about 125,000). Led by the
-- department and the priority instead, each group is one range of its index, counted
-- where it lies (storage/figures.py: STATS_KINDS walks the departments, then each group).
DROP INDEX tickets_created;
DROP INDEX tickets_solved;
DROP INDEX tickets_closed;
CREATE INDEX tickets_opened_by_kind ON tickets
    (department, priority, created_at, first_response_at, first_response_due_at);
CREATE INDEX tickets_solved_by_kind ON tickets (department, priority, solved_at)
    WHERE solved_at IS NOT NULL;
CREATE INDEX tickets_closed_by_kind ON tickets (department, priority, closed_at)
    WHERE closed_at IS NOT NULL;

-- The period's durations are read a priority at a time (the figures give each its own
-- spread), each priority one range of an index led by it; the rows come apart already.
DROP INDEX tickets_answered;
DROP INDEX tickets_resolved;
CREATE INDEX tickets_answered_by_priority ON tickets
    (priority, first_response_at, created_at, first_response_business)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX tickets_resolved_by_priority ON tickets
    (priority, resolved_at, created_at, resolution_business)
    WHERE resolved_at IS NOT NULL;
