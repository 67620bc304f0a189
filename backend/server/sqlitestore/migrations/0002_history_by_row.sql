-- 0002: the history is keyed by the row's own integer id instead of its
-- (site, table, uuid) key. Row ids are random UUIDs, so the old history key
-- put every pushed row into a random page of a second B-tree (besides the
-- current state's key): one more page written to the WAL per row. rid is
-- assigned in insertion order, so a new row's history is appended at the
-- end. rid is an INTEGER PRIMARY KEY (a rowid that VACUUM keeps) and is
-- never reused: tombstones are purged with their whole history.
CREATE TABLE rows_new (
  rid       INTEGER PRIMARY KEY,
  site      TEXT NOT NULL,
  tbl       TEXT NOT NULL,
  id        TEXT NOT NULL,
  version   INTEGER NOT NULL,
  hlc       TEXT NOT NULL,
  device_id TEXT NOT NULL,
  deleted   INTEGER NOT NULL DEFAULT 0,
  data      TEXT NOT NULL,
  UNIQUE (site, tbl, id)
);
INSERT INTO rows_new(site, tbl, id, version, hlc, device_id, deleted, data)
  SELECT site, tbl, id, version, hlc, device_id, deleted, data FROM rows ORDER BY rowid;

CREATE TABLE row_versions_new (
  rid       INTEGER NOT NULL, -- rows.rid
  version   INTEGER NOT NULL,
  site      TEXT NOT NULL,
  tbl       TEXT NOT NULL,
  id        TEXT NOT NULL,
  hlc       TEXT NOT NULL,
  device_id TEXT NOT NULL,
  data      TEXT NOT NULL,
  PRIMARY KEY (rid, version)
);
-- Every history version has its current row (rows and history are written
-- together and purged together), so the join keeps them all.
INSERT INTO row_versions_new(rid, version, site, tbl, id, hlc, device_id, data)
  SELECT r.rid, v.version, v.site, v.tbl, v.id, v.hlc, v.device_id, v.data
  FROM row_versions v JOIN rows_new r ON r.site = v.site AND r.tbl = v.tbl AND r.id = v.id
  ORDER BY r.rid, v.version;

DROP TABLE rows;
DROP TABLE row_versions;
ALTER TABLE rows_new RENAME TO rows;
ALTER TABLE row_versions_new RENAME TO row_versions;
CREATE UNIQUE INDEX rows_feed ON rows(site, version);
CREATE INDEX rows_conflict ON rows(id) WHERE tbl = 'sync_conflicts';
CREATE INDEX row_versions_site ON row_versions(site, version);
