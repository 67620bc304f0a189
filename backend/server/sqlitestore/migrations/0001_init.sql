-- 0001: the server's schema. Times are ms since the Unix epoch.
CREATE TABLE sites (
  site       TEXT PRIMARY KEY,
  seq        INTEGER NOT NULL DEFAULT 0,  -- the site's change sequence
  horizon    INTEGER NOT NULL DEFAULT 0,  -- greatest purged tombstone version
  created_at INTEGER NOT NULL
);

CREATE TABLE devices (
  id         TEXT PRIMARY KEY,
  site       TEXT NOT NULL REFERENCES sites(site),
  name       TEXT NOT NULL,
  role       TEXT NOT NULL,
  platform   TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL DEFAULT 0,
  cursor     INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_site ON devices(site, created_at);

CREATE TABLE enroll_codes (
  code_hash  TEXT PRIMARY KEY,
  site       TEXT NOT NULL REFERENCES sites(site),
  role       TEXT NOT NULL,
  uses_left  INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE enroll_failures (
  addr TEXT NOT NULL,
  at   INTEGER NOT NULL
);
CREATE INDEX enroll_failures_addr ON enroll_failures(addr, at);

-- Current state of every row, conflict records (tbl = 'sync_conflicts')
-- included: the pull feed. Rows hold a few hundred bytes of JSON, so these
-- tables keep their rowid (WITHOUT ROWID suits small rows only).
CREATE TABLE rows (
  site      TEXT NOT NULL,
  tbl       TEXT NOT NULL,
  id        TEXT NOT NULL,
  version   INTEGER NOT NULL,
  hlc       TEXT NOT NULL,
  device_id TEXT NOT NULL,
  deleted   INTEGER NOT NULL DEFAULT 0,
  data      TEXT NOT NULL,
  PRIMARY KEY (site, tbl, id)
);
CREATE UNIQUE INDEX rows_feed ON rows(site, version);
CREATE INDEX rows_conflict ON rows(id) WHERE tbl = 'sync_conflicts';

-- Every stored version of every row: merge bases and history.
CREATE TABLE row_versions (
  site      TEXT NOT NULL,
  tbl       TEXT NOT NULL,
  id        TEXT NOT NULL,
  version   INTEGER NOT NULL,
  hlc       TEXT NOT NULL,
  device_id TEXT NOT NULL,
  data      TEXT NOT NULL,
  PRIMARY KEY (site, tbl, id, version)
);
CREATE INDEX row_versions_site ON row_versions(site, version);

-- Ids of tombstones purged by retention: never resurrected.
CREATE TABLE purged (
  site    TEXT NOT NULL,
  tbl     TEXT NOT NULL,
  id      TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (site, tbl, id)
) WITHOUT ROWID;

-- Row versions open conflicts still need.
CREATE TABLE pins (
  site        TEXT NOT NULL,
  conflict_id TEXT NOT NULL,
  tbl         TEXT NOT NULL,
  id          TEXT NOT NULL,
  version     INTEGER NOT NULL,
  PRIMARY KEY (site, conflict_id, tbl, id, version)
) WITHOUT ROWID;
CREATE INDEX pins_row ON pins(site, tbl, id, version);

-- Push responses by (device, batch): exactly-once pushes.
CREATE TABLE batches (
  device_id  TEXT NOT NULL,
  batch_id   TEXT NOT NULL,
  site       TEXT NOT NULL,
  response   BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, batch_id)
);
CREATE INDEX batches_created ON batches(created_at);
