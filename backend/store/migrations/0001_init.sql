-- 0001: the v1 schema. production_records is the seed's table column for
-- column, plus the sync columns version and hlc (docs/design.md section 2).
-- SQLite 3.33 (go-sqlcipher 4.4.2): no STRICT, no RETURNING, no DROP COLUMN.

CREATE TABLE production_records (
  id TEXT PRIMARY KEY,            -- UUID, generated on the device
  line_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  operator_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,    -- ms since epoch, device clock
  updated_at INTEGER NOT NULL,    -- ms since epoch, device clock (shown to people)
  synced_at INTEGER,              -- NULL = local change not yet accepted by the server
  deleted_at INTEGER,             -- soft delete (tombstone), synced like any other write
  server_updated_at INTEGER,      -- server clock of the last accepted write
  version INTEGER NOT NULL DEFAULT 0,  -- server version the row is based on; 0 = never on the server
  hlc TEXT NOT NULL               -- hybrid logical clock of the last local edit
);
CREATE INDEX idx_production_not_synced
  ON production_records(synced_at) WHERE synced_at IS NULL;

-- List filters and sorts (ListRecords). Partial indexes over live rows: the
-- list shows live rows unless asked otherwise, so "WHERE deleted_at IS NULL
-- ORDER BY <col>, rowid LIMIT … OFFSET …" walks one index in order with no
-- sort, and the total is a count over it. Listing deleted rows too sorts.
CREATE INDEX idx_production_live_created ON production_records(created_at) WHERE deleted_at IS NULL;
CREATE INDEX idx_production_live_updated ON production_records(updated_at) WHERE deleted_at IS NULL;
CREATE INDEX idx_production_live_line ON production_records(line_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX idx_production_live_product ON production_records(product_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX idx_production_live_operator ON production_records(operator_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX idx_production_live_quantity ON production_records(quantity) WHERE deleted_at IS NULL;

CREATE TABLE line_configs (
  id TEXT PRIMARY KEY,
  line_id TEXT NOT NULL,
  recipe TEXT NOT NULL,
  target_rate_per_hour INTEGER,
  temperature_c REAL,
  speed_rpm INTEGER,
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL
);
CREATE INDEX idx_line_configs_not_synced
  ON line_configs(synced_at) WHERE synced_at IS NULL;
CREATE INDEX idx_line_configs_line ON line_configs(line_id, deleted_at);

-- Device-local settings: device_id, last_hlc, and later the sync cursor.
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
