-- 0009 (local only): own accepted writes stored under another device's hlc
-- (issue 15). A push answered `merged` is kept by the server under the
-- newer side's hlc, which may name another device: the version the server
-- made from this device's push is remembered here, written in the
-- transaction that applies the answer, so that a timeline change still
-- takes the row, while it holds that version, for this device's own
-- accepted write (pending again on base 0). Stale entries (the row moved
-- on) match no row and are dropped at the next timeline change.
CREATE TABLE sync_own_versions (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
