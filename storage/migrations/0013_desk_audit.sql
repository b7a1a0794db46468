-- The desk-wide trail: what agents and operators change outside any one ticket (bans and
-- unbans, the customers' default language, the agents' chat's language, the bound chat,
-- forgotten customers, exports), who and when; each written in the transaction of its
-- change. Ids and codes only, never names or texts (see bot/domain/audit.py).
CREATE TABLE desk_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT    NOT NULL,             -- ban, unban, default_locale, admin_locale, ...
    actor           TEXT    NOT NULL CHECK (actor IN ('agent', 'system', 'command_line')),
    actor_id        INTEGER,                      -- the agent's or operator's user id
    from_value      TEXT,
    to_value        TEXT,
    created_at      INTEGER NOT NULL
);
