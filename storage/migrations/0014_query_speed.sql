-- Counts kept as the tickets change, so a count is a read of a few rows, not a walk over
-- every ticket it counts: `/queue`'s total (tens of thousands of live tickets at 1M) and the
-- desk's all-time figures. Triggers keep them, in the transaction that changes a ticket or a
-- rating, so they are exactly what a COUNT over the rows would say (tests/unit/
-- test_hot_queries.py compares them after every kind of change).

-- Tickets by status, whether they have had a first response, and whether it came within
-- its target: at most 4 x 3 rows (a key whose count falls to 0 stays, with n = 0).
CREATE TABLE ticket_counts (
    status      TEXT    NOT NULL,
    answered    INTEGER NOT NULL,  -- first_response_at IS NOT NULL
    met         INTEGER NOT NULL,  -- first_response_at <= first_response_due_at
    n           INTEGER NOT NULL,
    PRIMARY KEY (status, answered, met)
) WITHOUT ROWID;

INSERT INTO ticket_counts (status, answered, met, n)
    SELECT status, first_response_at IS NOT NULL,
        IFNULL(first_response_at <= first_response_due_at, 0), COUNT(*)
    FROM tickets GROUP BY 1, 2, 3;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts (status, answered, met, n) VALUES (
        NEW.status, NEW.first_response_at IS NOT NULL,
        IFNULL(NEW.first_response_at <= NEW.first_response_due_at, 0), 1
    ) ON CONFLICT (status, answered, met) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_update
    AFTER UPDATE OF status, first_response_at, first_response_due_at ON tickets
    WHEN OLD.status IS NOT NEW.status
        OR (OLD.first_response_at IS NOT NULL) IS NOT (NEW.first_response_at IS NOT NULL)
        OR IFNULL(OLD.first_response_at <= OLD.first_response_due_at, 0)
            IS NOT IFNULL(NEW.first_response_at <= NEW.first_response_due_at, 0)
BEGIN
    UPDATE ticket_counts SET n = n - 1
        WHERE status = OLD.status AND answered = (OLD.first_response_at IS NOT NULL)
        AND met = IFNULL(OLD.first_response_at <= OLD.first_response_due_at, 0);
    INSERT INTO ticket_counts (status, answered, met, n) VALUES (
        NEW.status, NEW.first_response_at IS NOT NULL,
        IFNULL(NEW.first_response_at <= NEW.first_response_due_at, 0), 1
    ) ON CONFLICT (status, answered, met) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1
        WHERE status = OLD.status AND answered = (OLD.first_response_at IS NOT NULL)
        AND met = IFNULL(OLD.first_response_at <= OLD.first_response_due_at, 0);
END;

-- Ratings by score (at most 5 rows): their number and their sum.
CREATE TABLE rating_counts (
    score   INTEGER PRIMARY KEY,
    n       INTEGER NOT NULL
);

INSERT INTO rating_counts (score, n) SELECT score, COUNT(*) FROM ratings GROUP BY score;

CREATE TRIGGER rating_counts_insert AFTER INSERT ON ratings BEGIN
    INSERT INTO rating_counts (score, n) VALUES (NEW.score, 1)
        ON CONFLICT (score) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER rating_counts_update AFTER UPDATE OF score ON ratings
    WHEN OLD.score IS NOT NEW.score
BEGIN
    UPDATE rating_counts SET n = n - 1 WHERE score = OLD.score;
    INSERT INTO rating_counts (score, n) VALUES (NEW.score, 1)
        ON CONFLICT (score) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER rating_counts_delete AFTER DELETE ON ratings BEGIN
    UPDATE rating_counts SET n = n - 1 WHERE score = OLD.score;
END;

-- The ratings' summary read this index; the counts above replace it.
DROP INDEX ratings_by_score;
