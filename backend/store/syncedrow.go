package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

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
	names := tb.ColumnNames()
	sel := make([]string, len(names))
	for i, c := range names {
		sel[i] = "r." + c
	}
	// Names come from the registry, never from input.
	q := "SELECT " + strings.Join(sel, ", ") + ", r.version, r.hlc, r.synced_at IS NOT NULL, coalesce(e.state, ''), coalesce(e.hlc, '') FROM " +
		tb.Name + " r LEFT JOIN sync_rows e ON e.tbl = ? AND e.id = r.id WHERE r.id = ?"
	vals := make([]any, len(names)+5)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := s.readRow(ctx, q, []any{tb.Name, id}, func(r *sql.Row) error { return r.Scan(ptrs...) })
	if errors.Is(err, sql.ErrNoRows) {
		return SyncedRow{}, fmt.Errorf("synced row %s %q: %w", tb.Name, id, ErrNotFound)
	}
	if err != nil {
		return SyncedRow{}, fmt.Errorf("synced row %s %q: %w", tb.Name, id, err)
	}
	out := SyncedRow{Row: make(protocol.Row, len(names))}
	for i, c := range names {
		out.Row[c] = textOf(vals[i])
	}
	n := len(names)
	out.Version, _ = vals[n].(int64)
	out.HLC, _ = textOf(vals[n+1]).(string)
	synced, _ := vals[n+2].(int64)
	st, _ := textOf(vals[n+3]).(string)
	eh, _ := textOf(vals[n+4]).(string)
	out.State = rowState(synced == 1, out.HLC, st, eh)
	return out, nil
}
