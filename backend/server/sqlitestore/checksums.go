package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/internal/rowscan"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// checksumsMigration is the number of the migration that made the
// checksums: the migration step that reaches it computes those of the rows
// already stored.
const checksumsMigration = 4

// Statements of the checksums. qAddSum, prepared with the push path's,
// adds a count and a sum to a bucket's in one statement (issue 16: a read
// then a write per bucket cost ~10% of a push's CPU). The sum is stored as
// the int64 with the bits of the uint64; SQLite's + would overflow into a
// REAL, so it adds the low and the high 32-bit halves apart (each below
// 2^33) with the low half's carry, and shifts the high half back (SQLite
// shifts as uint64, dropping the bits above 63): the sum mod 2^64, exactly
// as checksum.Sum.Merge.
const (
	qInsertSum = `INSERT INTO checksums(site, tbl, bucket, cnt, sum) VALUES(?, ?, ?, ?, ?)`
	qAddSum    = qInsertSum + ` ON CONFLICT(site, tbl, bucket) DO UPDATE SET cnt = cnt + excluded.cnt, sum =
		((((sum >> 32) & 4294967295) + ((excluded.sum >> 32) & 4294967295)
			+ (((sum & 4294967295) + (excluded.sum & 4294967295)) >> 32)) << 32)
		| (((sum & 4294967295) + (excluded.sum & 4294967295)) & 4294967295)`
)

// AddSum accumulates d for the bucket and its table; writeSums stores them
// before the savepoint is released.
func (t *Tx) AddSum(table, bucket string, d checksum.Sum) { t.sums.Add(table, bucket, d) }

// writeSums adds the accumulated sums to the stored ones, one statement per
// bucket (the addition mod 2^64 is qAddSum's).
func (t *Tx) writeSums(ctx context.Context) error {
	for k, d := range t.sums {
		if _, err := t.stmt(ctx, qAddSum).ExecContext(ctx, t.site, k.Table, k.Bucket, d.Count, int64(d.Sum)); err != nil {
			return fmt.Errorf("write checksum %s %s: %w", k.Table, k.Bucket, wrap(err))
		}
	}
	t.sums = nil
	return nil
}

// readSums reads the checksums of the site's tables with live rows.
func readSums(ctx context.Context, tx *sql.Tx, site string) (map[string]checksum.Sum, error) {
	rs, err := tx.QueryContext(ctx, `SELECT tbl, cnt, sum FROM checksums WHERE site = ? AND bucket = '' AND cnt <> 0`, site)
	if err != nil {
		return nil, fmt.Errorf("read checksums: %w", wrap(err))
	}
	defer rs.Close()
	out, err := rowscan.Sums(rs)
	return out, wrap(err)
}

// readSeq begins a read transaction and reads the site's sequence in it;
// the caller rolls tx back.
func (s *Store) readSeq(ctx context.Context, site string) (tx *sql.Tx, seq int64, err error) {
	if tx, err = s.r.BeginTx(ctx, nil); err != nil {
		return nil, 0, fmt.Errorf("begin read: %w", wrap(err))
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sites WHERE site = ?), 0)`, site).Scan(&seq); err != nil {
		tx.Rollback()
		return nil, 0, fmt.Errorf("read sequence: %w", wrap(err))
	}
	return tx, seq, nil
}

// Checksums reads the sequence and the table's non-empty buckets in one
// read transaction.
func (s *Store) Checksums(ctx context.Context, site, table string) (int64, map[string]checksum.Sum, error) {
	tx, seq, err := s.readSeq(ctx, site)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback()
	rs, err := tx.QueryContext(ctx, `SELECT bucket, cnt, sum FROM checksums WHERE site = ? AND tbl = ? AND bucket <> '' AND cnt <> 0`, site, table)
	if err != nil {
		return 0, nil, fmt.Errorf("read checksums: %w", wrap(err))
	}
	defer rs.Close()
	out, err := rowscan.Sums(rs)
	return seq, out, wrap(err)
}

// BucketRows reads the sequence and a bucket's live rows after an id in one
// read transaction (BINARY collation: byte order).
func (s *Store) BucketRows(ctx context.Context, site, bucket, after string, limit int) (int64, []server.StoredRow, error) {
	tx, seq, err := s.readSeq(ctx, site)
	if err != nil {
		return 0, nil, err
	}
	defer tx.Rollback()
	rs, err := tx.QueryContext(ctx, `SELECT `+rowCols+` FROM rows WHERE site = ? AND bucket = ? AND id > ? AND deleted = 0
		ORDER BY id LIMIT ?`, site, bucket, after, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("read bucket: %w", wrap(err))
	}
	defer rs.Close()
	out, err := rowscan.All(rs, scanRow)
	return seq, out, wrap(err)
}

// RebuildChecksums recomputes every checksum from the rows, on the writer
// connection (so after every push already queued for it).
func (s *Store) RebuildChecksums(ctx context.Context) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", wrap(err))
	}
	defer tx.Rollback()
	n, err := rebuildChecksums(ctx, tx)
	if err != nil {
		return 0, err
	}
	return n, wrap(tx.Commit())
}

// rebuildChecksums gives every row without a bucket its bucket and replaces
// every checksum by the sums of the rows. It returns the live rows counted.
func rebuildChecksums(ctx context.Context, tx *sql.Tx) (int64, error) {
	reg := protocol.NewRegistry()
	type site = string
	sums := map[site]checksum.Pending{}
	type fix struct {
		rid    int64
		bucket string
	}
	var fixes []fix
	var live int64
	rs, err := tx.QueryContext(ctx, `SELECT rid, site, tbl, id, version, deleted, bucket,
		CASE WHEN bucket = '' THEN data ELSE '' END FROM rows`)
	if err != nil {
		return 0, fmt.Errorf("read rows: %w", wrap(err))
	}
	for rs.Next() {
		var rid, version int64
		var st, table, id, bucket, data string
		var deleted bool
		if err := rs.Scan(&rid, &st, &table, &id, &version, &deleted, &bucket, &data); err != nil {
			rs.Close()
			return 0, fmt.Errorf("read rows: %w", wrap(err))
		}
		if bucket == "" {
			bucket = checksum.RowBucket(reg, table, id, []byte(data))
			fixes = append(fixes, fix{rid, bucket})
		}
		if deleted {
			continue
		}
		live++
		var one checksum.Sum
		one.Add(checksum.Hash(table, id, version))
		p := sums[st]
		p.Add(table, bucket, one)
		sums[st] = p
	}
	if err := rs.Close(); err != nil {
		return 0, wrap(err)
	}
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("read rows: %w", wrap(err))
	}
	for _, f := range fixes {
		if _, err := tx.ExecContext(ctx, `UPDATE rows SET bucket = ? WHERE rid = ?`, f.bucket, f.rid); err != nil {
			return 0, fmt.Errorf("set bucket: %w", wrap(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM checksums`); err != nil {
		return 0, fmt.Errorf("clear checksums: %w", wrap(err))
	}
	for st, m := range sums {
		for k, c := range m {
			if _, err := tx.ExecContext(ctx, qInsertSum, st, k.Table, k.Bucket, c.Count, int64(c.Sum)); err != nil {
				return 0, fmt.Errorf("write checksum: %w", wrap(err))
			}
		}
	}
	return live, nil
}
