-- Placeholder for the migration 0010 of another branch, so that 0011
-- applies on this one. Delete it when that migration is merged.
SELECT 1;
