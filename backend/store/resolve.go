package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Resolution states (syncstate.ResolutionQueued …): queued = decided
// here, not yet accepted by the server; stale = the server answered 409
// stale_base, the conflict stays open and the manager decides again on
// StaleRow, never re-sent by itself.
const (
	ResolutionQueued = syncstate.ResolutionQueued
	ResolutionStale  = syncstate.ResolutionStale
)

// Resolution is a manager's decision on a conflict, kept in the local
// database until the server accepts it (syncstate.Resolution).
type Resolution = syncstate.Resolution

// QueueResolution stores a decision on conflict r.ConflictID (replacing an
// earlier one), stamped with a fresh HLC of this device, and returns it.
func (s *Store) QueueResolution(ctx context.Context, r Resolution) (Resolution, error) {
	err := s.write(ctx, func(t *wtx) error {
		r.HLC = t.stamp()
		r.State, r.QueuedAt, r.Error, r.StaleRow, r.StaleVersion = ResolutionQueued, t.now, "", nil, 0
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, "INSERT OR REPLACE INTO sync_resolutions (conflict_id, state, body) VALUES (?, ?, ?)",
			r.ConflictID, r.State, string(body))
		return err
	})
	if err != nil {
		return Resolution{}, fmt.Errorf("queue resolution %s: %w", r.ConflictID, err)
	}
	return r, nil
}

// Resolutions lists the decisions not yet accepted by the server.
func (s *Store) Resolutions(ctx context.Context) ([]Resolution, error) {
	// Through read: it holds the store's lock, so a Close running at the
	// same time (app shutdown while decisions are being sent) waits.
	out, err := readAll(ctx, s, "SELECT body FROM sync_resolutions ORDER BY rowid", nil, func(sc scanner) (r Resolution, err error) {
		var body string
		if err := sc.Scan(&body); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return r, fmt.Errorf("decode %w", err)
		}
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolutions: %w", err)
	}
	return out, nil
}

// DropResolution forgets the decision on conflictID (accepted, or the
// conflict was already resolved elsewhere). With hlc set, only the decision
// stamped hlc is forgotten: a newer one queued while it was being sent
// stays queued (the server judges it on its own).
func (s *Store) DropResolution(ctx context.Context, conflictID, hlc string) error {
	err := s.write(ctx, func(t *wtx) error {
		if hlc != "" {
			r, err := queuedResolution(t, conflictID)
			if errors.Is(err, ErrNotFound) || (err == nil && r.HLC != hlc) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		_, err := t.tx.ExecContext(ctx, "DELETE FROM sync_resolutions WHERE conflict_id = ?", conflictID)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop resolution %s: %w", conflictID, err)
	}
	return nil
}

// AcceptResolution records that the server accepted decision r and stored
// it as the row's version (the resolve answer), in one transaction. The
// decision stamped r.HLC leaves the queue (one queued meanwhile stays, as
// with DropResolution). The conflict's row, when it is clean here below
// version, takes the decided state at version under r.HLC: this device's
// own accepted write. Until a pull brings the decision nothing on this
// device holds it, and a restore from a backup taken before it would lose
// it: the other devices' rows name this device's hlc and a resolved record
// is never pushed again. As an own accepted write, a timeline change makes
// it pending on base 0 (ChangeTimeline), and the pull that brings the
// decision overwrites it with the server's exact state. A row that is not
// clean here (an edit of this device pending or under review) is left
// alone: that edit settles with the server by itself.
func (s *Store) AcceptResolution(ctx context.Context, r Resolution, version int64) error {
	err := s.write(ctx, func(t *wtx) error {
		q, err := queuedResolution(t, r.ConflictID)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case r.HLC == "" || q.HLC == r.HLC:
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_resolutions WHERE conflict_id = ?", r.ConflictID); err != nil {
				return err
			}
		}
		if version <= 0 || r.Row == nil || r.HLC == "" {
			return nil
		}
		var tableName, rowID string
		err = t.tx.QueryRowContext(ctx, "SELECT table_name, row_id FROM sync_conflicts WHERE id = ?", r.ConflictID).Scan(&tableName, &rowID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read conflict record: %w", err)
		}
		tb, ok := s.syncedTable(tableName)
		if !ok {
			return nil
		}
		var clean bool
		var cur int64
		err = t.tx.QueryRowContext(ctx, `SELECT r.synced_at IS NOT NULL AND e.id IS NULL, r.version FROM `+tb.Name+` r
			LEFT JOIN sync_rows e ON e.tbl = ? AND e.id = r.id WHERE r.id = ?`, tb.Name, rowID).Scan(&clean, &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read decided row: %w", err)
		}
		if !clean || cur >= version {
			return nil
		}
		if err := writeServerRow(t, tb, rowID, r.Row, version, r.HLC); err != nil {
			return fmt.Errorf("write decided row: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("accept resolution %s: %w", r.ConflictID, err)
	}
	return nil
}

// queuedResolution reads the decision on conflictID inside t, or
// ErrNotFound.
func queuedResolution(t *wtx, conflictID string) (Resolution, error) {
	var body string
	err := t.tx.QueryRowContext(t.ctx, "SELECT body FROM sync_resolutions WHERE conflict_id = ?", conflictID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return Resolution{}, ErrNotFound
	}
	if err != nil {
		return Resolution{}, err
	}
	var r Resolution
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return Resolution{}, fmt.Errorf("decode %w", err)
	}
	return r, nil
}

// MarkResolutionStale records the server's refusal of a decision: the row's
// current state and version (409 stale_base) or another reason, so the inbox
// shows it and the manager decides again. With hlc set, only the decision
// stamped hlc is marked: a newer one, queued while the refused one was
// being sent, stays queued to be sent (the refusal was not about it).
func (s *Store) MarkResolutionStale(ctx context.Context, conflictID, hlc, reason string, row protocol.Row, version int64) error {
	err := s.write(ctx, func(t *wtx) error {
		r, err := queuedResolution(t, conflictID)
		if err != nil {
			return err
		}
		if hlc != "" && r.HLC != hlc {
			return nil
		}
		r.State, r.Error, r.StaleRow, r.StaleVersion = ResolutionStale, reason, row, version
		nb, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = t.tx.ExecContext(ctx, "UPDATE sync_resolutions SET state = ?, body = ? WHERE conflict_id = ?", r.State, string(nb), conflictID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark resolution %s stale: %w", conflictID, err)
	}
	return nil
}
