-- A placeholder on branch operators-12 only: number 0013 is reserved for another branch.
-- The lead drops this file at merge (migrations must be numbered without gaps).
SELECT 1;
