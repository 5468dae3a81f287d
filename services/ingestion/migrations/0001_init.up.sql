-- Placeholder; the real tables arrive in the next migration files.
SELECT 1;
