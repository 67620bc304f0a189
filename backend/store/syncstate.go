package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// This file holds the sync client's storage primitives (DESIGN.md section 3):
// the batch being pushed, the settlement of push results and pull pages, the
// row states beyond synced_at (table sync_rows), conflict records as pulled,
// the quarantine, and the cursor. Each primitive is one write transaction, so
// a crash leaves either the state before it or the state after it.

// Row states of a synced row. Clean and Pending are not stored in sync_rows:
// clean = synced_at set; pending = synced_at NULL with no entry, or with an
// entry whose hlc is not the row's (edited again since it met the server).
const (
	StateClean          = "clean"
	StatePending        = "pending"
	StateInFlight       = "in_flight"
	StateAwaitingReview = "awaiting_review"
	// StateResolving is awaiting review whose resolution has been pulled
	// while the resolved row state has not yet arrived.
	StateResolving = "resolving"
	StateRejected  = "rejected"
)

// Meta keys of the sync client.
const (
	metaCursor     = "sync_cursor"
	metaPullSchema = "sync_pull_schema"
)

// MaxBatchBytes bounds the encoded size of a new batch, so that it stays
// under the server's body limit (8 MiB by default) whatever the rows hold.
const MaxBatchBytes = 2 << 20

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

// ErrNoBatch: the batch named is not the one awaiting an answer (already
// settled, or never written).
var ErrNoBatch = errors.New("no such unanswered batch")

// Batch is a push request persisted before its first send. Body is sent
// byte for byte on every retry until the server answers.
type Batch struct {
	ID        string
	Body      []byte
	Changes   int
	CreatedAt int64
}

// txStmts prepares each distinct statement once per transaction: a batch
// or a pull page runs the same few statements thousands of times.
type txStmts struct {
	t *wtx
	m map[string]*sql.Stmt
	// pass: the pull page being applied belongs to a full pass; timeline:
	// to the pass after a timeline change.
	pass, timeline bool
}

func newTxStmts(t *wtx) *txStmts { return &txStmts{t: t, m: map[string]*sql.Stmt{}} }

func (c *txStmts) get(q string) (*sql.Stmt, error) {
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := c.t.tx.PrepareContext(c.t.ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *txStmts) exec(q string, args ...any) (sql.Result, error) {
	st, err := c.get(q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(c.t.ctx, args...)
}

func (c *txStmts) queryRow(q string, args ...any) *sql.Row {
	st, err := c.get(q)
	if err != nil {
		// Let the unprepared query report the error at Scan.
		return c.t.tx.QueryRowContext(c.t.ctx, q, args...)
	}
	return st.QueryRowContext(c.t.ctx, args...)
}

func (c *txStmts) close() {
	for _, st := range c.m {
		st.Close()
	}
}

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
		ps := newTxStmts(t)
		defer ps.close()
		for _, c := range req.Changes {
			// A re-edit of a row awaiting review keeps its review's
			// conflict id (and base_row) while in flight: when the batch
			// is dropped unanswered (a timeline change, a 413), the entry
			// goes back to awaiting review (reviewBack) instead of leaving
			// a plain pending row on base 0.
			if _, err := ps.exec(`INSERT INTO sync_rows(tbl, id, state, hlc, base_version, batch_id, changed_at)
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
// write since the conflict (DESIGN.md section 3).
func pendingChanges(t *wtx, tb protocol.Table, limit int) ([]protocol.Change, error) {
	cols := wireColumns(tb)
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "r." + c
	}
	// Names come from the registry, never from input.
	q := "SELECT " + strings.Join(sel, ", ") + `, r.version, r.hlc, e.state, e.server_version, e.base_version
		FROM ` + tb.Name + ` r LEFT JOIN sync_rows e ON e.tbl = '` + tb.Name + `' AND e.id = r.id
		WHERE r.synced_at IS NULL AND (e.id IS NULL OR (e.state <> 'in_flight' AND e.hlc <> r.hlc))
		ORDER BY r.rowid LIMIT ?`
	rows, err := t.tx.QueryContext(t.ctx, q, limit)
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

func textOf(v any) any {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// PushOutcome counts how a batch's results settled its rows.
type PushOutcome struct {
	Applied, Merged, Superseded, Conflicts, Rejected int
	// StillPending counts rows edited again while in flight: acknowledged
	// at their new version, they stay pending.
	StillPending int
	// ClockAhead lists the rows rejected with clock_ahead, which the client
	// re-stamps and resubmits by itself (Restamp).
	ClockAhead []RowKey
}

// RowKey names one row of a synced table.
type RowKey struct {
	Table string `json:"table"`
	ID    string `json:"id"`
}

// ApplyPushResults settles batch batchID with the server's answer, in one
// transaction with the batch's removal (DESIGN.md section 3). Each result is
// compared-and-set on the hlc that was pushed: a row edited since keeps its
// newer edit pending, on the version the server reported.
func (s *Store) ApplyPushResults(ctx context.Context, batchID string, resp protocol.PushResponse) (PushOutcome, error) {
	var out PushOutcome
	err := s.write(ctx, func(t *wtx) error {
		var body []byte
		err := t.tx.QueryRowContext(ctx, "SELECT body FROM sync_batches WHERE id = ?", batchID).Scan(&body)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoBatch
		}
		if err != nil {
			return fmt.Errorf("read batch: %w", err)
		}
		var req protocol.PushRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return fmt.Errorf("decode batch: %w", err)
		}
		if resp.BatchID != batchID || len(resp.Results) != len(req.Changes) {
			return fmt.Errorf("answer for batch %q has %d results, the batch %d changes", resp.BatchID, len(resp.Results), len(req.Changes))
		}
		ps := newTxStmts(t)
		defer ps.close()
		var refetch int64
		for i, c := range req.Changes {
			res := resp.Results[i]
			if res.Table != c.Table || res.ID != c.ID {
				return fmt.Errorf("result %d names %s %s, the change %s %s", i, res.Table, res.ID, c.Table, c.ID)
			}
			if err := s.settle(ps, c, res, resp.ServerTime, &out, &refetch); err != nil {
				return fmt.Errorf("settle %s %s: %w", c.Table, c.ID, err)
			}
		}
		if err := s.refetchFrom(ps, refetch); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE state = 'in_flight' AND batch_id = ?", batchID); err != nil {
			return fmt.Errorf("clear in flight: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_batches WHERE id = ?", batchID); err != nil {
			return fmt.Errorf("remove batch: %w", err)
		}
		return nil
	})
	if err != nil {
		return PushOutcome{}, fmt.Errorf("apply push results of %s: %w", batchID, err)
	}
	return out, nil
}

// refetchFrom moves the cursor back below version (0 = nothing to fetch)
// when the pull has passed it already, inside ps's transaction.
//
// A superseded or merged result carries the server's row but not its hlc:
// the row is written clean at the result's version with the pushed hlc
// until the pull brings the server's. When the pull has already passed
// that version (it brought the winner while the row was pending: always
// so after a timeline pass, whose pages come before the push), it would
// never bring it again, and the row would stay clean at the server's
// version under this device's hlc: another state than the server's, which
// a later timeline change would even take for this device's own write.
// Pulling again from just below the version brings the server's hlc (a
// clean row equal to a pulled state is left alone, so the rows between
// cost a read each).
func (s *Store) refetchFrom(ps *txStmts, version int64) error {
	if version <= 0 {
		return nil
	}
	st, err := s.pullState(ps.t.ctx, ps.t.tx)
	if err != nil {
		return fmt.Errorf("read the cursor: %w", err)
	}
	if version > st.Cursor {
		return nil // the next pull brings it
	}
	if _, err := ps.exec(upsertMeta, metaCursor, strconv.FormatInt(version-1, 10)); err != nil {
		return fmt.Errorf("move the cursor back to %d: %w", version-1, err)
	}
	return nil
}

// settle applies one push result to its row. A row written clean with a
// server row whose hlc the result does not carry lowers *refetch to its
// version (refetchFrom).
func (s *Store) settle(ps *txStmts, c protocol.Change, res protocol.PushResult, serverTime int64, out *PushOutcome, refetch *int64) error {
	t := ps.t
	tb, ok := s.syncedTable(c.Table)
	if !ok {
		return ErrUnknownTable
	}
	var cur string
	err := ps.queryRow("SELECT hlc FROM "+tb.Name+" WHERE id = ?", c.ID).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		// Discarded meanwhile: nothing local to settle.
		_, err = ps.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", c.Table, c.ID)
		return err
	}
	if err != nil {
		return err
	}
	edited := cur != c.HLC
	var version int64
	if res.Version != nil {
		version = *res.Version
	}
	clearEntry := func() error {
		_, err := ps.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", c.Table, c.ID)
		return err
	}
	switch res.Status {
	case protocol.StatusApplied, protocol.StatusMerged, protocol.StatusSuperseded:
		switch {
		case edited && res.Row != nil && res.Status == protocol.StatusMerged:
			// Rebase the newer edit on the server's merged row: fields it
			// did not change since the push take the server's values.
			out.StillPending++
			if err := rebase(ps, tb, c, res.Row, version, serverTime); err != nil {
				return err
			}
			if err := s.rememberServer(ps, tb, c.ID, version, res.Row); err != nil {
				return err
			}
		case edited && res.Status == protocol.StatusSuperseded:
			// lww: another device's whole row won over the pushed state
			// (kept in the conflict record). The newer edit is a whole row
			// too, made without seeing the winner: it is neither rebased
			// (that would replace the fields it kept as pushed — the person's
			// values — with the winner's, and the state made here would
			// exist nowhere) nor moved onto the winner's version (that would
			// overwrite the winner unjudged). It stays pending, untouched, on
			// the version it was made on, so the server judges it against
			// the winner by lww: applied, or superseded and kept in a
			// conflict record (invariant 1).
			out.StillPending++
			if res.Row != nil {
				if err := s.rememberServer(ps, tb, c.ID, version, res.Row); err != nil {
					return err
				}
			}
		case edited:
			out.StillPending++
			if _, err := ps.exec("UPDATE "+tb.Name+" SET version = ?, server_updated_at = ? WHERE id = ?", version, serverTime, c.ID); err != nil {
				return err
			}
			// The server now holds the state that was pushed.
			if err := s.rememberPushed(ps, tb, c, version); err != nil {
				return err
			}
		case res.Status == protocol.StatusApplied || res.Row == nil:
			if _, err := ps.exec("UPDATE "+tb.Name+" SET synced_at = ?, version = ?, server_updated_at = ? WHERE id = ?", t.now, version, serverTime, c.ID); err != nil {
				return err
			}
			// The version is named by this device's hlc; the fields the
			// edit changed are noted with it, for a later version of
			// another device that still holds them (ownchain.go).
			own, err := editedFields(ps, tb, c.ID)
			if err != nil {
				return err
			}
			if own != nil && version > 0 {
				if err := rememberOwnVersion(ps, c.Table, c.ID, version, own); err != nil {
					return err
				}
			}
		default:
			// The server's row replaces the local one. Its hlc is not in the
			// result; the pull that follows brings it, from below version
			// if it has passed it (refetchFrom).
			if err := writeServerRow(ps, tb, c.ID, res.Row, version, c.HLC); err != nil {
				return err
			}
			if version > 0 && (*refetch == 0 || version < *refetch) {
				*refetch = version
			}
			if res.Status == protocol.StatusMerged {
				// The merged version holds this device's accepted change,
				// but the server keeps it under the newer side's hlc, which
				// the pull brings and may name another device: remember it
				// as this device's own accepted write (ChangeTimeline).
				// Its own fields: those the edit changed that the merge
				// took from the push (unknown: the whole row, carried by
				// no later version).
				own, err := editedFields(ps, tb, c.ID)
				if err != nil {
					return err
				}
				if own != nil {
					own = intersect(own, ownFieldsOfMerge(tb, c.Row, res.Row))
				}
				if err := rememberOwnVersion(ps, c.Table, c.ID, version, own); err != nil {
					return fmt.Errorf("remember own merged version: %w", err)
				}
			}
		}
		switch res.Status {
		case protocol.StatusApplied:
			out.Applied++
		case protocol.StatusMerged:
			out.Merged++
		default:
			out.Superseded++
			if err := notePushedLoser(ps, s.clock.Node(), c, res, serverTime); err != nil {
				return err
			}
		}
		return clearEntry()
	case protocol.StatusConflict:
		out.Conflicts++
		// A re-edit under review starts from theirs: the conflicting
		// edit's fields are not what the re-edit changes (its accepted
		// version is then the whole row's, carried by no later version).
		if _, err := ps.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = -1", c.Table, c.ID); err != nil {
			return fmt.Errorf("forget own edit fields: %w", err)
		}
		if res.Row != nil {
			if err := s.rememberServer(ps, tb, c.ID, version, res.Row); err != nil {
				return err
			}
		}
		if edited && res.Row != nil {
			// Edited while the push was in flight: that edit was made from
			// the pushed state, not from theirs. Rebased onto theirs (the
			// fields it left as pushed take theirs' values), it is pushed as
			// a re-edit under review is (DESIGN.md section 3): only its own
			// changes, on theirs' version, so it can neither write the
			// contested value over theirs while the conflict is open nor
			// overturn the manager's decision with fields it never changed.
			if err := rebase(ps, tb, c, res.Row, version, serverTime); err != nil {
				return err
			}
		}
		srv, err := encodeRow(res.Row)
		if err != nil {
			return err
		}
		// base_version becomes the conflict's server version: a new edit of
		// this row is pushed on it (pendingChanges), whatever pulls bring
		// into server_version meanwhile.
		// base_row keeps that state ("theirs"): a re-edit starts from it
		// (StartFromTheirs), so it is pushed as a change of theirs.
		_, err = ps.exec(`UPDATE sync_rows SET state = 'awaiting_review', batch_id = NULL, conflict_id = ?,
			base_version = ?, server_version = ?, server_row = ?, base_row = ?, server_hlc = NULL, changed_at = ? WHERE tbl = ? AND id = ?`,
			res.ConflictID, version, version, srv, srv, t.now, c.Table, c.ID)
		return err
	case protocol.StatusRejected:
		out.Rejected++
		if strings.HasPrefix(res.Error, protocol.CodeClockAhead+":") || res.Error == protocol.CodeClockAhead {
			out.ClockAhead = append(out.ClockAhead, RowKey{Table: c.Table, ID: c.ID})
		}
		_, err := ps.exec(`UPDATE sync_rows SET state = 'rejected', batch_id = NULL, conflict_id = NULL, reason = ?, changed_at = ?
			WHERE tbl = ? AND id = ?`, res.Error, t.now, c.Table, c.ID)
		return err
	}
	return fmt.Errorf("unknown result status %q", res.Status)
}

// rebase moves a row edited while its push was in flight onto the server's
// row: each people's field the newer edit left as pushed takes the server's
// value; the row stays pending, based on version.
func rebase(ps *txStmts, tb protocol.Table, c protocol.Change, server map[string]any, version, serverTime int64) error {
	pushed, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return err
	}
	people := tb.PeopleColumns()
	sel := strings.Join(people, ", ")
	vals := make([]any, len(people))
	ptrs := make([]any, len(people))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := ps.queryRow("SELECT "+sel+" FROM "+tb.Name+" WHERE id = ?", c.ID).Scan(ptrs...); err != nil {
		return err
	}
	sets := []string{"version = ?", "server_updated_at = ?"}
	args := []any{version, serverTime}
	for i, name := range people {
		col, _ := tb.Column(name)
		pv, perr := col.Normalize(pushed[name])
		sv, serr := col.Normalize(server[name])
		if perr != nil || serr != nil {
			continue
		}
		if textOf(vals[i]) == pv && sv != pv {
			sets = append(sets, name+" = ?")
			args = append(args, sv)
		}
	}
	_, err = ps.exec("UPDATE "+tb.Name+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, c.ID)...)
	return err
}

func encodeRow(r map[string]any) (any, error) {
	if r == nil {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// writeServerRow makes the local row id equal to the server's state row at
// version, clean. Columns the server did not send (a table it knows fewer
// columns of) are kept; unknown columns are ignored.
func writeServerRow(ps *txStmts, tb protocol.Table, id string, row map[string]any, version int64, h string) error {
	t := ps.t
	all := true
	var cols []string
	args := make([]any, 0, len(tb.Columns)+3)
	args = append(args, id)
	for _, c := range tb.Columns {
		v, ok := row[c.Name]
		if c.Name == "id" {
			continue
		}
		if !ok {
			all = false
			continue
		}
		nv, err := c.Normalize(v)
		if err != nil {
			return fmt.Errorf("server row: %w", err)
		}
		cols = append(cols, c.Name)
		args = append(args, nv)
	}
	args = append(args, t.now, version, h)
	var q string
	if all {
		// Every column sent (the usual case): the table's statement, built
		// once instead of once per row.
		q = serverRowSQL(tb)
	} else {
		q = buildServerRowSQL(tb.Name, cols)
	}
	if _, err := ps.exec(q, args...); err != nil {
		return fmt.Errorf("write server row: %w", err)
	}
	return nil
}

var serverRowSQLs sync.Map // table name → statement with every column

func serverRowSQL(tb protocol.Table) string {
	if q, ok := serverRowSQLs.Load(tb.Name); ok {
		return q.(string)
	}
	var cols []string
	for _, c := range tb.Columns {
		if c.Name != "id" {
			cols = append(cols, c.Name)
		}
	}
	q := buildServerRowSQL(tb.Name, cols)
	serverRowSQLs.Store(tb.Name, q)
	return q
}

// buildServerRowSQL is the upsert of writeServerRow for the wire columns
// cols (without id), in the table's order; its arguments are id, cols,
// synced_at, version, hlc.
func buildServerRowSQL(table string, cols []string) string {
	cols = append(cols[:len(cols):len(cols)], "synced_at", "version", "hlc")
	set := make([]string, len(cols))
	ph := make([]string, len(cols))
	// The update runs only when it changes something besides synced_at: a
	// row that is already clean and equal, column for column, to this
	// server state (a device's own pushed rows coming back in the pull that
	// follows the push, a re-pull from cursor 0) is left alone instead of
	// being rewritten in every index and rollup for nothing.
	differs := []string{"synced_at IS NULL"}
	for i, c := range cols {
		set[i] = c + " = excluded." + c
		ph[i] = "?"
		if c != "synced_at" {
			differs = append(differs, c+" IS NOT excluded."+c)
		}
	}
	return "INSERT INTO " + table + " (id, " + strings.Join(cols, ", ") + ") VALUES (?, " + strings.Join(ph, ", ") +
		") ON CONFLICT(id) DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(differs, " OR ")
}

// PullOutcome counts what one pull page did locally.
type PullOutcome struct {
	// Written rows took the server's state; Kept rows were not clean and
	// kept their local edit and version; Ignored changes were of tables this
	// build does not know.
	Written, Kept, Ignored, Conflicts, Resolved int
	// Removed counts clean rows a full pass ended without bringing: the
	// server no longer has them (DESIGN.md section 3, "Full passes").
	Removed int
	// PassEnded: the pages ended a full pass.
	PassEnded bool
	// Repushed counts rows a timeline pass made pending again with this
	// device's own write that the server held only as a conflict record's
	// "mine" (restoredmine.go).
	Repushed int
}

// ApplyPullPage applies one pull page and stores its cursor in one
// transaction. A row that is not clean is never touched (neither its values
// nor its version); the server state seen for it is remembered beside it, so
// a conflict's resolution and a discard can adopt it.
func (s *Store) ApplyPullPage(ctx context.Context, page protocol.PullResponse) (PullOutcome, error) {
	first := true
	out, _, err := s.applyPages(ctx, func() (protocol.PullResponse, bool) {
		if !first {
			return protocol.PullResponse{}, false
		}
		first = false
		return page, true
	})
	if err != nil {
		return PullOutcome{}, fmt.Errorf("apply pull page: %w", err)
	}
	return out, nil
}

// ApplyPullPages applies consecutive pull pages in ONE transaction, with
// the cursor of the last page applied: the catch-up of a device far behind
// (an initial sync) commits, encrypts and syncs the pages it touches once per
// batch instead of once per page. Each page is applied exactly as
// ApplyPullPage applies it (only clean rows are overwritten), and the data
// and the cursor still commit together: a crash loses only the uncommitted
// batch, which the next pull fetches again from the committed cursor.
//
// next returns the pages in order; ok false ends the batch, which then
// commits. next runs while the store's writer is held: it must not call
// the Store, and it should keep the batch short (local edits wait for it).
// ApplyPullPages returns what the pages did and how many were applied;
// nothing of them is kept when it returns an error.
func (s *Store) ApplyPullPages(ctx context.Context, next func() (page protocol.PullResponse, ok bool)) (PullOutcome, int, error) {
	out, pages, err := s.applyPages(ctx, next)
	if err != nil {
		return PullOutcome{}, 0, fmt.Errorf("apply pull pages: %w", err)
	}
	return out, pages, nil
}

func (s *Store) applyPages(ctx context.Context, next func() (protocol.PullResponse, bool)) (PullOutcome, int, error) {
	var out PullOutcome
	pages := 0
	err := s.write(ctx, func(t *wtx) error {
		ps := newTxStmts(t)
		defer ps.close()
		st, err := s.pullState(ctx, t.tx)
		if err != nil {
			return err
		}
		pa := pageApply{cursor: st.Cursor, pass: st.Pass, timeline: st.Timeline}
		if pa.pass != "" {
			if pa.listed, err = passListed(t); err != nil {
				return err
			}
		}
		for {
			page, ok := next()
			if !ok {
				return nil
			}
			if err := s.beforePage(ps, &pa, page); err != nil {
				return err
			}
			if err := s.applyPage(ps, page, &out); err != nil {
				return err
			}
			if err := s.afterPage(ps, &pa, page, &out); err != nil {
				return err
			}
			pages++
		}
	})
	if err != nil {
		return PullOutcome{}, 0, err
	}
	return out, pages, nil
}

// applyPage applies one pull page and records its cursor inside ps's
// transaction.
func (s *Store) applyPage(ps *txStmts, page protocol.PullResponse, out *PullOutcome) error {
	t := ps.t
	pre, err := s.prefetch(ps, page.Changes)
	if err != nil {
		return fmt.Errorf("read local rows: %w", err)
	}
	if err := s.annotateOwnTheirs(ps, page.Changes, pre); err != nil {
		return fmt.Errorf("note own states in conflict records: %w", err)
	}
	for _, ch := range page.Changes {
		if ts, err := hlc.Parse(ch.HLC); err == nil {
			s.clock.Observe(ts, t.now+s.clockOffset.Load())
		}
		if ch.Table == protocol.TableConflicts {
			// A conflict record may change its row's entry: read that
			// row afresh if it comes later in the page.
			if rt, _ := ch.Row["table_name"].(string); rt != "" {
				rid, _ := ch.Row["row_id"].(string)
				delete(pre, rt+"/"+rid)
			}
			if err := s.pullConflict(ps, ch, out); err != nil {
				return fmt.Errorf("conflict %s: %w", ch.ID, err)
			}
			continue
		}
		tb, ok := s.syncedTable(ch.Table)
		if !ok {
			out.Ignored++
			continue
		}
		l, ok := pre[ch.Table+"/"+ch.ID]
		var lp *localRow
		if ok {
			lp = &l
		}
		if err := s.pullRow(ps, tb, ch, out, lp); err != nil {
			return fmt.Errorf("%s %s: %w", ch.Table, ch.ID, err)
		}
	}
	if len(page.Changes) > 0 {
		last := s.clock.Last()
		if last.Node == "" {
			last.Node = s.clock.Node()
		}
		t.last = last.String()
	}
	if _, err := ps.exec(upsertMeta, metaCursor, strconv.FormatInt(page.Cursor, 10)); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// localRow is what a pull needs to know of a local row and its entry.
type localRow struct {
	missing           bool
	synced            sql.NullInt64
	version           int64
	cur               string
	state, entryHLC   sql.NullString
	resolvedV, server sql.NullInt64
}

const localRowCols = "r.synced_at, r.version, r.hlc, e.state, e.hlc, e.resolved_version, e.server_version"

func (l *localRow) dest() []any {
	return []any{&l.synced, &l.version, &l.cur, &l.state, &l.entryHLC, &l.resolvedV, &l.server}
}

// prefetch reads the local state of a page's rows in a few queries instead
// of one per row. Rows it does not return are missing locally.
func (s *Store) prefetch(ps *txStmts, changes []protocol.PullChange) (map[string]localRow, error) {
	byTable := map[string][]string{}
	for _, ch := range changes {
		if _, ok := s.syncedTable(ch.Table); ok {
			byTable[ch.Table] = append(byTable[ch.Table], ch.ID)
		}
	}
	out := make(map[string]localRow, len(changes))
	const chunk = 400 // SQLite 3.33 allows 999 bound variables
	for table, ids := range byTable {
		for _, id := range ids {
			out[table+"/"+id] = localRow{missing: true}
		}
		for i := 0; i < len(ids); i += chunk {
			part := ids[i:min(i+chunk, len(ids))]
			args := make([]any, len(part))
			for j, id := range part {
				args[j] = id
			}
			q := "SELECT r.id, " + localRowCols + " FROM " + table + " r LEFT JOIN sync_rows e ON e.tbl = '" + table +
				"' AND e.id = r.id WHERE r.id IN (?" + strings.Repeat(", ?", len(part)-1) + ")"
			rows, err := ps.t.tx.QueryContext(ps.t.ctx, q, args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var id string
				var l localRow
				if err := rows.Scan(append([]any{&id}, l.dest()...)...); err != nil {
					rows.Close()
					return nil, err
				}
				out[table+"/"+id] = l
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (s *Store) pullRow(ps *txStmts, tb protocol.Table, ch protocol.PullChange, out *PullOutcome, pre *localRow) error {
	var l localRow
	if pre != nil {
		l = *pre
	} else {
		err := ps.queryRow("SELECT "+localRowCols+" FROM "+tb.Name+
			" r LEFT JOIN sync_rows e ON e.tbl = '"+tb.Name+"' AND e.id = r.id WHERE r.id = ?", ch.ID).Scan(l.dest()...)
		l.missing = errors.Is(err, sql.ErrNoRows)
		if err != nil && !l.missing {
			return err
		}
	}
	missing, synced, version, cur := l.missing, l.synced, l.version, l.cur
	state, entryHLC, resolvedV, serverV := l.state, l.entryHLC, l.resolvedV, l.server
	hasEntry := state.Valid
	switch {
	case missing:
		out.Written++
		return writeServerRow(ps, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case synced.Valid && !hasEntry:
		if ch.Version < version && ps.pass {
			// A full pass brings each row's latest version: a clean row
			// here at a later one is a write the server lost (a restore
			// its timeline did not show). This device's own write is
			// pushed again on base 0; another's takes the server's state
			// (its device pushes it again).
			if s.own().hlc(cur) {
				out.Kept++
				if _, err := ps.exec("UPDATE "+tb.Name+" SET synced_at = NULL, version = 0 WHERE id = ?", ch.ID); err != nil {
					return err
				}
				return s.rememberServer(ps, tb, ch.ID, ch.Version, ch.Row)
			}
			// Or a version remembered as its own (ownchain.go).
			if kept, err := s.ownVersionLost(ps, tb, ch, l, out); kept || err != nil {
				return err
			}
		} else if ch.Version < version {
			return nil
		}
		// A later version that still holds this device's own change
		// stays its own accepted write (ownchain.go).
		if err := s.carryOwnMark(ps, tb, ch, l); err != nil {
			return err
		}
		out.Written++
		return writeServerRow(ps, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case !hasEntry && ch.HLC == cur:
		// Pending, and the server holds this very edit (its hlc is this
		// device's, unique to the edit): the edit's batch was forgotten on
		// a timeline change, or its answer was lost with the batch dropped.
		// The row is clean at the server's version, not pushed again.
		out.Written++
		return writeServerRow(ps, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case !hasEntry && ps.timeline:
		// Pending since the timeline change (or edited since): when the
		// server holds the very same people's fields, the restore lost
		// nothing of it (a superseded push's row holds the winner's state
		// under the pushed hlc): the row is clean at the server's state.
		local, _, err := scanSyncedRow(tb.ColumnNames(), ps.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", ch.ID))
		if err != nil {
			return err
		}
		// Own fields another device's version carried: judged on those
		// fields alone (ownchain.go).
		if done, err := s.settleOwnFields(ps, tb, ch, cur, local.Row, out); done || err != nil {
			return err
		}
		if samePeople(tb, local.Row, ch.Row) {
			out.Written++
			return writeServerRow(ps, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
		}
		out.Kept++
		return s.rememberServer(ps, tb, ch.ID, ch.Version, ch.Row)
	case !hasEntry:
		out.Kept++
		return s.rememberServer(ps, tb, ch.ID, ch.Version, ch.Row)
	}
	out.Kept++
	if !serverV.Valid || ch.Version > serverV.Int64 {
		if err := s.rememberServer(ps, tb, ch.ID, ch.Version, ch.Row); err != nil {
			return err
		}
		srv, err := encodeRow(ch.Row)
		if err != nil {
			return err
		}
		if _, err := ps.exec("UPDATE sync_rows SET server_version = ?, server_hlc = ?, server_row = ? WHERE tbl = ? AND id = ?",
			ch.Version, ch.HLC, srv, tb.Name, ch.ID); err != nil {
			return err
		}
	}
	if state.String == StateResolving && entryHLC.String == cur && resolvedV.Valid && ch.Version >= resolvedV.Int64 {
		out.Kept--
		out.Written++
		out.Resolved++
		if err := writeServerRow(ps, tb, ch.ID, ch.Row, ch.Version, ch.HLC); err != nil {
			return err
		}
		_, err := ps.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", tb.Name, ch.ID)
		return err
	}
	return nil
}

// pullConflict stores a conflict record and, when it is closed, returns the
// rows awaiting its review to clean (taking the resolved server state).
func (s *Store) pullConflict(ps *txStmts, ch protocol.PullChange, out *PullOutcome) error {
	tableName, _ := ch.Row["table_name"].(string)
	rowID, _ := ch.Row["row_id"].(string)
	status, _ := ch.Row["status"].(string)
	data, err := json.Marshal(ch.Row)
	if err != nil {
		return err
	}
	// A page of a full pass brings the record's current state, whatever
	// version was held: after a timeline change the held one may be of the
	// old timeline, above the restored server's (a decision the restore
	// lost: the record is open again, and must show so).
	if _, err := ps.exec(`INSERT INTO sync_conflicts(id, table_name, row_id, status, version, hlc, row) VALUES(?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET table_name = excluded.table_name, row_id = excluded.row_id, status = excluded.status,
		version = excluded.version, hlc = excluded.hlc, row = excluded.row WHERE excluded.version >= sync_conflicts.version OR ?`,
		ch.ID, tableName, rowID, status, ch.Version, ch.HLC, string(data), ps.pass); err != nil {
		return err
	}
	out.Conflicts++
	if status == protocol.ConflictOpen {
		return nil
	}
	tb, ok := s.syncedTable(tableName)
	if !ok {
		return nil
	}
	resolved, _ := toInt64(ch.Row["row_version"])
	if status == protocol.ConflictResolved && resolved > 0 {
		// A decision: the decider's device pushes the decided state again
		// as its own accepted write after a restore; no own version of
		// this device up to it is carried on (ownchain.go), so a decision
		// is never met by a second push of the values it chose or
		// replaced.
		if _, err := ps.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ? AND version > 0 AND version <= ?", tb.Name, rowID, resolved); err != nil {
			return fmt.Errorf("forget own versions a decision replaced: %w", err)
		}
	}
	var entryHLC, cur string
	var serverV sql.NullInt64
	var serverRow sql.NullString
	var serverHLC sql.NullString
	err = ps.queryRow(`SELECT e.hlc, r.hlc, e.server_version, e.server_row, e.server_hlc FROM sync_rows e JOIN `+tb.Name+` r ON r.id = e.id
		WHERE e.tbl = ? AND e.id = ? AND e.conflict_id = ? AND e.state = 'awaiting_review'`, tb.Name, rowID, ch.ID).
		Scan(&entryHLC, &cur, &serverV, &serverRow, &serverHLC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if entryHLC != cur {
		// Edited again since: that edit is pending and settles by itself.
		return nil
	}
	if serverV.Valid && serverV.Int64 >= resolved && serverRow.Valid {
		row, err := protocol.DecodeRow([]byte(serverRow.String))
		if err != nil {
			return err
		}
		if err := writeServerRow(ps, tb, rowID, row, serverV.Int64, serverHLC.String); err != nil {
			return err
		}
		out.Resolved++
		_, err = ps.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", tb.Name, rowID)
		return err
	}
	_, err = ps.exec("UPDATE sync_rows SET state = 'resolving', resolved_version = ? WHERE tbl = ? AND id = ?", resolved, tb.Name, rowID)
	return err
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case float64:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// Cursor returns the pull cursor: the last change sequence applied, 0 before
// the first pull or after ResetCursor.
func (s *Store) Cursor(ctx context.Context) (int64, error) {
	release, err := s.acquire()
	if err != nil {
		return 0, fmt.Errorf("cursor: %w", err)
	}
	defer release()
	v, err := s.metaGet(ctx, s.r, metaCursor)
	if err != nil || v == "" {
		return 0, err
	}
	var c int64
	if _, err := fmt.Sscan(v, &c); err != nil {
		return 0, fmt.Errorf("cursor %q: %w", v, err)
	}
	return c, nil
}

// ResetCursor makes the next pull start from 0 as a full pass (410
// resync_required, or an upgrade that knows new tables or columns), and
// restarts a pass in progress. Pending edits are kept; only clean rows take
// the full state, and the clean rows the pass does not bring are removed
// when it ends.
func (s *Store) ResetCursor(ctx context.Context) error {
	err := s.write(ctx, func(t *wtx) error {
		return s.restartPass(t, PassFull)
	})
	if err != nil {
		return fmt.Errorf("reset cursor: %w", err)
	}
	return nil
}

// RepullIfUpgraded resets the cursor once when this build's schema is newer
// than the one the last pull was made with (an upgrade that added tables or
// columns; local-only migrations do not count), and records the current schema. It reports whether it reset.
func (s *Store) RepullIfUpgraded(ctx context.Context) (bool, error) {
	var reset bool
	want := fmt.Sprint(SyncSchemaVersion())
	err := s.write(ctx, func(t *wtx) error {
		seen, err := s.metaGet(ctx, t.tx, metaPullSchema)
		if err != nil || seen == want {
			return err
		}
		cur, err := s.metaGet(ctx, t.tx, metaCursor)
		if err != nil {
			return err
		}
		if seen != "" || (cur != "" && cur != "0") {
			reset = true
			if err := s.restartPass(t, PassFull); err != nil {
				return err
			}
		}
		_, err = t.tx.ExecContext(ctx, upsertMeta, metaPullSchema, want)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("repull after upgrade: %w", err)
	}
	return reset, nil
}

// SetClockOffset sets the measured offset of the server's clock from the
// device's (server − device, ms). HLCs stamped afterwards use the corrected
// time; updated_at stays the device clock.
func (s *Store) SetClockOffset(ms int64) { s.clockOffset.Store(ms) }

// ClockOffset returns the offset set by SetClockOffset.
func (s *Store) ClockOffset() int64 { return s.clockOffset.Load() }

// Restamp gives the rows a fresh HLC from the corrected clock and makes them
// pending again (same base): the automatic resubmit of clock_ahead
// rejections. A clock that ran ahead of the corrected time is wound back
// first, so the new stamps are within the server's skew.
func (s *Store) Restamp(ctx context.Context, keys []RowKey) error {
	if len(keys) == 0 {
		return nil
	}
	err := s.write(ctx, func(t *wtx) error {
		now := t.now + s.clockOffset.Load()
		if last := s.clock.Last(); last.Wall > now {
			s.clock = hlc.NewClock(s.clock.Node(), hlc.Timestamp{Wall: now, Node: s.clock.Node()})
		}
		for _, k := range keys {
			tb, ok := s.syncedTable(k.Table)
			if !ok {
				return fmt.Errorf("%s: %w", k.Table, ErrUnknownTable)
			}
			if _, err := t.tx.ExecContext(ctx, "UPDATE "+tb.Name+" SET hlc = ? WHERE id = ? AND synced_at IS NULL", t.stamp(), k.ID); err != nil {
				return fmt.Errorf("re-stamp %s: %w", k.ID, err)
			}
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM sync_rows WHERE tbl = ? AND id = ? AND state = 'rejected'", k.Table, k.ID); err != nil {
				return fmt.Errorf("re-stamp %s: %w", k.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("re-stamp: %w", err)
	}
	return nil
}

// SyncCounts is what the status bar shows.
type SyncCounts struct {
	// Pending counts rows waiting to be pushed (not in flight, not held).
	Pending        int64 `json:"pending"`
	InFlight       int64 `json:"in_flight"`
	AwaitingReview int64 `json:"awaiting_review"`
	Rejected       int64 `json:"rejected"`
	OpenConflicts  int64 `json:"open_conflicts"`
}

// Unsettled is every row the server has not accepted yet.
func (c SyncCounts) Unsettled() int64 {
	return c.Pending + c.InFlight + c.AwaitingReview + c.Rejected
}

// SyncCounts counts rows by state, from one snapshot.
func (s *Store) SyncCounts(ctx context.Context) (SyncCounts, error) {
	var c SyncCounts
	err := s.read(ctx, func(tx *sql.Tx) error {
		var total int64
		for _, tb := range syncTableNames() {
			var n int64
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+tb+" WHERE synced_at IS NULL").Scan(&n); err != nil {
				return err
			}
			total += n
			rows, err := tx.QueryContext(ctx, `SELECT e.state, count(*) FROM sync_rows e JOIN `+tb+` r ON r.id = e.id
				WHERE e.tbl = ? AND r.synced_at IS NULL AND (e.state = 'in_flight' OR e.hlc = r.hlc) GROUP BY e.state`, tb)
			if err != nil {
				return err
			}
			for rows.Next() {
				var st string
				var k int64
				if err := rows.Scan(&st, &k); err != nil {
					rows.Close()
					return err
				}
				switch st {
				case StateInFlight:
					c.InFlight += k
				case StateAwaitingReview, StateResolving:
					c.AwaitingReview += k
				case StateRejected:
					c.Rejected += k
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		c.Pending = total - c.InFlight - c.AwaitingReview - c.Rejected
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM sync_conflicts WHERE status = 'open'").Scan(&c.OpenConflicts)
	})
	if err != nil {
		return SyncCounts{}, fmt.Errorf("sync counts: %w", err)
	}
	return c, nil
}

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

// QuarantinedRow is a rejected row: what the operator fixes or discards.
type QuarantinedRow struct {
	Table  string       `json:"table"`
	ID     string       `json:"id"`
	Reason string       `json:"reason"`
	Since  int64        `json:"since"`
	Row    protocol.Row `json:"row"`
	// ServerVersion is the server's version of the row known here (0 = the
	// server has none, or none was seen): what a discard returns to.
	ServerVersion int64 `json:"server_version"`
}

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

// ServerState is the server's state of one row, as pulled.
type ServerState struct {
	Version int64
	HLC     string
	Row     map[string]any
}

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
		if err := s.ownEditDiscarded(newTxStmts(t), tb, id, server); err != nil {
			return err
		}
		if server == nil {
			if _, err := t.tx.ExecContext(ctx, "DELETE FROM "+tb.Name+" WHERE id = ?", id); err != nil {
				return err
			}
		} else if err := writeServerRow(newTxStmts(t), tb, id, server.Row, server.Version, server.HLC); err != nil {
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

// Conflict is a conflict record as pulled.
type Conflict struct {
	ID        string          `json:"id"`
	TableName string          `json:"table_name"`
	RowID     string          `json:"row_id"`
	Status    string          `json:"status"`
	Version   int64           `json:"version"`
	Record    json.RawMessage `json:"record"`
}

// Conflicts lists the conflict records pulled, open ones only when open is
// set, newest first.
func (s *Store) Conflicts(ctx context.Context, open bool) ([]Conflict, error) {
	// Version 0: a record a push answer announced, not pulled yet.
	q := "SELECT id, table_name, row_id, status, version, row FROM sync_conflicts WHERE version > 0"
	if open {
		q += " AND status = 'open'"
	}
	q += " ORDER BY version DESC"
	out := []Conflict{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Conflict
			var rec string
			if err := rows.Scan(&c.ID, &c.TableName, &c.RowID, &c.Status, &c.Version, &rec); err != nil {
				return err
			}
			c.Record = json.RawMessage(rec)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	return out, nil
}

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

// ClearEnrollment forgets the server (unenroll): the device id, the cursor,
// the pulled conflict records and the row states; rows are kept. The caller
// checks first that nothing is unsettled, or that the operator accepted
// losing it. The device id becomes a former id (reenroll.go), and the site,
// the server's timeline and the cursor reached (aside, for reenrollPass)
// and the versions the server merged from this device's pushes are kept:
// enrolled again at the same site, the device pushes again its own
// accepted writes the server lacks (a server restored from a backup older
// than its enrollment refuses it, so its operator may disconnect it before
// enrolling it again); at another site they are forgotten.
func (s *Store) ClearEnrollment(ctx context.Context) error {
	qs := []string{
		"DELETE FROM meta WHERE key IN ('" + metaDeviceID + "', '" + metaCursor + "', '" + metaPullSchema + "', '" +
			metaPass + "', '" + metaTimeline + "', '" + metaVerified + "')",
		// Rows awaiting review and rejected ones keep their state: their
		// edit lives in a conflict record, or the server refused it, and
		// enrolled again at the same site the device must not push it as
		// a new edit (a second record for it); another site forgets them
		// (SetEnrollment).
		"DELETE FROM sync_rows WHERE state NOT IN ('awaiting_review', 'resolving', 'rejected')",
		"DELETE FROM sync_batches", "DELETE FROM sync_conflicts", "DELETE FROM sync_pass_rows",
	}
	for _, tb := range syncTableNames() {
		// Edits not yet accepted carry the old device id: stamp them as
		// made before enrollment, so the next enrollment re-stamps them;
		// those that keep their state keep the id (a former id then, the
		// push re-stamps it: restampFormer), as their entries do.
		qs = append(qs, "UPDATE "+tb+" SET hlc = substr(hlc, 1, 21) || '-"+hlc.Unenrolled+"' WHERE synced_at IS NULL"+
			" AND id NOT IN (SELECT id FROM sync_rows WHERE tbl = '"+tb+"')")
	}
	err := s.write(ctx, func(t *wtx) error {
		if err := reviewBack(t, "1 = 1"); err != nil {
			return err
		}
		prev, err := s.metaGet(ctx, t.tx, metaDeviceID)
		if err != nil {
			return err
		}
		former, err := s.formerIDsWith(ctx, t, prev, "")
		if err != nil {
			return err
		}
		// The timeline and the cursor reached are kept aside too: enrolled
		// again at the same site, the device tells by them whether the
		// server lost anything (reenrollPass).
		if err := saveReenrollCursor(t); err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO meta(key, value) SELECT ?, value FROM meta WHERE key = ? AND value <> ''
			ON CONFLICT(key) DO UPDATE SET value = excluded.value`, metaFormerTimeline, metaTimeline); err != nil {
			return fmt.Errorf("keep the timeline aside: %w", err)
		}
		for _, q := range qs {
			if _, err := t.tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		if err := s.setFormer(t, former); err != nil {
			return err
		}
		s.clock.SetNode(hlc.Unenrolled)
		return nil
	})
	if err != nil {
		if lerr := s.loadFormer(ctx); lerr != nil {
			return fmt.Errorf("clear enrollment: %w (%v)", err, lerr)
		}
		return fmt.Errorf("clear enrollment: %w", err)
	}
	return nil
}
