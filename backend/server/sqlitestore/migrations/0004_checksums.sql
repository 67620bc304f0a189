-- 0004: verified convergence (docs/design.md section 8; issue 16).
--
-- A row's checksum bucket, fixed when the row is first written. The index
-- finds a bucket's rows for GET /v1/rows, which sorts them by id: an index
-- ending in the (random) id took one more random page per new row and made
-- pushes markedly slower; this one appends (a day's bucket grows at its end). Existing rows
-- get theirs from the migration's Go step (rebuildChecksums: SQLite has no
-- SHA-256), in this same transaction.
ALTER TABLE rows ADD COLUMN bucket TEXT NOT NULL DEFAULT '';
CREATE INDEX rows_bucket ON rows(site, bucket);

-- The checksum of every bucket of every table of a site, and of the whole
-- table (bucket ''): cnt live rows, sum = Σ H mod 2^64 stored as the int64
-- of the same 64 bits. Kept in the transaction of every row write; the
-- migration's Go step computes those of existing rows.
CREATE TABLE checksums (
  site   TEXT NOT NULL,
  tbl    TEXT NOT NULL,
  bucket TEXT NOT NULL,
  cnt    INTEGER NOT NULL,
  sum    INTEGER NOT NULL,
  PRIMARY KEY (site, tbl, bucket)
) WITHOUT ROWID;

-- The cursor each device last said it verified its data at (-1: never)
-- and when.
ALTER TABLE devices ADD COLUMN verified INTEGER NOT NULL DEFAULT -1;
ALTER TABLE devices ADD COLUMN verified_at INTEGER NOT NULL DEFAULT 0;
