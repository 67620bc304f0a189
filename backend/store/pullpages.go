package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// PullOutcome counts what one pull page did locally
// (syncstate.PullOutcome).
type PullOutcome = syncstate.PullOutcome

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
			if err := s.beforePage(t, &pa, page); err != nil {
				return err
			}
			if err := s.applyPage(t, page, &out); err != nil {
				return err
			}
			if err := s.afterPage(t, &pa, page, &out); err != nil {
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

// applyPage applies one pull page and records its cursor inside
// transaction t.
func (s *Store) applyPage(t *wtx, page protocol.PullResponse, out *PullOutcome) error {
	pre, err := s.prefetch(t, page.Changes)
	if err != nil {
		return fmt.Errorf("read local rows: %w", err)
	}
	if err := s.annotateOwnTheirs(t, page.Changes, pre); err != nil {
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
			if err := s.pullConflict(t, ch, out); err != nil {
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
		if err := s.pullRow(t, tb, ch, out, lp); err != nil {
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
	if _, err := t.exec(upsertMeta, metaCursor, strconv.FormatInt(page.Cursor, 10)); err != nil {
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
func (s *Store) prefetch(t *wtx, changes []protocol.PullChange) (map[string]localRow, error) {
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
			rows, err := t.tx.QueryContext(t.ctx, q, args...)
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

func (s *Store) pullRow(t *wtx, tb protocol.Table, ch protocol.PullChange, out *PullOutcome, pre *localRow) error {
	var l localRow
	if pre != nil {
		l = *pre
	} else {
		err := t.queryRow("SELECT "+localRowCols+" FROM "+tb.Name+
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
		return writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case synced.Valid && !hasEntry:
		if ch.Version < version && t.pass {
			// A full pass brings each row's latest version: a clean row
			// here at a later one is a write the server lost (a restore
			// its timeline did not show). This device's own write is
			// pushed again on base 0; another's takes the server's state
			// (its device pushes it again).
			if s.own().hlc(cur) {
				out.Kept++
				if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL, version = 0 WHERE id = ?", ch.ID); err != nil {
					return err
				}
				return s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
			}
			// Or a version remembered as its own (ownchain.go).
			if kept, err := s.ownVersionLost(t, tb, ch, l, out); kept || err != nil {
				return err
			}
		} else if ch.Version < version {
			return nil
		}
		// A later version that still holds this device's own change
		// stays its own accepted write (ownchain.go).
		if err := s.carryOwnMark(t, tb, ch, l); err != nil {
			return err
		}
		out.Written++
		return writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case !hasEntry && ch.HLC == cur:
		// Pending, and the server holds this very edit (its hlc is this
		// device's, unique to the edit): the edit's batch was forgotten on
		// a timeline change, or its answer was lost with the batch dropped.
		// The row is clean at the server's version, not pushed again.
		out.Written++
		return writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
	case !hasEntry && t.timeline:
		// Pending since the timeline change (or edited since): when the
		// server holds the very same people's fields, the restore lost
		// nothing of it (a superseded push's row holds the winner's state
		// under the pushed hlc): the row is clean at the server's state.
		local, _, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", ch.ID))
		if err != nil {
			return err
		}
		// Own fields another device's version carried: judged on those
		// fields alone (ownchain.go).
		if done, err := s.settleOwnFields(t, tb, ch, cur, local.Row, out); done || err != nil {
			return err
		}
		if samePeople(tb, local.Row, ch.Row) {
			out.Written++
			return writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC)
		}
		out.Kept++
		return s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
	case !hasEntry:
		out.Kept++
		return s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
	}
	out.Kept++
	if !serverV.Valid || ch.Version > serverV.Int64 {
		if err := s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row); err != nil {
			return err
		}
		srv, err := encodeRow(ch.Row)
		if err != nil {
			return err
		}
		if _, err := t.exec("UPDATE sync_rows SET server_version = ?, server_hlc = ?, server_row = ? WHERE tbl = ? AND id = ?",
			ch.Version, ch.HLC, srv, tb.Name, ch.ID); err != nil {
			return err
		}
	}
	if state.String == StateResolving && entryHLC.String == cur && resolvedV.Valid && ch.Version >= resolvedV.Int64 {
		out.Kept--
		out.Written++
		out.Resolved++
		if err := writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC); err != nil {
			return err
		}
		_, err := t.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", tb.Name, ch.ID)
		return err
	}
	return nil
}
