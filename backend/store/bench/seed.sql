-- The seed's table, column for column (docs/design.md section 2): the
-- schema both sides of the store benchmark create (driver.go embeds it,
-- node/bench.mjs reads it), so that they time the same table.
CREATE TABLE IF NOT EXISTS production_records (
  id TEXT PRIMARY KEY,
  line_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  operator_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER
);
CREATE INDEX IF NOT EXISTS idx_production_not_synced
  ON production_records(synced_at) WHERE synced_at IS NULL;
