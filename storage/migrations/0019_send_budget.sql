-- Telegram's budget when several workers share the desk (PostgreSQL): one row per budget
-- (a chat, or the whole bot's), holding the times of its latest sends as a JSON list, and
-- a version a worker's write must match (storage.budget). Unused by one SQLite worker,
-- which paces its sends in memory; kept here so both schemas stay one.
CREATE TABLE send_budget (
    budget          TEXT    PRIMARY KEY,
    sent            TEXT    NOT NULL DEFAULT '[]',
    version         INTEGER NOT NULL DEFAULT 0,
    last_at         REAL    NOT NULL
);
CREATE INDEX send_budget_last ON send_budget (last_at);
