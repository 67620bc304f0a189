package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// The device's own checksums (docs/design.md section 8, migration 0007).
//
// sync_known holds, per row, the last server state the device received:
// the row's own state while it is clean, the remembered state while it is
// not. sync_sums adds up the live known states per bucket. Both change only
// through setKnown, so the sums are kept incrementally and never need a
// table scan. Whether a row is clean, its version, deleted_at and
// created_at change in many places (pulls, push results, discards, full
// passes, timelines, a direct edit of the file); triggers note those rows in
// sync_known_dirty and settleKnown, run by every write transaction before
// it commits, re-derives their known state. A server state received for a
// row that is not clean is remembered explicitly (rememberServer).

// knownState is the server state counted for one row.
type knownState struct {
	version int64
	live    bool
	bucket  string
	h       uint64
}

// setKnown makes st (nil: nothing known) the known state of table/id and
// moves the bucket sums by the difference, inside transaction t.
func setKnown(t *wtx, table, id string, st *knownState) error {
	var old knownState
	var oldH int64
	var had bool
	err := t.queryRow("SELECT version, live, bucket, h FROM sync_known WHERE tbl = ? AND id = ?", table, id).
		Scan(&old.version, &old.live, &old.bucket, &oldH)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("read known state: %w", err)
	default:
		had = true
		old.h = uint64(oldH)
	}
	if had && st != nil && old == *st {
		return nil
	}
	if !had && st == nil {
		return nil
	}
	if had && old.live {
		if err := addSum(t, table, old.bucket, -1, -old.h); err != nil {
			return err
		}
	}
	if st == nil {
		_, err := t.exec("DELETE FROM sync_known WHERE tbl = ? AND id = ?", table, id)
		if err != nil {
			return fmt.Errorf("forget known state: %w", err)
		}
		return nil
	}
	if st.live {
		if err := addSum(t, table, st.bucket, 1, st.h); err != nil {
			return err
		}
	}
	if _, err := t.exec(`INSERT INTO sync_known(tbl, id, version, live, bucket, h) VALUES(?, ?, ?, ?, ?, ?)
		ON CONFLICT(tbl, id) DO UPDATE SET version = excluded.version, live = excluded.live, bucket = excluded.bucket, h = excluded.h`,
		table, id, st.version, st.live, st.bucket, int64(st.h)); err != nil {
		return fmt.Errorf("save known state: %w", err)
	}
	return nil
}

// addSum adds n rows of hash sum h to bucket (mod 2^64); a bucket that
// drops to no row is removed.
func addSum(t *wtx, table, bucket string, n int64, h uint64) error {
	if _, err := t.exec(`INSERT INTO sync_sums(bucket, tbl, n, sum) VALUES(?, ?, 0, 0) ON CONFLICT(bucket) DO NOTHING`, bucket, table); err != nil {
		return fmt.Errorf("bucket sum %s: %w", bucket, err)
	}
	var cn, cs int64
	if err := t.queryRow("SELECT n, sum FROM sync_sums WHERE bucket = ?", bucket).Scan(&cn, &cs); err != nil {
		return fmt.Errorf("bucket sum %s: %w", bucket, err)
	}
	cn += n
	cs = int64(uint64(cs) + h)
	var err error
	if cn == 0 {
		_, err = t.exec("DELETE FROM sync_sums WHERE bucket = ?", bucket)
	} else {
		_, err = t.exec("UPDATE sync_sums SET n = ?, sum = ? WHERE bucket = ?", cn, cs, bucket)
	}
	if err != nil {
		return fmt.Errorf("bucket sum %s: %w", bucket, err)
	}
	return nil
}

// stateOf is the known state of a row at version with deleted_at
// (nil: live) and created_at (ms), or nil for version 0 (the server has
// no state this device knows of).
func stateOf(tb protocol.Table, id string, version int64, live bool, createdAt int64) *knownState {
	if version <= 0 {
		return nil
	}
	return &knownState{
		version: version,
		live:    live,
		bucket:  checksum.Bucket(tb.Name, id, tb.TimePartitioned, createdAt),
		h:       checksum.Hash(tb.Name, id, version),
	}
}

// conflictsTable describes sync_conflicts for buckets: keyed by id.
var conflictsTable = protocol.Table{Name: protocol.TableConflicts}

// rememberServer records row, the server's state of table/id at version,
// as the row's known state; for a row that is not clean (a clean row's
// state is its own and is settled from it).
func (s *Store) rememberServer(t *wtx, tb protocol.Table, id string, version int64, row map[string]any) error {
	created, ok := toInt64(row["created_at"])
	if !ok {
		// Not sent: created_at never changes on the server, so the local
		// row's value is the server's (or repair corrects it).
		if err := t.queryRow("SELECT created_at FROM "+tb.Name+" WHERE id = ?", id).Scan(&created); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read created_at: %w", err)
		}
	}
	deleted, hasDeleted := row["deleted_at"]
	live := !hasDeleted || deleted == nil
	return setKnown(t, tb.Name, id, stateOf(tb, id, version, live, created))
}

// settleKnown re-derives the known state of every row noted in
// sync_known_dirty: a clean row counts its own state, a row that is gone
// counts nothing, a row that is not clean keeps its remembered state (one
// without any, only after the upgrade to 0007, counts its base version).
// One query per table reads the noted rows with their entries and known
// states; only changed known states are written, and the sums move once
// per bucket.
func (s *Store) settleKnown(t *wtx) error {
	var noted bool
	if err := t.queryRow(qAnyDirty).Scan(&noted); err != nil {
		return fmt.Errorf("read changed rows: %w", err)
	}
	if !noted {
		return nil
	}
	deltas := map[string]*sumDelta{}
	move := func(table string, st *knownState, sign int64) {
		if st == nil || !st.live {
			return
		}
		d := deltas[st.bucket]
		if d == nil {
			d = &sumDelta{table: table}
			deltas[st.bucket] = d
		}
		d.n += sign
		d.sum += uint64(sign) * st.h
	}
	for _, tb := range append(syncTables[:len(syncTables):len(syncTables)], conflictsTable) {
		noted, err := notedRows(t, tb)
		if err != nil {
			return fmt.Errorf("settle known states of %s: %w", tb.Name, err)
		}
		for _, n := range noted {
			if n.old != nil && n.new != nil && *n.old == *n.new {
				continue
			}
			if n.old == nil && n.new == nil {
				continue
			}
			move(tb.Name, n.old, -1)
			move(tb.Name, n.new, 1)
			var err error
			if n.new == nil {
				_, err = t.exec("DELETE FROM sync_known WHERE tbl = ? AND id = ?", tb.Name, n.id)
			} else {
				_, err = t.exec(upsertKnown, tb.Name, n.id, n.new.version, n.new.live, n.new.bucket, int64(n.new.h))
			}
			if err != nil {
				return fmt.Errorf("settle known state of %s %s: %w", tb.Name, n.id, err)
			}
		}
	}
	for bucket, d := range deltas {
		if d.n == 0 && d.sum == 0 {
			continue
		}
		if err := addSum(t, d.table, bucket, d.n, d.sum); err != nil {
			return err
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM sync_known_dirty"); err != nil {
		return fmt.Errorf("settle known states: %w", err)
	}
	return nil
}

const qAnyDirty = "SELECT EXISTS (SELECT 1 FROM sync_known_dirty)"

const upsertKnown = `INSERT INTO sync_known(tbl, id, version, live, bucket, h) VALUES(?, ?, ?, ?, ?, ?)
	ON CONFLICT(tbl, id) DO UPDATE SET version = excluded.version, live = excluded.live, bucket = excluded.bucket, h = excluded.h`

type sumDelta struct {
	table string
	n     int64
	sum   uint64
}

// notedRow is one noted row: its known state before and after settling.
type notedRow struct {
	id       string
	old, new *knownState
}

// notedRows reads the rows of tb noted in sync_known_dirty with what
// settling needs, and derives their new known states.
func notedRows(t *wtx, tb protocol.Table) ([]notedRow, error) {
	var q string
	if tb.Name == protocol.TableConflicts {
		q = `SELECT d.id, c.version IS NOT NULL, 1, coalesce(c.version, 0), NULL, 0, 0, k.version, k.live, k.bucket, k.h
			FROM sync_known_dirty d LEFT JOIN sync_conflicts c ON c.id = d.id
			LEFT JOIN sync_known k ON k.tbl = d.tbl AND k.id = d.id WHERE d.tbl = ?`
	} else {
		// Names come from the registry, never from input.
		q = `SELECT d.id, r.id IS NOT NULL, r.synced_at IS NOT NULL, coalesce(r.version, 0), r.deleted_at, coalesce(r.created_at, 0),
			EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = d.tbl AND e.id = d.id), k.version, k.live, k.bucket, k.h
			FROM sync_known_dirty d LEFT JOIN ` + tb.Name + ` r ON r.id = d.id
			LEFT JOIN sync_known k ON k.tbl = d.tbl AND k.id = d.id WHERE d.tbl = ?`
	}
	rows, err := t.tx.QueryContext(t.ctx, q, tb.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notedRow
	for rows.Next() {
		var n notedRow
		var exists, synced, entry bool
		var version, created int64
		var deleted, kv, kh sql.NullInt64
		var kl sql.NullBool
		var kb sql.NullString
		if err := rows.Scan(&n.id, &exists, &synced, &version, &deleted, &created, &entry, &kv, &kl, &kb, &kh); err != nil {
			return nil, err
		}
		if kv.Valid {
			n.old = &knownState{version: kv.Int64, live: kl.Bool, bucket: kb.String, h: uint64(kh.Int64)}
		}
		switch {
		case !exists:
		case synced && !entry:
			n.new = stateOf(tb, n.id, version, !deleted.Valid, created)
		case n.old != nil:
			n.new = n.old
		default:
			n.new = stateOf(tb, n.id, version, !deleted.Valid, created)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// forgetKnown drops the known states and sums of the synced tables (a
// timeline change: the device no longer knows any server state of them)
// inside t. Conflict records held still count as held, until the timeline
// pass ends.
func forgetKnown(t *wtx) error {
	for _, q := range []string{"DELETE FROM sync_known WHERE tbl <> ?", "DELETE FROM sync_sums WHERE tbl <> ?"} {
		if _, err := t.tx.ExecContext(t.ctx, q, protocol.TableConflicts); err != nil {
			return fmt.Errorf("forget known states: %w", err)
		}
	}
	// A verification on the old timeline proves nothing on the new one.
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM meta WHERE key = ?", metaVerified); err != nil {
		return fmt.Errorf("forget verification: %w", err)
	}
	return nil
}

// TableSums returns the device's checksum of every table with at least one
// live known row (docs/design.md section 8): what it compares with the final
// pull page's checksums.
func (s *Store) TableSums(ctx context.Context) (map[string]checksum.Sum, error) {
	out := map[string]checksum.Sum{}
	err := s.write(ctx, func(t *wtx) error {
		if err := s.settleKnown(t); err != nil {
			return err
		}
		return scanSums(t, "SELECT tbl, n, sum FROM sync_sums", nil, func(_, tbl string, c checksum.Sum) {
			v := out[tbl]
			v.Merge(c)
			out[tbl] = v
		})
	})
	if err != nil {
		return nil, fmt.Errorf("table sums: %w", err)
	}
	return out, nil
}

// BucketSums returns the device's checksum of every non-empty bucket of
// table.
func (s *Store) BucketSums(ctx context.Context, table string) (map[string]checksum.Sum, error) {
	out := map[string]checksum.Sum{}
	err := s.write(ctx, func(t *wtx) error {
		if err := s.settleKnown(t); err != nil {
			return err
		}
		return scanSums(t, "SELECT bucket, tbl, n, sum FROM sync_sums WHERE tbl = ?", []any{table}, func(bucket, _ string, c checksum.Sum) {
			out[bucket] = c
		})
	})
	if err != nil {
		return nil, fmt.Errorf("bucket sums of %s: %w", table, err)
	}
	return out, nil
}

// scanSums runs q (bucket optional, tbl, n, sum) and hands each row to fn.
func scanSums(t *wtx, q string, args []any, fn func(bucket, table string, c checksum.Sum)) error {
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		var bucket, tbl string
		var n, sum int64
		dest := []any{&tbl, &n, &sum}
		if len(cols) == 4 {
			dest = append([]any{&bucket}, dest...)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(bucket, tbl, checksum.Sum{Count: n, Sum: uint64(sum)})
	}
	return rows.Err()
}

// rememberPushed records the pushed state of change c, which the server
// accepted at version, as the known state of a row edited again since.
func (s *Store) rememberPushed(t *wtx, tb protocol.Table, c protocol.Change, version int64) error {
	row, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return fmt.Errorf("decode pushed row: %w", err)
	}
	return s.rememberServer(t, tb, c.ID, version, row)
}

// RepairOutcome is what applying one bucket listing did
// (syncstate.RepairOutcome).
type RepairOutcome = syncstate.RepairOutcome

// ApplyBucketListing applies the server's complete listing of bucket (the
// live rows of one table's bucket, from GET /v1/rows) in one transaction
// (docs/design.md section 8): clean or missing rows take the listed state, rows
// that are not clean only update their remembered server state (a pending
// edit is never touched), clean rows the listing does not hold are
// removed, and the device's bucket is compared with the listing.
func (s *Store) ApplyBucketListing(ctx context.Context, table, bucket string, rows []protocol.PullChange) (RepairOutcome, error) {
	var out RepairOutcome
	tb, ok := s.syncedTable(table)
	if table == protocol.TableConflicts {
		tb, ok = conflictsTable, true
	}
	if !ok {
		return out, fmt.Errorf("repair %s: %w", bucket, ErrUnknownTable)
	}
	err := s.write(ctx, func(t *wtx) error {
		listed := make(map[string]bool, len(rows))
		for _, ch := range rows {
			listed[ch.ID] = true
			out.Listed.Add(checksum.Hash(table, ch.ID, ch.Version))
			if table == protocol.TableConflicts {
				var pout PullOutcome
				if err := s.pullConflict(t, ch, &pout); err != nil {
					return fmt.Errorf("conflict %s: %w", ch.ID, err)
				}
				out.Written++
				continue
			}
			var synced, deleted sql.NullInt64
			var entry bool
			var version, created int64
			err := t.queryRow("SELECT r.synced_at, EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = r.id), r.version, r.deleted_at, r.created_at FROM "+
				tb.Name+" r WHERE r.id = ?", tb.Name, ch.ID).Scan(&synced, &entry, &version, &deleted, &created)
			missing := errors.Is(err, sql.ErrNoRows)
			if err != nil && !missing {
				return fmt.Errorf("%s: %w", ch.ID, err)
			}
			clean := !missing && synced.Valid && !entry
			if clean && sameState(ch, version, !deleted.Valid, created) {
				// Already at the listed state (section 8 proves versions,
				// not content): rewriting it would make a scattered repair
				// cost a full re-pull.
				out.Kept++
				continue
			}
			if missing || clean {
				if clean {
					// A later version that still holds this device's own
					// change stays its own accepted write (ownchain.go).
					if err := s.carryOwnMark(t, tb, ch, localRow{version: version}); err != nil {
						return fmt.Errorf("%s: %w", ch.ID, err)
					}
				}
				if err := writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC); err != nil {
					return fmt.Errorf("%s: %w", ch.ID, err)
				}
				out.Written++
				continue
			}
			if err := s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row); err != nil {
				return fmt.Errorf("%s: %w", ch.ID, err)
			}
			out.Remembered++
		}
		// Every row the device counts in the bucket and the listing lacks.
		if err := s.settleKnown(t); err != nil {
			return err
		}
		absent, err := knownIn(t, bucket, listed)
		if err != nil {
			return err
		}
		for _, k := range absent {
			n, err := s.dropUnlisted(t, tb, k)
			if err != nil {
				return fmt.Errorf("%s: %w", k.id, err)
			}
			out.Removed += n
		}
		if err := s.settleKnown(t); err != nil {
			return err
		}
		return scanSums(t, "SELECT tbl, n, sum FROM sync_sums WHERE bucket = ?", []any{bucket}, func(_, _ string, c checksum.Sum) {
			out.Device = c
		})
	})
	if err != nil {
		return RepairOutcome{}, fmt.Errorf("repair %s: %w", bucket, err)
	}
	return out, nil
}

// sameState reports whether a clean local row at version, live and
// created_at (which decides its bucket) already holds the listed state ch.
func sameState(ch protocol.PullChange, version int64, live bool, created int64) bool {
	if version != ch.Version {
		return false
	}
	deleted, hasDeleted := ch.Row["deleted_at"]
	if live != (!hasDeleted || deleted == nil) {
		return false
	}
	if c, ok := toInt64(ch.Row["created_at"]); ok && c != created {
		return false
	}
	return true
}

type knownRow struct {
	id      string
	version int64
	live    bool
}

// knownIn lists the rows counted live in bucket that listed lacks.
func knownIn(t *wtx, bucket string, listed map[string]bool) ([]knownRow, error) {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT id, version, live FROM sync_known WHERE bucket = ? AND live = 1", bucket)
	if err != nil {
		return nil, fmt.Errorf("read bucket %s: %w", bucket, err)
	}
	defer rows.Close()
	var out []knownRow
	for rows.Next() {
		var k knownRow
		if err := rows.Scan(&k.id, &k.version, &k.live); err != nil {
			return nil, fmt.Errorf("read bucket %s: %w", bucket, err)
		}
		if !listed[k.id] {
			out = append(out, k)
		}
	}
	return out, rows.Err()
}

// dropUnlisted settles a row the server's listing does not hold (not live
// on the server): a clean row (or conflict record) is removed; a row that
// is not clean keeps its edit and remembers the server state as not live.
// It returns how many rows it removed.
func (s *Store) dropUnlisted(t *wtx, tb protocol.Table, k knownRow) (int, error) {
	if tb.Name == protocol.TableConflicts {
		_, err := t.exec("DELETE FROM sync_conflicts WHERE id = ?", k.id)
		return 1, err
	}
	res, err := t.exec(`DELETE FROM `+tb.Name+` WHERE id = ? AND synced_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = `+tb.Name+`.id)`, k.id, tb.Name)
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return int(n), nil
	}
	var bucket string
	if err := t.queryRow("SELECT bucket FROM sync_known WHERE tbl = ? AND id = ?", tb.Name, k.id).Scan(&bucket); err != nil {
		return 0, err
	}
	return 0, setKnown(t, tb.Name, k.id, &knownState{version: k.version, live: false, bucket: bucket, h: checksum.Hash(tb.Name, k.id, k.version)})
}
