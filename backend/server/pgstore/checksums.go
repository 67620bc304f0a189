package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/internal/rowscan"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// checksumsMigration is the number of the migration that made the
// checksums: the migration step that reaches it computes those of the rows
// already stored.
const checksumsMigration = 3

// qAddSums adds this transaction's checksum changes in one statement. The
// sums are the 64 bits of a uint64 in a bigint: numeric arithmetic mod 2^64,
// brought back to the signed range, wraps as Go's uint64 does.
const qAddSums = `INSERT INTO checksums(site, tbl, bucket, cnt, sum)
	SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[])
	ON CONFLICT (site, tbl, bucket) DO UPDATE SET cnt = checksums.cnt + excluded.cnt,
	  sum = ((((checksums.sum::numeric + excluded.sum::numeric + 9223372036854775808) % 18446744073709551616)
	    + 18446744073709551616) % 18446744073709551616 - 9223372036854775808)::bigint`

// AddSum accumulates d for the bucket and its table; Commit queues them.
func (t *Tx) AddSum(table, bucket string, d checksum.Sum) { t.sums.Add(table, bucket, d) }

// queueSums queues the statement adding the accumulated sums.
func (t *Tx) queueSums() {
	if len(t.sums) == 0 {
		return
	}
	n := len(t.sums)
	tbl, bucket, cnt, sum := make([]string, 0, n), make([]string, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	for k, d := range t.sums {
		tbl, bucket, cnt, sum = append(tbl, k.Table), append(bucket, k.Bucket), append(cnt, d.Count), append(sum, int64(d.Sum))
	}
	t.queue(qAddSums, t.site, tbl, bucket, cnt, sum)
	t.sums = nil
}

func scanSums(rs pgx.Rows, err error) (map[string]checksum.Sum, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	return rowscan.Sums(rs)
}

// readOnly runs f in one REPEATABLE READ, read-only transaction.
func (s *Store) readOnly(ctx context.Context, f func(pgx.Tx) error) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return wrap(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, f))
}

// Checksums reads the sequence and the table's non-empty buckets in one
// snapshot.
func (s *Store) Checksums(ctx context.Context, site, table string) (int64, map[string]checksum.Sum, error) {
	var seq int64
	var out map[string]checksum.Sum
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM sites WHERE site = $1), 0)`, site).Scan(&seq); err != nil {
			return fmt.Errorf("read sequence: %w", err)
		}
		var err error
		out, err = scanSums(tx.Query(ctx, `SELECT bucket, cnt, sum FROM checksums WHERE site = $1 AND tbl = $2 AND bucket <> '' AND cnt <> 0`, site, table))
		if err != nil {
			return fmt.Errorf("read checksums: %w", err)
		}
		return nil
	})
	return seq, out, err
}

// BucketRows reads the sequence and a bucket's live rows after an id in
// one snapshot (COLLATE "C": byte order).
func (s *Store) BucketRows(ctx context.Context, site, bucket, after string, limit int) (int64, []server.StoredRow, error) {
	var seq int64
	var out []server.StoredRow
	err := s.readOnly(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT seq FROM sites WHERE site = $1), 0)`, site).Scan(&seq); err != nil {
			return fmt.Errorf("read sequence: %w", err)
		}
		var err error
		out, err = scanRows(tx.Query(ctx, `SELECT `+rowCols+` FROM rows WHERE site = $1 AND bucket = $2 AND id > $3 AND NOT deleted
			ORDER BY id LIMIT $4`, site, bucket, after, limit))
		return err
	})
	return seq, out, err
}

// RebuildChecksums recomputes every checksum from the rows, holding every
// site's write lock.
func (s *Store) RebuildChecksums(ctx context.Context) (int64, error) {
	var n int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		// Every writer takes its site's row FOR NO KEY UPDATE (ROW SHARE)
		// or creates the site (ROW EXCLUSIVE): EXCLUSIVE waits for them
		// and holds them all off, a site created meanwhile included.
		// Locking only the existing sites' rows let a new site's first
		// write commit between the read of the rows and the DELETE below,
		// which removed its sums. Readers (ACCESS SHARE) go on.
		if _, err := tx.Exec(ctx, `LOCK TABLE sites IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock sites: %w", err)
		}
		var err error
		n, err = rebuildChecksums(ctx, tx)
		return err
	})
	return n, wrap(err)
}

// rebuildChecksums gives every row without a bucket its bucket and replaces
// every checksum by the sums of the rows. It returns the live rows counted.
func rebuildChecksums(ctx context.Context, tx pgx.Tx) (int64, error) {
	reg := protocol.NewRegistry()
	type key struct{ site, table, bucket string }
	sums := map[key]checksum.Sum{}
	var fSite, fTbl, fID, fBucket []string
	var live int64
	rs, err := tx.Query(ctx, `SELECT site, tbl, id, version, deleted, bucket,
		CASE WHEN bucket = '' THEN data ELSE ''::bytea END FROM rows`)
	if err != nil {
		return 0, fmt.Errorf("read rows: %w", err)
	}
	for rs.Next() {
		var version int64
		var site, table, id, bucket string
		var data []byte
		var deleted bool
		if err := rs.Scan(&site, &table, &id, &version, &deleted, &bucket, &data); err != nil {
			rs.Close()
			return 0, fmt.Errorf("read rows: %w", err)
		}
		if bucket == "" {
			bucket = checksum.RowBucket(reg, table, id, data)
			fSite, fTbl, fID, fBucket = append(fSite, site), append(fTbl, table), append(fID, id), append(fBucket, bucket)
		}
		if deleted {
			continue
		}
		live++
		h := checksum.Hash(table, id, version)
		for _, k := range []key{{site, table, bucket}, {site, table, ""}} {
			c := sums[k]
			c.Add(h)
			sums[k] = c
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("read rows: %w", err)
	}
	if len(fID) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE rows r SET bucket = f.bucket
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS f(site, tbl, id, bucket)
			WHERE r.site = f.site AND r.tbl = f.tbl AND r.id = f.id`, fSite, fTbl, fID, fBucket); err != nil {
			return 0, fmt.Errorf("set buckets: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM checksums`); err != nil {
		return 0, fmt.Errorf("clear checksums: %w", err)
	}
	var cSite, cTbl, cBucket []string
	var cCnt, cSum []int64
	for k, c := range sums {
		cSite, cTbl, cBucket, cCnt, cSum = append(cSite, k.site), append(cTbl, k.table), append(cBucket, k.bucket), append(cCnt, c.Count), append(cSum, int64(c.Sum))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO checksums(site, tbl, bucket, cnt, sum)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])`, cSite, cTbl, cBucket, cCnt, cSum); err != nil {
		return 0, fmt.Errorf("write checksums: %w", err)
	}
	return live, nil
}
