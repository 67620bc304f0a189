package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/syncstate"
)

// Row states of a synced row (syncstate: the sync client shares them
// without linking this package's driver). Clean and Pending are not stored
// in sync_rows: clean = synced_at set; pending = synced_at NULL with no
// entry, or with an entry whose hlc is not the row's (edited again since it
// met the server).
const (
	StateClean          = syncstate.StateClean
	StatePending        = syncstate.StatePending
	StateInFlight       = syncstate.StateInFlight
	StateAwaitingReview = syncstate.StateAwaitingReview
	StateResolving      = syncstate.StateResolving
	StateRejected       = syncstate.StateRejected
)

// RowStates returns the state of each of ids (rows of table) that exists,
// in one query per chunk of ids: a list page asks for all its rows at once,
// not one query per row.
func (s *Store) RowStates(ctx context.Context, table string, ids []string) (map[string]string, error) {
	tb, ok := s.syncedTable(table)
	if !ok {
		return nil, fmt.Errorf("row states %q: %w", table, ErrUnknownTable)
	}
	out := make(map[string]string, len(ids))
	const chunk = 500 // under SQLite's default limit of 999 parameters
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		part := ids[:n]
		ids = ids[n:]
		args := make([]any, 0, n+1)
		args = append(args, tb.Name)
		for _, id := range part {
			args = append(args, id)
		}
		q := "SELECT r.id, r.synced_at, r.hlc, e.state, e.hlc FROM " + tb.Name +
			" r LEFT JOIN sync_rows e ON e.tbl = ? AND e.id = r.id WHERE r.id IN (?" + strings.Repeat(", ?", n-1) + ")"
		err := s.read(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, cur string
				var synced sql.NullInt64
				var state, eh sql.NullString
				if err := rows.Scan(&id, &synced, &cur, &state, &eh); err != nil {
					return err
				}
				out[id] = rowState(synced.Valid, cur, state.String, eh.String)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("row states %s: %w", table, err)
		}
	}
	return out, nil
}

// RowState returns the sync state of one row (StateClean … StateRejected).
func (s *Store) RowState(ctx context.Context, table, id string) (string, error) {
	tb, ok := s.syncedTable(table)
	if !ok {
		return "", fmt.Errorf("row state %q: %w", table, ErrUnknownTable)
	}
	var synced sql.NullInt64
	var cur string
	var state, eh sql.NullString
	err := s.readRow(ctx, "SELECT r.synced_at, r.hlc, e.state, e.hlc FROM "+tb.Name+" r LEFT JOIN sync_rows e ON e.tbl = ? AND e.id = r.id WHERE r.id = ?",
		[]any{tb.Name, id}, func(r *sql.Row) error { return r.Scan(&synced, &cur, &state, &eh) })
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("row state %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("row state %s: %w", id, err)
	}
	return rowState(synced.Valid, cur, state.String, eh.String), nil
}

// rowState derives a row's state from its synced_at, its hlc and its
// sync_rows entry (state "" = none).
func rowState(synced bool, rowHLC, entryState, entryHLC string) string {
	switch {
	case synced && entryState == "":
		return StateClean
	case entryState == StateInFlight:
		return StateInFlight
	case entryState == "" || entryHLC != rowHLC:
		return StatePending
	case entryState == StateResolving:
		return StateAwaitingReview
	}
	return entryState
}
