package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// A corrupted device (issue 16, docs/design.md section 8): between two syncs
// the device's store is closed, its SQLCipher file is edited directly with
// the device's key (what a bug, a restore of an old copy of the file or
// someone with the key and a SQL shell leaves), and the store is opened
// again. Only clean rows are touched, never a pending edit: the device
// must find the difference at its next verification and repair it from
// the server's listings.

// Corruption kinds, one per corrupted row.
const (
	corruptDelete   = "deleted"     // a clean row removed from the file
	corruptRevive   = "resurrected" // a clean tombstone made live again
	corruptPhantom  = "phantom"     // a row the server does not have (purged, or never had) inserted clean
	corruptRollback = "rolled-back" // a clean row put back at an older version it held
)

// corruptedRow is one row a corruption changed.
type corruptedRow struct {
	table, id, kind string
}

// corruptTables are the tables corrupted: the records and the line
// configurations (site data rows gate which codes a record may name, and a
// device refusing a record for a line its file lost is another matter).
var corruptTables = []string{protocol.TableProductionRecords, protocol.TableLineConfigs}

// corrupt closes d's store, corrupts up to n rows of each kind in its file
// and opens it again; the caller holds d.op (or d is not running yet). The
// rows changed are added to d.corrupted and returned.
func (d *device) corrupt(ctx context.Context, rng *rand.Rand, n int) ([]corruptedRow, error) {
	n = max(1, n)
	// Older versions to roll back to, asked before the store closes (the
	// server keeps each row's history; a row the server cannot answer for
	// is rolled back by its version alone).
	type cand struct {
		table, id string
		version   int64
	}
	var done []corruptedRow
	d.st.Close()
	err := func() error {
		db, err := d.rawDB(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		clean := func(table, where string) ([]cand, error) {
			rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT id, version FROM %s t WHERE synced_at IS NOT NULL AND %s
				AND NOT EXISTS (SELECT 1 FROM sync_rows r WHERE r.tbl = '%s' AND r.id = t.id) ORDER BY id`, table, where, table))
			if err != nil {
				return nil, fmt.Errorf("device %d: clean rows of %s: %w", d.idx, table, err)
			}
			defer rows.Close()
			var out []cand
			for rows.Next() {
				c := cand{table: table}
				if err := rows.Scan(&c.id, &c.version); err != nil {
					return nil, fmt.Errorf("device %d: clean rows of %s: %w", d.idx, table, err)
				}
				out = append(out, c)
			}
			return out, rows.Err()
		}
		pick := func(cs []cand, k int) []cand {
			rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
			return cs[:min(k, len(cs))]
		}
		var live, dead, older []cand
		for _, t := range corruptTables {
			l, err := clean(t, "deleted_at IS NULL")
			if err != nil {
				return err
			}
			live = append(live, l...)
			x, err := clean(t, "deleted_at IS NOT NULL")
			if err != nil {
				return err
			}
			dead = append(dead, x...)
		}
		live = pick(live, len(live))
		for _, c := range live {
			if c.version >= 2 && len(older) < n {
				older = append(older, c)
			}
		}
		taken := map[string]bool{}
		for _, c := range older {
			taken[c.table+"/"+c.id] = true
		}
		var gone []cand
		for _, c := range live {
			if !taken[c.table+"/"+c.id] && len(gone) < n {
				gone = append(gone, c)
			}
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("device %d: corrupt: %w", d.idx, err)
		}
		defer tx.Rollback()
		for _, c := range gone {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+c.table+" WHERE id = ?", c.id); err != nil {
				return fmt.Errorf("device %d: delete %s %s: %w", d.idx, c.table, c.id, err)
			}
			done = append(done, corruptedRow{c.table, c.id, corruptDelete})
		}
		for _, c := range pick(dead, n) {
			if _, err := tx.ExecContext(ctx, "UPDATE "+c.table+" SET deleted_at = NULL WHERE id = ?", c.id); err != nil {
				return fmt.Errorf("device %d: revive %s %s: %w", d.idx, c.table, c.id, err)
			}
			done = append(done, corruptedRow{c.table, c.id, corruptRevive})
		}
		if len(dead) == 0 && len(live) > 0 {
			// No tombstone to bring back: a record the server does not
			// have, as a purged row put back from an old copy would be.
			src := live[0]
			for _, c := range live {
				if c.table == protocol.TableProductionRecords {
					src = c
					break
				}
			}
			if src.table == protocol.TableProductionRecords {
				id := uuid.NewString()
				if _, err := tx.ExecContext(ctx, `INSERT INTO production_records(id, line_id, product_id, quantity, operator_id, created_at,
					updated_at, synced_at, deleted_at, server_updated_at, version, hlc) SELECT ?, line_id, product_id, quantity, operator_id,
					created_at, updated_at, synced_at, NULL, server_updated_at, version, hlc FROM production_records WHERE id = ?`, id, src.id); err != nil {
					return fmt.Errorf("device %d: insert a phantom record: %w", d.idx, err)
				}
				done = append(done, corruptedRow{src.table, id, corruptPhantom})
			}
		}
		for _, c := range older {
			if err := d.rollBack(ctx, tx, c.table, c.id, c.version); err != nil {
				return err
			}
			done = append(done, corruptedRow{c.table, c.id, corruptRollback})
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("device %d: corrupt: %w", d.idx, err)
		}
		return nil
	}()
	if oerr := d.reopen(ctx); oerr != nil && err == nil {
		err = oerr
	}
	d.mu.Lock()
	d.corrupted = append(d.corrupted, done...)
	d.mu.Unlock()
	return done, err
}

// wasCorrupted reports whether the nemesis corrupted table/id in d's file.
func (d *device) wasCorrupted(table, id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.corrupted {
		if c.table == table && c.id == id {
			return true
		}
	}
	return false
}

// rollBack puts table/id back at the newest version older than version
// the server's history holds (its fields, version and hlc), or, when the
// history cannot be read, at version-1 with its present fields.
func (d *device) rollBack(ctx context.Context, tx *sql.Tx, table, id string, version int64) error {
	tb, _ := registry.Lookup(table)
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	h, herr := d.cl.API().History(hctx, table, id)
	cancel()
	if herr == nil {
		for i := len(h) - 1; i >= 0; i-- {
			v := h[i]
			if v.Version >= version || v.Version < 1 {
				continue
			}
			set, args := "version = ?, hlc = ?", []any{v.Version, v.HLC}
			for _, col := range tb.Columns {
				if !col.People && col.Name != "updated_at" {
					continue
				}
				val, err := col.Normalize(v.Row[col.Name])
				if err != nil && v.Row[col.Name] != nil {
					return fmt.Errorf("device %d: roll back %s %s: %s: %w", d.idx, table, id, col.Name, err)
				}
				if val == nil && !col.Nullable {
					continue
				}
				set += ", " + col.Name + " = ?"
				args = append(args, val)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE id = ?", append(args, id)...); err != nil {
				return fmt.Errorf("device %d: roll back %s %s: %w", d.idx, table, id, err)
			}
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET version = version - 1 WHERE id = ?", id); err != nil {
		return fmt.Errorf("device %d: roll back %s %s: %w", d.idx, table, id, err)
	}
	return nil
}

// rawDB opens the device's closed SQLCipher file directly with its key.
func (d *device) rawDB(ctx context.Context) (*sql.DB, error) {
	k, err := deviceKey(ctx, d.dir)
	if err != nil {
		return nil, fmt.Errorf("device %d key: %w", d.idx, err)
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(d.dir, "outpost.db"))}).String()
	dsn := u + "?" + url.Values{"_pragma_key": {"x'" + hex.EncodeToString(k) + "'"}, "_busy_timeout": {"5000"}}.Encode()
	db := sql.OpenDB(rawConnector{dsn: dsn})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("device %d: open the file directly: %w", d.idx, err)
	}
	return db, nil
}

// judgeCorruption counts, in sum, the corrupted rows a device did not
// bring back to the server's state (server: check's reading; dump: the
// device's rows). A row the server holds live must be held clean at the
// server's version; one it deleted or no longer has must not be held live.
func judgeCorruption(ctx context.Context, sum *Summary, all []*device, server map[string]map[string]protocol.PullChange,
	mismatch func(string, ...any)) error {
	for _, d := range all {
		dumps := map[string]map[string]struct {
			version int64
			live    bool
			clean   bool
		}{}
		for _, c := range d.corrupted {
			sum.Corrupted++
			if dumps[c.table] == nil {
				rows, err := d.st.DumpTable(ctx, c.table)
				if err != nil {
					return err
				}
				m := map[string]struct {
					version int64
					live    bool
					clean   bool
				}{}
				for id, r := range rows {
					m[id] = struct {
						version int64
						live    bool
						clean   bool
					}{r.Version, r.Row["deleted_at"] == nil, r.State == "clean"}
				}
				dumps[c.table] = m
			}
			lr, has := dumps[c.table][c.id]
			sc, onServer := server[c.table][c.id]
			ok := true
			switch {
			case onServer && sc.Row["deleted_at"] == nil:
				ok = has && lr.clean && lr.live && lr.version == sc.Version
			default:
				ok = !has || !lr.live
			}
			if !ok {
				sum.Unrepaired++
				mismatch("device %d: %s %s %s by the nemesis was not repaired (device: held %v, version %d, live %v; server: version %d)",
					d.idx, c.table, c.id, c.kind, has, lr.version, lr.live, sc.Version)
			}
		}
	}
	return nil
}
