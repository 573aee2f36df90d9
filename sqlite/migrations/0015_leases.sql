-- Version 0015 is the cluster's lease table on PostgreSQL. A SQLite store
-- has one node, which always decides, so it needs no lease; this file
-- keeps the two dialects' versions in step.
SELECT 1;
