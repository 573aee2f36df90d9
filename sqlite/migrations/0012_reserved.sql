-- Version 0012 is taken by a change developed alongside this one; this
-- empty file holds its place so the versions stay contiguous and is
-- replaced by that change's migration when both are merged.
SELECT 1;
