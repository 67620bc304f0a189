package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// SyncedRow is one row of a synced table with its bookkeeping, for
// comparisons with the server (the simulator's convergence check).
type SyncedRow struct {
	Version int64
	HLC     string
	State   string
	Row     protocol.Row
}

// DumpTable returns every row of a synced table by id, with its state.
func (s *Store) DumpTable(ctx context.Context, table string) (map[string]SyncedRow, error) {
	tb, ok := s.syncedTable(table)
	if !ok {
		return nil, fmt.Errorf("dump %q: %w", table, ErrUnknownTable)
	}
	names := tb.ColumnNames()
	out := map[string]SyncedRow{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, syncedRowQuery(tb))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, _, err := scanSyncedRow(names, rows)
			if err != nil {
				return err
			}
			out[r.Row["id"].(string)] = r
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", table, err)
	}
	return out, nil
}

// SyncedRowByID returns one row of a synced table with its bookkeeping
// (version, hlc) and its sync state, as DumpTable reports each row:
// ErrNotFound when the table holds no row with that id (purged or never
// pulled), ErrUnknownTable when the table is not synced here.
//
// The conflict inbox reads a resolved conflict's decision from it while
// offline: a row that is clean at the version the decision made (the
// conflict record's row_version) is the decided state.
func (s *Store) SyncedRowByID(ctx context.Context, table, id string) (SyncedRow, error) {
	tb, ok := s.syncedTable(table)
	if !ok {
		return SyncedRow{}, fmt.Errorf("synced row %q: %w", table, ErrUnknownTable)
	}
	var out SyncedRow
	err := s.readRow(ctx, syncedRowQuery(tb)+" WHERE r.id = ?", []any{id}, func(r *sql.Row) error {
		var err error
		out, _, err = scanSyncedRow(tb.ColumnNames(), r)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return SyncedRow{}, fmt.Errorf("synced row %s %q: %w", tb.Name, id, ErrNotFound)
	}
	if err != nil {
		return SyncedRow{}, fmt.Errorf("synced row %s %q: %w", tb.Name, id, err)
	}
	return out, nil
}

// syncedRowQuery selects a synced table's wire columns with the row's
// version, hlc and sync state (what scanSyncedRow reads): the one query of
// DumpTable, SyncedRowByID and the site data reads.
func syncedRowQuery(tb protocol.Table) string {
	names := tb.ColumnNames()
	sel := make([]string, len(names))
	for i, c := range names {
		sel[i] = "r." + c
	}
	// Names come from the registry, never from input.
	return "SELECT " + strings.Join(sel, ", ") + ", r.version, r.hlc, r.synced_at IS NOT NULL, coalesce(e.state, ''), coalesce(e.hlc, '') FROM " +
		tb.Name + " r LEFT JOIN sync_rows e ON e.tbl = '" + tb.Name + "' AND e.id = r.id"
}

// scanSyncedRow reads one row of syncedRowQuery over the columns names
// (tb.ColumnNames()); synced reports synced_at IS NOT NULL.
func scanSyncedRow(names []string, sc scanner) (r SyncedRow, synced bool, err error) {
	vals := make([]any, len(names)+5)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := sc.Scan(ptrs...); err != nil {
		return SyncedRow{}, false, err
	}
	r.Row = make(protocol.Row, len(names))
	for i, c := range names {
		r.Row[c] = textOf(vals[i])
	}
	n := len(names)
	r.Version, _ = vals[n].(int64)
	r.HLC, _ = textOf(vals[n+1]).(string)
	s, _ := vals[n+2].(int64)
	st, _ := textOf(vals[n+3]).(string)
	eh, _ := textOf(vals[n+4]).(string)
	r.State = rowState(s == 1, r.HLC, st, eh)
	return r, s == 1, nil
}
