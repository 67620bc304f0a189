-- 0002: timelines, committed cursors and full passes (docs/design.md section 3,
-- "Full passes, committed cursors and timelines"; issue 15); the same model
-- as the SQLite store's 0003_timelines.sql.
--
-- The database's timeline id: a UUID made here, once (gen_random_uuid is
-- built in from PostgreSQL 13), and changed by `outpost-server restored`
-- after a restore from a backup. An existing database gets one on upgrade.
CREATE TABLE server_info (
  one      integer PRIMARY KEY CHECK (one = 1),
  timeline text COLLATE "C" NOT NULL
);
INSERT INTO server_info(one, timeline) VALUES (1, gen_random_uuid()::text);

-- committed: the cursor the device last said it has committed (retention
-- counts only this). 0 for existing devices: their recorded cursor may be
-- a prefetched page's, so nothing is purged on their account until they
-- pull again. pass_horizon: the site's horizon when the device's current
-- full pass (a chain from cursor 0) began; -1 = no pass in progress.
ALTER TABLE devices ADD COLUMN committed bigint NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN pass_horizon bigint NOT NULL DEFAULT -1;

-- Enrollment failure slots are taken before the code is checked and given
-- back on success: each needs an id.
ALTER TABLE enroll_failures ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
