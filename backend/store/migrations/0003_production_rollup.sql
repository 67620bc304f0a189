-- 0003 (local only): hourly rollups of production_records for the dashboard
-- (docs/store.md, "Rollups"). Never synced; rebuilt here from the rows.
--
-- production_hourly: per UTC hour (created_at floored to 3 600 000 ms), line
-- and product, the sum of quantity and the number of live rows.
-- production_hourly_operator: the same per line and operator, so "top
-- operators" over 90 days reads a few thousand rollup rows instead of
-- decrypting every record.
--
-- Both are kept by triggers, so every write of production_records — local
-- create/update/delete/restore, a pulled page, a discard, a resolution —
-- updates them in its own transaction, whichever code path it takes.
-- Soft-deleted rows count nowhere. A bucket that drops to zero rows is kept
-- (records = 0): its rev still tells the dashboard what changed.
--
-- rev is a counter bumped by every change: the dashboard asks "which hours
-- changed since rev N" to refresh only what moved.

CREATE TABLE production_hourly (
  hour INTEGER NOT NULL,          -- UTC ms, a multiple of 3 600 000
  line_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  records INTEGER NOT NULL,
  rev INTEGER NOT NULL,
  PRIMARY KEY (hour, line_id, product_id)
) WITHOUT ROWID;
CREATE INDEX idx_production_hourly_rev ON production_hourly(rev);

CREATE TABLE production_hourly_operator (
  hour INTEGER NOT NULL,
  line_id TEXT NOT NULL,
  operator_id TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  records INTEGER NOT NULL,
  PRIMARY KEY (hour, line_id, operator_id)
) WITHOUT ROWID;

INSERT INTO production_hourly (hour, line_id, product_id, quantity, records, rev)
  SELECT created_at - created_at % 3600000, line_id, product_id, sum(quantity), count(*), 0
  FROM production_records WHERE deleted_at IS NULL GROUP BY 1, 2, 3;

INSERT INTO production_hourly_operator (hour, line_id, operator_id, quantity, records)
  SELECT created_at - created_at % 3600000, line_id, operator_id, sum(quantity), count(*)
  FROM production_records WHERE deleted_at IS NULL GROUP BY 1, 2, 3;

-- A row's contribution is added when it becomes live (insert, restore, an
-- edit of a live row) and subtracted when it stops being live or changes
-- bucket or value. UPDATE OF lists the columns that matter, so sync
-- bookkeeping updates (synced_at, version, hlc) fire nothing.

CREATE TRIGGER production_rollup_insert AFTER INSERT ON production_records
WHEN NEW.deleted_at IS NULL
BEGIN
  INSERT INTO production_hourly (hour, line_id, product_id, quantity, records, rev)
    VALUES (NEW.created_at - NEW.created_at % 3600000, NEW.line_id, NEW.product_id, NEW.quantity, 1,
            (SELECT coalesce(max(rev), 0) + 1 FROM production_hourly))
    ON CONFLICT (hour, line_id, product_id) DO UPDATE SET
      quantity = quantity + excluded.quantity, records = records + 1, rev = excluded.rev;
  INSERT INTO production_hourly_operator (hour, line_id, operator_id, quantity, records)
    VALUES (NEW.created_at - NEW.created_at % 3600000, NEW.line_id, NEW.operator_id, NEW.quantity, 1)
    ON CONFLICT (hour, line_id, operator_id) DO UPDATE SET
      quantity = quantity + excluded.quantity, records = records + 1;
END;

CREATE TRIGGER production_rollup_delete AFTER DELETE ON production_records
WHEN OLD.deleted_at IS NULL
BEGIN
  UPDATE production_hourly SET quantity = quantity - OLD.quantity, records = records - 1,
      rev = (SELECT coalesce(max(rev), 0) + 1 FROM production_hourly)
    WHERE hour = OLD.created_at - OLD.created_at % 3600000 AND line_id = OLD.line_id AND product_id = OLD.product_id;
  UPDATE production_hourly_operator SET quantity = quantity - OLD.quantity, records = records - 1
    WHERE hour = OLD.created_at - OLD.created_at % 3600000 AND line_id = OLD.line_id AND operator_id = OLD.operator_id;
END;

CREATE TRIGGER production_rollup_update_old
AFTER UPDATE OF line_id, product_id, operator_id, quantity, created_at, deleted_at ON production_records
WHEN OLD.deleted_at IS NULL
BEGIN
  UPDATE production_hourly SET quantity = quantity - OLD.quantity, records = records - 1,
      rev = (SELECT coalesce(max(rev), 0) + 1 FROM production_hourly)
    WHERE hour = OLD.created_at - OLD.created_at % 3600000 AND line_id = OLD.line_id AND product_id = OLD.product_id;
  UPDATE production_hourly_operator SET quantity = quantity - OLD.quantity, records = records - 1
    WHERE hour = OLD.created_at - OLD.created_at % 3600000 AND line_id = OLD.line_id AND operator_id = OLD.operator_id;
END;

CREATE TRIGGER production_rollup_update_new
AFTER UPDATE OF line_id, product_id, operator_id, quantity, created_at, deleted_at ON production_records
WHEN NEW.deleted_at IS NULL
BEGIN
  INSERT INTO production_hourly (hour, line_id, product_id, quantity, records, rev)
    VALUES (NEW.created_at - NEW.created_at % 3600000, NEW.line_id, NEW.product_id, NEW.quantity, 1,
            (SELECT coalesce(max(rev), 0) + 1 FROM production_hourly))
    ON CONFLICT (hour, line_id, product_id) DO UPDATE SET
      quantity = quantity + excluded.quantity, records = records + 1, rev = excluded.rev;
  INSERT INTO production_hourly_operator (hour, line_id, operator_id, quantity, records)
    VALUES (NEW.created_at - NEW.created_at % 3600000, NEW.line_id, NEW.operator_id, NEW.quantity, 1)
    ON CONFLICT (hour, line_id, operator_id) DO UPDATE SET
      quantity = quantity + excluded.quantity, records = records + 1;
END;
