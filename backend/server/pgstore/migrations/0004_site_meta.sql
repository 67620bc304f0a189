-- 0004: per-site state beside the rows (docs/design.md section 9; issue 19);
-- the same model as the SQLite store's 0005_site_meta.sql.
--
-- A site hub keeps its upstream link's cursor, marks and echoes here, and
-- central keeps each hub's highest applied origin_seq, written in the same
-- transactions as the rows they describe (under the site's lock): a kill -9
-- neither loses nor repeats a write pushed upstream. Values are opaque to
-- the store.
CREATE TABLE site_meta (
  site  text COLLATE "C" NOT NULL,
  key   text COLLATE "C" NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (site, key)
);

-- Store.Writes reads a site's history in version order (a hub pushes every
-- write upstream as its own change): a range of row_versions_site
-- (site, version), which 0001 made; no new index is needed.
