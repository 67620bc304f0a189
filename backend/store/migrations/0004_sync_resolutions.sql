-- 0004 (local only): the queue of conflict decisions made on this device and
-- not yet accepted by the server (backend/store/resolve.go). Each row is one
-- decision as JSON; it never travels in a pull, so no re-pull is needed.
CREATE TABLE IF NOT EXISTS sync_resolutions (
  conflict_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  body TEXT NOT NULL
);
