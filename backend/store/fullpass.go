package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncstate"
)

// Full passes (docs/design.md section 3, "Full passes, committed cursors and
// timelines"): a pull chain that begins at cursor 0 brings every live row
// of the server. When a pass starts, the store marks it (meta sync_pass)
// and lists the clean rows and conflict records it holds (sync_pass_rows:
// the rows the pass has not brought yet); each page strikes the rows it
// brings off the list, in the page's transaction, so a pass resumed after
// a restart is still one pass. The page that ends it (has_more false)
// removes the rows left on the list that are still clean: their tombstones
// were purged, or the server lost them. Rows that are not clean are kept,
// and settled by the next push. A row that becomes clean during the pass
// (a page, a push result, a resolution) came from the server: it is not on
// the list. An initial sync on an empty device lists nothing and pays
// nothing.

// Kinds of pass (meta sync_pass; syncstate.PassFull …): PassFull after a
// first sync, a 410 resync, an upgrade re-pull or an enrollment;
// PassTimeline after a timeline change, ended before the next push
// (ChangeTimeline).
const (
	PassFull     = syncstate.PassFull
	PassTimeline = syncstate.PassTimeline
)

// Meta keys of full passes and timelines.
const (
	metaPass     = "sync_pass"
	metaTimeline = "sync_timeline"
)

// PullState is where the next pull starts (syncstate.PullState).
type PullState = syncstate.PullState

// PullState reads the cursor, the pass in progress and the timeline in one
// snapshot.
func (s *Store) PullState(ctx context.Context) (PullState, error) {
	var p PullState
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = s.pullState(ctx, tx)
		return err
	})
	if err != nil {
		return PullState{}, fmt.Errorf("pull state: %w", err)
	}
	return p, nil
}

func (s *Store) pullState(ctx context.Context, q queryer) (PullState, error) {
	var p PullState
	cur, err := s.metaGet(ctx, q, metaCursor)
	if err != nil {
		return p, err
	}
	if cur != "" {
		if p.Cursor, err = strconv.ParseInt(cur, 10, 64); err != nil {
			return p, fmt.Errorf("cursor %q: %w", cur, err)
		}
	}
	if p.Pass, err = s.metaGet(ctx, q, metaPass); err != nil {
		return p, err
	}
	p.Timeline, err = s.metaGet(ctx, q, metaTimeline)
	return p, err
}

// restartPass sets the cursor to 0 and starts a new pass inside t: a
// timeline pass stays one (it must still end before the next push), and so
// does a re-enrollment pass, unless a timeline pass replaces it.
func (s *Store) restartPass(t *wtx, kind string) error {
	ctx := t.ctx
	if kind != PassTimeline {
		cur, err := s.metaGet(ctx, t.tx, metaPass)
		if err != nil {
			return err
		}
		if cur == PassTimeline || cur == PassReenroll {
			kind = cur
		}
	}
	if _, err := t.tx.ExecContext(ctx, upsertMeta, metaCursor, "0"); err != nil {
		return fmt.Errorf("reset cursor: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, upsertMeta, metaPass, kind); err != nil {
		return fmt.Errorf("mark pass: %w", err)
	}
	return listPassRows(t)
}

// listPassRows starts the list of rows a new pass has not brought yet: the
// clean rows and the conflict records held now.
func listPassRows(t *wtx) error {
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM sync_pass_rows"); err != nil {
		return fmt.Errorf("clear pass rows: %w", err)
	}
	for _, tb := range syncTables {
		// Names come from the registry, never from input.
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO sync_pass_rows(tbl, id) SELECT ?, r.id FROM `+tb.Name+` r
			WHERE r.synced_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = r.id)`, tb.Name, tb.Name); err != nil {
			return fmt.Errorf("list %s rows for the pass: %w", tb.Name, err)
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, "INSERT INTO sync_pass_rows(tbl, id) SELECT ?, id FROM sync_conflicts", protocol.TableConflicts); err != nil {
		return fmt.Errorf("list conflict records for the pass: %w", err)
	}
	return nil
}

// passListed reports whether the pass's list holds any row.
func passListed(t *wtx) (bool, error) {
	var has bool
	if err := t.tx.QueryRowContext(t.ctx, "SELECT EXISTS (SELECT 1 FROM sync_pass_rows)").Scan(&has); err != nil {
		return false, fmt.Errorf("read pass rows: %w", err)
	}
	return has, nil
}

// pageApply is the state of one ApplyPullPages transaction: where the
// pages start, and the pass and timeline they belong to.
type pageApply struct {
	cursor   int64
	pass     string
	timeline string
	// listed: the pass's list of rows not brought yet may hold rows (pages
	// of a pass on an empty list strike nothing off).
	listed bool
}

// beforePage checks the page's timeline and starts a pass when the page is
// pulled from cursor 0, inside transaction t.
func (s *Store) beforePage(t *wtx, pa *pageApply, page protocol.PullResponse) error {
	if page.Timeline != "" && page.Timeline != pa.timeline {
		if pa.timeline != "" {
			return &TimelineChangedError{Timeline: page.Timeline}
		}
		// The first timeline seen is adopted; through a timeline change
		// when this device already has accepted writes: they were answered
		// by a server whose timeline it never learned (a push before any
		// pull came through), which a restore may have replaced since (seed
		// 3 of the f430ea6 campaign). The change's pass makes clean again
		// every own write the server still holds.
		own, err := hasOwnAccepted(t)
		if err != nil {
			return err
		}
		if own {
			return &TimelineChangedError{Timeline: page.Timeline}
		}
		if _, err := t.exec(upsertMeta, metaTimeline, page.Timeline); err != nil {
			return fmt.Errorf("save timeline: %w", err)
		}
		pa.timeline = page.Timeline
	}
	if pa.pass == "" && pa.cursor == 0 {
		pa.pass = PassFull
		if _, err := t.exec(upsertMeta, metaPass, pa.pass); err != nil {
			return fmt.Errorf("mark pass: %w", err)
		}
		if err := listPassRows(t); err != nil {
			return err
		}
		var err error
		if pa.listed, err = passListed(t); err != nil {
			return err
		}
	}
	t.pass, t.timeline = pa.pass != "", pa.pass == PassTimeline
	if pa.pass == "" || !pa.listed {
		return nil
	}
	// Strike the page's rows off the list, a few hundred per statement.
	byTable := map[string][]any{}
	for _, ch := range page.Changes {
		if _, ok := s.syncedTable(ch.Table); ok || ch.Table == protocol.TableConflicts {
			byTable[ch.Table] = append(byTable[ch.Table], ch.ID)
		}
	}
	const chunk = 400 // SQLite 3.33 allows 999 bound variables
	for table, ids := range byTable {
		for i := 0; i < len(ids); i += chunk {
			part := ids[i:min(i+chunk, len(ids))]
			q := "DELETE FROM sync_pass_rows WHERE tbl = ? AND id IN (?" + strings.Repeat(", ?", len(part)-1) + ")"
			if _, err := t.tx.ExecContext(t.ctx, q, append([]any{table}, part...)...); err != nil {
				return fmt.Errorf("strike pass rows off: %w", err)
			}
		}
	}
	return nil
}

// afterPage ends the pass when page is its last.
func (s *Store) afterPage(t *wtx, pa *pageApply, page protocol.PullResponse, out *PullOutcome) error {
	pa.cursor = page.Cursor
	if pa.pass == "" || page.HasMore {
		return nil
	}
	if pa.pass == PassReenroll {
		if err := s.endReenrollPass(t, page); err != nil {
			return err
		}
	}
	if pa.pass == PassTimeline {
		n, err := s.repushLostMine(t)
		if err != nil {
			return fmt.Errorf("end timeline pass: %w", err)
		}
		out.Repushed += n
	}
	n, err := s.endPass(t, page.Cursor, pa.timeline == "")
	if err != nil {
		return fmt.Errorf("end full pass: %w", err)
	}
	out.Removed += n
	out.PassEnded = true
	pa.pass = ""
	return nil
}

// endPass removes the clean rows and the conflict records the pass did not
// bring, and forgets the pass. A row that is not clean (pending, in
// flight, awaiting review, rejected) is never removed: the next push
// settles it.
//
// With a server that names no timeline (one older than these rules, which
// cannot say in its 410 that it was restored), a clean row of this
// device's own (its hlc names the device) at a version above the pass's
// last cursor is most likely a write the server lost in a restore: it is
// pushed again on base 0 instead of removed (never lose an edit; at worst
// the server refuses it as row_deleted and it waits in quarantine). A
// tombstone is removed as usual: a deleted row the server does not have is
// deleted everywhere already.
func (s *Store) endPass(t *wtx, cursor int64, oldServer bool) (int, error) {
	removed := 0
	own := s.own()
	for _, tb := range syncTables {
		if oldServer && len(own) > 0 {
			cond, args := own.in("hlc")
			if _, err := t.tx.ExecContext(t.ctx, `UPDATE `+tb.Name+` SET synced_at = NULL, version = 0
				WHERE synced_at IS NOT NULL AND deleted_at IS NULL AND version > ? AND `+cond+`
				AND NOT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = `+tb.Name+`.id)
				AND id IN (SELECT id FROM sync_pass_rows WHERE tbl = ?)`,
				append(append([]any{cursor}, args...), tb.Name, tb.Name)...); err != nil {
				return 0, fmt.Errorf("keep %s rows of this device the server lost: %w", tb.Name, err)
			}
		}
		// Names come from the registry, never from input.
		res, err := t.tx.ExecContext(t.ctx, `DELETE FROM `+tb.Name+` WHERE synced_at IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = `+tb.Name+`.id)
			AND id IN (SELECT id FROM sync_pass_rows WHERE tbl = ?)`, tb.Name, tb.Name)
		if err != nil {
			return 0, fmt.Errorf("remove %s rows the server no longer has: %w", tb.Name, err)
		}
		n, _ := res.RowsAffected()
		removed += int(n)
	}
	if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM sync_conflicts WHERE id IN
		(SELECT id FROM sync_pass_rows WHERE tbl = ?)`, protocol.TableConflicts); err != nil {
		return 0, fmt.Errorf("remove conflict records the server no longer has: %w", err)
	}
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM sync_pass_rows"); err != nil {
		return 0, fmt.Errorf("clear pass rows: %w", err)
	}
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM meta WHERE key = ?", metaPass); err != nil {
		return 0, fmt.Errorf("clear pass: %w", err)
	}
	return removed, nil
}

// hasOwnAccepted reports whether this device has an accepted write: a
// clean row whose hlc names it, or a version the server merged from its
// push (sync_own_versions), the rows ChangeTimeline pushes again.
func hasOwnAccepted(t *wtx) (bool, error) {
	own := t.s.own()
	if len(own) == 0 {
		return false, nil
	}
	cond, args := own.in("hlc")
	var n int
	if err := t.tx.QueryRowContext(t.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM sync_own_versions WHERE version > 0 LIMIT 1)").Scan(&n); err != nil {
		return false, fmt.Errorf("read own merged versions: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	for _, tb := range syncTables {
		// Names come from the registry, never from input; hlc =
		// %015d-%05d-<device id>: the device id starts at 23.
		err := t.tx.QueryRowContext(t.ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM "+tb.Name+
			" WHERE synced_at IS NOT NULL AND "+cond+" LIMIT 1)", args...).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("read own accepted writes of %s: %w", tb.Name, err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}
