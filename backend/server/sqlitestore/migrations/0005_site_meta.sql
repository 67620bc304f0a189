-- 0005: per-site state beside the rows (docs/design.md section 9; issue 19).
--
-- A site hub keeps its upstream link's cursor, marks and echoes here, and
-- central keeps each hub's highest applied origin_seq, written in the same
-- transactions as the rows they describe: a kill -9 neither loses nor
-- repeats a write pushed upstream. Values are opaque to the store; they keep
-- their rowid (an echo set may outgrow what WITHOUT ROWID suits).
CREATE TABLE site_meta (
  site  TEXT NOT NULL,
  key   TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (site, key)
);

-- Store.Writes reads a site's history in version order (a hub pushes every
-- write upstream as its own change): a range of row_versions_site
-- (site, version), which migration 0002 keeps; no new index is needed.
