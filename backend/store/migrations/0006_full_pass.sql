-- 0006: full passes and timelines (docs/design.md section 3, issue 15).
-- sync_pass_rows lists the rows a full pass (a pull chain from cursor 0)
-- has not brought yet: the clean rows and conflict records held when it
-- started, struck off by each page in the page's transaction; when the pass
-- ends, the listed rows still clean are removed (their tombstones were
-- purged) and the list is emptied. Whether a pass is in
-- progress and the server's timeline are meta keys (sync_pass,
-- sync_timeline). sync_rows.base_row keeps the server state a conflict
-- showed ("theirs"): a re-edit of a row awaiting review starts from it.
-- Not local only: an upgraded device re-pulls from 0 once, as a full pass,
-- so rows whose tombstones were purged while it was behind leave it.

CREATE TABLE sync_pass_rows (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (tbl, id)
) WITHOUT ROWID;

ALTER TABLE sync_rows ADD COLUMN base_row TEXT;  -- JSON, awaiting_review/resolving
