package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// MaxBatchBytes bounds the encoded size of a new batch, so that it stays
// under the server's body limit (8 MiB by default) whatever the rows hold.
const MaxBatchBytes = 2 << 20

// ErrNoBatch: the batch named is not the one awaiting an answer (already
// settled, or never written).
var ErrNoBatch = errors.New("no such unanswered batch")

// Batch is a push request persisted before its first send
// (syncstate.Batch).
type Batch = syncstate.Batch

// OpenBatch returns the batch awaiting an answer, or nil when there is none.
func (s *Store) OpenBatch(ctx context.Context) (*Batch, error) {
	var b Batch
	err := s.readRow(ctx, "SELECT id, body, created_at FROM sync_batches ORDER BY created_at, id LIMIT 1", nil,
		func(r *sql.Row) error { return r.Scan(&b.ID, &b.Body, &b.CreatedAt) })
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open batch: %w", err)
	}
	var req protocol.PushRequest
	if err := json.Unmarshal(b.Body, &req); err != nil {
		return nil, fmt.Errorf("open batch %s: decode: %w", b.ID, err)
	}
	b.Changes = len(req.Changes)
	return &b, nil
}

// NewBatch takes up to limit pending rows (of every synced table, oldest
// first), writes them as a new batch with their exact states and marks them
// in flight, in one transaction. It returns nil when nothing is pending.
// Call it only when OpenBatch is nil: one batch is in flight at a time.
func (s *Store) NewBatch(ctx context.Context, limit int) (*Batch, error) {
	if limit <= 0 || limit > protocol.MaxBatchChanges {
		limit = protocol.MaxBatchChanges
	}
	var out *Batch
	err := s.write(ctx, func(t *wtx) error {
		// Rows still under a former id of this device (enrolled again)
		// carry its current id from here on.
		if err := s.restampFormer(t); err != nil {
			return err
		}
		req := protocol.PushRequest{BatchID: uuid.NewString(), Changes: []protocol.Change{}}
		size := 0
		for _, tb := range syncTables {
			if len(req.Changes) >= limit || size >= MaxBatchBytes {
				break
			}
			chs, err := pendingChanges(t, tb, limit-len(req.Changes))
			if err != nil {
				return err
			}
			// Keep the body well under the server's limit (8 MiB by
			// default, counted decompressed): long texts make large rows.
			for _, c := range chs {
				if len(req.Changes) > 0 && size+len(c.Row)+200 > MaxBatchBytes {
					break
				}
				size += len(c.Row) + 200
				req.Changes = append(req.Changes, c)
			}
		}
		if len(req.Changes) == 0 {
			return nil
		}
		body, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("encode batch: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, "INSERT INTO sync_batches(id, body, created_at) VALUES(?, ?, ?)", req.BatchID, body, t.now); err != nil {
			return fmt.Errorf("save batch: %w", err)
		}
		for _, c := range req.Changes {
			// A re-edit of a row awaiting review keeps its review's
			// conflict id (and base_row) while in flight: when the batch
			// is dropped unanswered (a timeline change, a 413), the entry
			// goes back to awaiting review (reviewBack) instead of leaving
			// a plain pending row on base 0.
			if _, err := t.exec(`INSERT INTO sync_rows(tbl, id, state, hlc, base_version, batch_id, changed_at)
				VALUES(?, ?, 'in_flight', ?, ?, ?, ?)
				ON CONFLICT(tbl, id) DO UPDATE SET state = 'in_flight', hlc = excluded.hlc, base_version = excluded.base_version,
				batch_id = excluded.batch_id,
				conflict_id = CASE WHEN sync_rows.state IN ('awaiting_review', 'resolving') THEN sync_rows.conflict_id END,
				reason = NULL, resolved_version = NULL, changed_at = excluded.changed_at`,
				c.Table, c.ID, c.HLC, c.BaseVersion, req.BatchID, t.now); err != nil {
				return fmt.Errorf("mark in flight %s: %w", c.ID, err)
			}
		}
		out = &Batch{ID: req.BatchID, Body: body, Changes: len(req.Changes), CreatedAt: t.now}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("new batch: %w", err)
	}
	return out, nil
}

// wireColumns are the columns a push carries: every wire column but the
// bookkeeping ones.
func wireColumns(tb protocol.Table) []string {
	var cols []string
	for _, c := range tb.Columns {
		if !protocol.IsBookkeeping(c.Name) {
			cols = append(cols, c.Name)
		}
	}
	return cols
}

// pendingChanges reads up to limit pushable rows of tb inside t: pending
// rows with no sync_rows entry, and rows whose entry (awaiting review,
// rejected) is for an older edit. A row edited while awaiting review is
// pushed on the server state the conflict showed (the entry's
// base_version, set when the conflict was answered), never on a later
// state a pull brought: the server must judge the edit against every
// write since the conflict (docs/design.md section 3).
func pendingChanges(t *wtx, tb protocol.Table, limit int) ([]protocol.Change, error) {
	cols := wireColumns(tb)
	rows, err := t.tx.QueryContext(t.ctx, pendingQuery(tb.Name, cols), limit)
	if err != nil {
		return nil, fmt.Errorf("read pending %s: %w", tb.Name, err)
	}
	defer rows.Close()
	var out []protocol.Change
	for rows.Next() {
		vals := make([]any, len(cols)+5)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read pending %s: %w", tb.Name, err)
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			row[c] = textOf(vals[i])
		}
		id, _ := row["id"].(string)
		base, _ := vals[len(cols)].(int64)
		h, _ := textOf(vals[len(cols)+1]).(string)
		state, _ := textOf(vals[len(cols)+2]).(string)
		switch state {
		case StateAwaitingReview, StateResolving:
			// The re-edit started from the conflict's server state
			// (editFromTheirs): it is pushed on that state's version, so
			// the server merges it with whatever was decided since.
			if bv, ok := vals[len(cols)+4].(int64); ok {
				base = bv
			}
		}
		raw, err := json.Marshal(row)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", tb.Name, id, err)
		}
		op := protocol.OpUpsert
		if row["deleted_at"] != nil {
			op = protocol.OpDelete
		}
		out = append(out, protocol.Change{Table: tb.Name, ID: id, Op: op, BaseVersion: base, HLC: h, Row: raw})
	}
	return out, rows.Err()
}

// pendingQuery selects the pushable rows of table with their wire columns
// cols, oldest first, through the table's partial index on synced_at (ORDER
// BY rowid follows it: no sort), so that its cost follows the number of
// pending rows, not the table's size. Its one argument is the limit.
func pendingQuery(table string, cols []string) string {
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "r." + c
	}
	// Names come from the registry, never from input.
	return "SELECT " + strings.Join(sel, ", ") + `, r.version, r.hlc, e.state, e.server_version, e.base_version
		FROM ` + table + ` r LEFT JOIN sync_rows e ON e.tbl = '` + table + `' AND e.id = r.id
		WHERE r.synced_at IS NULL AND (e.id IS NULL OR (e.state <> 'in_flight' AND e.hlc <> r.hlc))
		ORDER BY r.rowid LIMIT ?`
}

func textOf(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// DropBatch forgets an unanswered batch the server refused as a whole (413:
// nothing of it was applied): its rows are pending again, to be sent in
// smaller batches.
func (s *Store) DropBatch(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *wtx) error {
		if err := reviewBack(t, "batch_id = ?", id); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE state = 'in_flight' AND batch_id = ?", id); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, "DELETE FROM sync_batches WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop batch %s: %w", id, err)
	}
	return nil
}

// reviewBack gives the in-flight entries matching where (an SQL condition on
// sync_rows, its args) that came from a review (a re-edit of a row awaiting
// review: NewBatch kept the conflict id) their review state back, when
// their batch is dropped unanswered: the row awaits review again, its
// re-edit pending on the review's base (base_version, base_row), as before
// the push. The entry's hlc becomes "": the state that met the server is
// not the row's (it was re-edited), which is all the entry's hlc tells.
func reviewBack(t *wtx, where string, args ...any) error {
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE sync_rows SET state = 'awaiting_review', hlc = '', batch_id = NULL
		WHERE state = 'in_flight' AND conflict_id IS NOT NULL AND `+where, args...); err != nil {
		return fmt.Errorf("give in-flight re-edits their review back: %w", err)
	}
	return nil
}
