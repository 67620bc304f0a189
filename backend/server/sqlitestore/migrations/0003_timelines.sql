-- 0003: timelines, committed cursors and full passes (docs/design.md section 3,
-- "Full passes, committed cursors and timelines"; issue 15).
--
-- The database's timeline id: a UUID made here, once, and changed by
-- `outpost-server restored` after a restore from a backup. An existing
-- database gets one on upgrade.
CREATE TABLE server_info (
  one      INTEGER PRIMARY KEY CHECK (one = 1),
  timeline TEXT NOT NULL
);
INSERT INTO server_info(one, timeline) VALUES (1,
  lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
  substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) ||
  substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))));

-- committed: the cursor the device last said it has committed (retention
-- counts only this). 0 for existing devices: their recorded cursor may be
-- a prefetched page's, so nothing is purged on their account until they
-- pull again. pass_horizon: the site's horizon when the device's current
-- full pass (a chain from cursor 0) began; -1 = no pass in progress.
ALTER TABLE devices ADD COLUMN committed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pass_horizon INTEGER NOT NULL DEFAULT -1;
