package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// QuarantinedRow is a rejected row: what the operator fixes or discards
// (syncstate.QuarantinedRow).
type QuarantinedRow = syncstate.QuarantinedRow

// Quarantine lists the rejected rows, oldest first.
func (s *Store) Quarantine(ctx context.Context) ([]QuarantinedRow, error) {
	out := []QuarantinedRow{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		for _, tb := range syncTables {
			cols := wireColumns(tb)
			sel := make([]string, len(cols))
			for i, c := range cols {
				sel[i] = "r." + c
			}
			rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(sel, ", ")+", e.reason, e.changed_at, coalesce(e.server_version, r.version) FROM sync_rows e JOIN "+tb.Name+
				" r ON r.id = e.id WHERE e.tbl = ? AND e.state = 'rejected' AND e.hlc = r.hlc ORDER BY e.changed_at", tb.Name)
			if err != nil {
				return err
			}
			for rows.Next() {
				vals := make([]any, len(cols)+3)
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				q := QuarantinedRow{Table: tb.Name, Row: protocol.Row{}}
				for i, c := range cols {
					q.Row[c] = textOf(vals[i])
				}
				q.ID, _ = q.Row["id"].(string)
				q.Reason, _ = textOf(vals[len(cols)]).(string)
				q.Since, _ = vals[len(cols)+1].(int64)
				q.ServerVersion, _ = vals[len(cols)+2].(int64)
				out = append(out, q)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return out, nil
}

// Resubmit returns a rejected row to pending, on the same base, after the
// operator fixed it (or to try again as it is).
func (s *Store) Resubmit(ctx context.Context, table, id string) error {
	if _, ok := s.syncedTable(table); !ok {
		return fmt.Errorf("resubmit %q: %w", table, ErrUnknownTable)
	}
	err := s.write(ctx, func(t *wtx) error {
		res, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE tbl = ? AND id = ? AND state = 'rejected'", table, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("resubmit %s: %w", id, err)
	}
	return nil
}

// ServerState is the server's state of one row, as pulled
// (syncstate.ServerState).
type ServerState = syncstate.ServerState

// KnownServerState returns the latest server state seen for a row that is
// not clean, or nil when none was seen since it left clean.
func (s *Store) KnownServerState(ctx context.Context, table, id string) (*ServerState, error) {
	var v sql.NullInt64
	var h, row sql.NullString
	err := s.readRow(ctx, "SELECT server_version, server_hlc, server_row FROM sync_rows WHERE tbl = ? AND id = ?", []any{table, id},
		func(r *sql.Row) error { return r.Scan(&v, &h, &row) })
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!v.Valid || !row.Valid)) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server state %s: %w", id, err)
	}
	r, err := protocol.DecodeRow([]byte(row.String))
	if err != nil {
		return nil, fmt.Errorf("server state %s: %w", id, err)
	}
	return &ServerState{Version: v.Int64, HLC: h.String, Row: r}, nil
}

// Discard drops a rejected row's local edit: the row takes server's state
// (clean), or disappears when server is nil (the server never had it).
func (s *Store) Discard(ctx context.Context, table, id string, server *ServerState) error {
	tb, ok := s.syncedTable(table)
	if !ok {
		return fmt.Errorf("discard %q: %w", table, ErrUnknownTable)
	}
	err := s.write(ctx, func(t *wtx) error {
		var state string
		err := t.tx.QueryRowContext(ctx, "SELECT state FROM sync_rows WHERE tbl = ? AND id = ?", table, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && state != StateRejected) {
			return fmt.Errorf("the row is not in quarantine: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		// The own fields the discarded edit's note took over (ownchain.go).
		if err := s.ownEditDiscarded(t, tb, id, server); err != nil {
			return err
		}
		if server == nil {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM "+tb.Name+" WHERE id = ?", id); err != nil {
				return err
			}
		} else if err := writeServerRow(t, tb, id, server.Row, server.Version, server.HLC); err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE tbl = ? AND id = ?", table, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("discard %s: %w", id, err)
	}
	return nil
}
