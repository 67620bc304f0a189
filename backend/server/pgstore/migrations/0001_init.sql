-- 0001: the server's schema on PostgreSQL, the same model as the SQLite
-- store's 0001_init.sql. Times are ms since the Unix epoch. Identifiers
-- compare bytewise (COLLATE "C"), as in SQLite. Row states, push responses
-- and device-supplied names are bytea: stored verbatim, whatever they hold
-- (text columns refuse NUL).
CREATE TABLE sites (
  site       text COLLATE "C" PRIMARY KEY,
  seq        bigint NOT NULL DEFAULT 0,  -- the site's change sequence; this row is the site's write lock
  horizon    bigint NOT NULL DEFAULT 0,  -- greatest purged tombstone version
  created_at bigint NOT NULL
);

CREATE TABLE devices (
  id         text COLLATE "C" PRIMARY KEY,
  site       text COLLATE "C" NOT NULL REFERENCES sites(site),
  name       bytea NOT NULL,
  role       text NOT NULL,
  platform   bytea NOT NULL,
  token_hash text COLLATE "C" NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  last_seen  bigint NOT NULL DEFAULT 0,
  cursor     bigint NOT NULL DEFAULT 0,
  revoked_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX devices_site ON devices(site, created_at);

CREATE TABLE enroll_codes (
  code_hash  text COLLATE "C" PRIMARY KEY,
  site       text COLLATE "C" NOT NULL REFERENCES sites(site),
  role       text NOT NULL,
  uses_left  integer NOT NULL,
  expires_at bigint NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE enroll_failures (
  addr text COLLATE "C" NOT NULL,
  at   bigint NOT NULL
);
CREATE INDEX enroll_failures_addr ON enroll_failures(addr, at);

-- Current state of every row, conflict records (tbl = 'sync_conflicts')
-- included: the pull feed.
CREATE TABLE rows (
  site      text COLLATE "C" NOT NULL,
  tbl       text COLLATE "C" NOT NULL,
  id        text COLLATE "C" NOT NULL,
  version   bigint NOT NULL,
  hlc       text COLLATE "C" NOT NULL,
  device_id text COLLATE "C" NOT NULL,
  deleted   boolean NOT NULL DEFAULT false,
  data      bytea NOT NULL,
  PRIMARY KEY (site, tbl, id)
);
CREATE UNIQUE INDEX rows_feed ON rows(site, version);
CREATE INDEX rows_conflict ON rows(tbl, id);

-- Every stored version of every row: merge bases and history.
CREATE TABLE row_versions (
  site      text COLLATE "C" NOT NULL,
  tbl       text COLLATE "C" NOT NULL,
  id        text COLLATE "C" NOT NULL,
  version   bigint NOT NULL,
  hlc       text COLLATE "C" NOT NULL,
  device_id text COLLATE "C" NOT NULL,
  data      bytea NOT NULL,
  PRIMARY KEY (site, tbl, id, version)
);
CREATE INDEX row_versions_site ON row_versions(site, version);

-- Ids of tombstones purged by retention: never resurrected.
CREATE TABLE purged (
  site    text COLLATE "C" NOT NULL,
  tbl     text COLLATE "C" NOT NULL,
  id      text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (site, tbl, id)
);

-- Row versions open conflicts still need.
CREATE TABLE pins (
  site        text COLLATE "C" NOT NULL,
  conflict_id text COLLATE "C" NOT NULL,
  tbl         text COLLATE "C" NOT NULL,
  id          text COLLATE "C" NOT NULL,
  version     bigint NOT NULL,
  PRIMARY KEY (site, conflict_id, tbl, id, version)
);
CREATE INDEX pins_row ON pins(site, tbl, id, version);

-- Push responses by (device, batch): exactly-once pushes.
CREATE TABLE batches (
  device_id  text COLLATE "C" NOT NULL,
  batch_id   text COLLATE "C" NOT NULL,
  site       text COLLATE "C" NOT NULL,
  response   bytea NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (device_id, batch_id)
);
CREATE INDEX batches_created ON batches(created_at);
