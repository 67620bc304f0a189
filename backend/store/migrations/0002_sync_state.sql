-- 0002: what the sync client keeps beside the rows (docs/design.md section 3).
-- A row of a synced table is clean (synced_at set, no sync_rows entry),
-- pending (synced_at NULL, no entry, or an entry whose hlc is not the row's:
-- edited again since), in flight, awaiting review or rejected (an entry whose
-- hlc is the row's). sync_rows is small: only rows the server has not settled.

CREATE TABLE sync_rows (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  state TEXT NOT NULL,          -- in_flight | awaiting_review | resolving | rejected
  hlc TEXT NOT NULL,            -- the hlc of the state that met the server
  base_version INTEGER NOT NULL,-- the base that state was pushed with
  batch_id TEXT,                -- in_flight: the unanswered batch
  conflict_id TEXT,             -- awaiting_review, resolving
  reason TEXT,                  -- rejected: '<code>: <sentence>'
  resolved_version INTEGER,     -- resolving: the row's version after the resolution
  server_version INTEGER,       -- latest server state seen while not clean
  server_hlc TEXT,
  server_row TEXT,              -- JSON
  changed_at INTEGER NOT NULL,  -- device clock, ms
  PRIMARY KEY (tbl, id)
) WITHOUT ROWID;
CREATE INDEX idx_sync_rows_state ON sync_rows(state);
CREATE INDEX idx_sync_rows_conflict ON sync_rows(conflict_id) WHERE conflict_id IS NOT NULL;

-- The batch being pushed: its id and the exact request body, written before
-- the first send and removed in the transaction that applies its answer.
CREATE TABLE sync_batches (
  id TEXT PRIMARY KEY,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Conflict records as pulled (the server's feed table sync_conflicts).
CREATE TABLE sync_conflicts (
  id TEXT PRIMARY KEY,
  table_name TEXT NOT NULL,
  row_id TEXT NOT NULL,
  status TEXT NOT NULL,         -- open | resolved | auto_resolved
  version INTEGER NOT NULL,
  hlc TEXT NOT NULL,
  row TEXT NOT NULL             -- the record as pulled, JSON
) WITHOUT ROWID;
CREATE INDEX idx_sync_conflicts_open ON sync_conflicts(table_name, row_id) WHERE status = 'open';
