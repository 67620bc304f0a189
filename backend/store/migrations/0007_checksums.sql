-- 0007 (local only): the device's own checksums (docs/design.md section 8, issue 16).
-- sync_known holds, for every row, the last server state this device
-- received for it (version, live, bucket, hash H as a signed 64-bit
-- integer): a clean row's own state, or the state remembered for a row
-- that is not clean. sync_sums is the count and the sum (mod 2^64, stored
-- as signed 64-bit) of the live known states per bucket, kept with every
-- change of sync_known in the same transaction (backend/store/checksums.go).
-- SQL cannot hash, so the triggers below only note which rows changed in
-- sync_known_dirty; every write transaction settles the noted rows before
-- it commits. Every write path is covered, a direct edit of the file too
-- (it is settled by the next write). This migration notes every existing
-- row; the store settles them when it opens. (The triggers test before
-- inserting: INSERT OR IGNORE inside a trigger takes the outer statement's
-- conflict policy, and the pull's upsert would make it fail.)

CREATE TABLE sync_known (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  live INTEGER NOT NULL,        -- 1 when the state's deleted_at is null
  bucket TEXT NOT NULL,
  h INTEGER NOT NULL,           -- H(tbl, id, version), as signed 64-bit
  PRIMARY KEY (tbl, id)
) WITHOUT ROWID;

CREATE TABLE sync_sums (
  bucket TEXT PRIMARY KEY,
  tbl TEXT NOT NULL,
  n INTEGER NOT NULL,           -- live rows
  sum INTEGER NOT NULL          -- sum of their H mod 2^64, as signed 64-bit
) WITHOUT ROWID;
CREATE INDEX idx_sync_sums_tbl ON sync_sums(tbl);
CREATE INDEX idx_sync_known_bucket ON sync_known(bucket);

CREATE TABLE sync_known_dirty (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  PRIMARY KEY (tbl, id)
) WITHOUT ROWID;

CREATE TRIGGER sync_known_production_records_ins AFTER INSERT ON production_records BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'production_records', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'production_records' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_production_records_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON production_records BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'production_records', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'production_records' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'production_records', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'production_records' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_production_records_del AFTER DELETE ON production_records BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'production_records', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'production_records' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'production_records', id FROM production_records;

CREATE TRIGGER sync_known_line_configs_ins AFTER INSERT ON line_configs BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'line_configs', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'line_configs' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_line_configs_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON line_configs BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'line_configs', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'line_configs' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'line_configs', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'line_configs' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_line_configs_del AFTER DELETE ON line_configs BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'line_configs', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'line_configs' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'line_configs', id FROM line_configs;

CREATE TRIGGER sync_known_lines_ins AFTER INSERT ON lines BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'lines', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'lines' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_lines_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON lines BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'lines', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'lines' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'lines', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'lines' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_lines_del AFTER DELETE ON lines BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'lines', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'lines' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'lines', id FROM lines;

CREATE TRIGGER sync_known_products_ins AFTER INSERT ON products BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'products', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'products' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_products_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON products BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'products', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'products' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'products', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'products' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_products_del AFTER DELETE ON products BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'products', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'products' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'products', id FROM products;

CREATE TRIGGER sync_known_people_ins AFTER INSERT ON people BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'people', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'people' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_people_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON people BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'people', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'people' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'people', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'people' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_people_del AFTER DELETE ON people BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'people', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'people' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'people', id FROM people;

CREATE TRIGGER sync_known_site_settings_ins AFTER INSERT ON site_settings BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'site_settings', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'site_settings' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_site_settings_upd AFTER UPDATE OF id, synced_at, version, deleted_at, created_at ON site_settings BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'site_settings', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'site_settings' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'site_settings', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'site_settings' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_site_settings_del AFTER DELETE ON site_settings BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'site_settings', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'site_settings' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'site_settings', id FROM site_settings;

CREATE TRIGGER sync_known_sync_conflicts_ins AFTER INSERT ON sync_conflicts BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'sync_conflicts', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'sync_conflicts' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_sync_conflicts_upd AFTER UPDATE OF id, version ON sync_conflicts BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'sync_conflicts', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'sync_conflicts' AND id = OLD.id);
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'sync_conflicts', NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'sync_conflicts' AND id = NEW.id);
END;
CREATE TRIGGER sync_known_sync_conflicts_del AFTER DELETE ON sync_conflicts BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT 'sync_conflicts', OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = 'sync_conflicts' AND id = OLD.id);
END;
INSERT INTO sync_known_dirty(tbl, id) SELECT 'sync_conflicts', id FROM sync_conflicts;

-- A row's entry in sync_rows decides whether it is clean.
CREATE TRIGGER sync_known_sync_rows_ins AFTER INSERT ON sync_rows BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT NEW.tbl, NEW.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = NEW.tbl AND id = NEW.id);
END;
CREATE TRIGGER sync_known_sync_rows_del AFTER DELETE ON sync_rows BEGIN
  INSERT INTO sync_known_dirty(tbl, id) SELECT OLD.tbl, OLD.id
    WHERE NOT EXISTS (SELECT 1 FROM sync_known_dirty WHERE tbl = OLD.tbl AND id = OLD.id);
END;
