-- 0005: site data (issue 10): the synced tables lines, products, people and
-- site_settings (policy manual, written by manager devices only; each row's
-- id is protocol.KeyID of its code / badge_id, site_settings has one row),
-- line_configs.updated_by, and the local-only sign-in lockout counters.
-- Each synced table carries the registry's wire columns plus the sync
-- bookkeeping of every synced table (synced_at, server_updated_at, version,
-- hlc), like line_configs in 0001. Adds tables and columns the pull brings:
-- an upgraded app re-pulls from cursor 0 once (RepullIfUpgraded).

CREATE TABLE lines (
  id TEXT PRIMARY KEY,            -- protocol.KeyID('lines', code)
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  area TEXT,
  active INTEGER NOT NULL,        -- 0 | 1
  updated_by TEXT,                -- badge id of the person who made the edit
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL
);
CREATE INDEX idx_lines_not_synced ON lines(synced_at) WHERE synced_at IS NULL;
CREATE INDEX idx_lines_code ON lines(code);

CREATE TABLE products (
  id TEXT PRIMARY KEY,            -- protocol.KeyID('products', code)
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT,
  active INTEGER NOT NULL,
  updated_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL
);
CREATE INDEX idx_products_not_synced ON products(synced_at) WHERE synced_at IS NULL;
CREATE INDEX idx_products_code ON products(code);

CREATE TABLE people (
  id TEXT PRIMARY KEY,            -- protocol.KeyID('people', badge_id)
  badge_id TEXT NOT NULL,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,             -- operator | supervisor | manager
  active INTEGER NOT NULL,
  pin_hash TEXT,                  -- argon2id PHC string; never a PIN
  updated_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL
);
CREATE INDEX idx_people_not_synced ON people(synced_at) WHERE synced_at IS NULL;
CREATE INDEX idx_people_badge ON people(badge_id);

CREATE TABLE site_settings (
  id TEXT PRIMARY KEY,            -- protocol.SiteSettingsID(): one row
  time_zone TEXT NOT NULL,
  shifts TEXT NOT NULL,
  clock_skew_ms INTEGER,
  idle_signout_s INTEGER,
  pin_roles TEXT,
  updated_by TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  synced_at INTEGER,
  deleted_at INTEGER,
  server_updated_at INTEGER,
  version INTEGER NOT NULL DEFAULT 0,
  hlc TEXT NOT NULL
);
CREATE INDEX idx_site_settings_not_synced ON site_settings(synced_at) WHERE synced_at IS NULL;

ALTER TABLE line_configs ADD COLUMN updated_by TEXT;

-- Local only, never synced: failed PIN entries per badge on this device,
-- so a lockout survives a restart. locks counts the lockouts so far (each
-- doubles the next); locked_until and last_failure are device-clock ms.
CREATE TABLE signin_attempts (
  badge_id TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  locks INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  last_failure INTEGER NOT NULL
) WITHOUT ROWID;
