package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/outpost-app/outpost/backend/syncstate"
)

// Timelines (docs/design.md section 3): the server's database carries a timeline
// id that a restore from a backup changes. A device follows one timeline;
// when the server's is another, what the device knows of the server
// (versions, cursor, unanswered batches, conflict states) may describe
// writes the restored server never had.

// ErrTimelineChanged: the server's timeline is not the one this device
// follows (the server was restored from a backup). It is
// syncstate.ErrTimelineChanged, the same value, so errors.Is matches
// either name.
var ErrTimelineChanged = syncstate.ErrTimelineChanged

// TimelineChangedError carries the server's new timeline ("" = not known
// yet: the next pull answer brings it); errors.Is(err, ErrTimelineChanged)
// is true (syncstate.TimelineChangedError).
type TimelineChangedError = syncstate.TimelineChangedError

// ChangeTimeline moves the device to the server's new timeline in one
// transaction: it adopts timeline ("" = adopt the next one a pull
// brings); moves unanswered batches back to pending (their ids are dropped:
// the new timeline never saw them); sets every row's known server version
// to 0 and forgets remembered server states; makes pending, on base 0,
// every clean row whose hlc names this device (its own accepted writes,
// which the restore may have lost) and every clean row still at a version
// the server merged from this device's push (ownMergedPending: the merge
// keeps the newer side's hlc, perhaps another device's); keeps every row
// awaiting review on base
// 0, for the pass to judge by whether its conflict record comes back
// (settleReviewRows); marks queued conflict decisions stale (the
// manager decides again on what the server now holds); and starts a
// timeline pass from cursor 0, which must end before the next push: a
// pending row the pass brings back with the row's own hlc is clean again,
// so only what the restore really lost is pushed again.
//
// Own writes are those stamped with this device's current id or one of its
// former ids at the site (reenroll.go).
func (s *Store) ChangeTimeline(ctx context.Context, timeline string) error {
	err := s.write(ctx, func(t *wtx) error {
		return s.changeTimeline(t, timeline, s.own())
	})
	if err != nil {
		return fmt.Errorf("change timeline: %w", err)
	}
	return nil
}

// changeTimeline is ChangeTimeline inside t, with own the ids whose writes
// are this device's.
func (s *Store) changeTimeline(t *wtx, timeline string, own ownIDs) error {
	ctx := t.ctx
	var err error
	if timeline == "" {
		_, err = t.tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaTimeline)
	} else {
		_, err = t.tx.ExecContext(ctx, upsertMeta, metaTimeline, timeline)
	}
	if err != nil {
		return fmt.Errorf("adopt timeline: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", metaReenrollCursor); err != nil {
		return fmt.Errorf("end the re-enrollment pass: %w", err)
	}
	// Unanswered batches, conflict states and held rows: every entry but
	// a rejection, which stays in quarantine (its reason still holds).
	type stmt struct {
		q    string
		args []any
	}
	// A re-edit under review in flight awaits review again, on base 0
	// like every review row, for the pass to give it its base back
	// (settleReviewRows): dropped with the batch, it would be pushed
	// on base 0 and reopen a conflict on every field a decision the
	// restore kept had changed.
	if err := reviewBack(t, "1 = 1"); err != nil {
		return err
	}
	qs := []stmt{
		{q: "DELETE FROM sync_batches"},
		{q: "DELETE FROM sync_rows WHERE state NOT IN ('rejected', 'awaiting_review', 'resolving')"},
		{q: "UPDATE sync_rows SET state = 'awaiting_review', resolved_version = NULL WHERE state = 'resolving'"},
		{q: "UPDATE sync_rows SET base_version = 0, server_version = NULL, server_hlc = NULL, server_row = NULL, base_row = NULL"},
	}
	enrolled := len(own) > 0
	for _, tb := range syncTables {
		if enrolled {
			cond, args := own.in("hlc")
			qs = append(qs, stmt{q: "UPDATE " + tb.Name + " SET synced_at = NULL WHERE synced_at IS NOT NULL AND " + cond, args: args})
		}
	}
	for _, st := range qs {
		if _, err := t.tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("reset sync state: %w", err)
		}
	}
	// Versions the server made from this device's pushes under another
	// device's hlc (merged) are its own accepted writes too; read
	// before the versions are reset.
	if enrolled {
		if err := ownMergedPending(t); err != nil {
			return err
		}
	}
	for _, tb := range syncTables {
		if _, err := t.tx.ExecContext(ctx, "UPDATE "+tb.Name+" SET version = 0 WHERE version <> 0"); err != nil {
			return fmt.Errorf("reset sync state: %w", err)
		}
	}
	// No server state this device knew holds on the new timeline.
	if err := forgetKnown(t); err != nil {
		return err
	}
	if err := staleResolutions(t, "timeline_changed: the sync server was restored from a backup; decide again on what it holds now"); err != nil {
		return err
	}
	return s.restartPass(t, PassTimeline)
}

// ownMergedPending makes pending, on base 0, every clean row still at a
// version remembered as this device's own (sync_own_versions): a version
// the server merged from its push (the merge keeps the newer side's hlc,
// perhaps another device's), or another device's later version that still
// holds its own change (carryOwnMark). The restore may have lost it, and
// nothing else marks it as this device's. The row is re-stamped with a
// fresh hlc of this device (a push must carry the pusher's own hlc): what
// it pushes is what the server held, judged on base 0 like any own write.
// When the timeline pass brings the same people's fields back, the row is
// clean again (pullRow): only what the restore lost is pushed. An entry
// that names its own fields is kept, at version 0 under the new hlc, for
// the pass to judge the row on those fields alone (settleOwnFields); every
// other entry is forgotten: versions of the old timeline name nothing on
// the new.
func ownMergedPending(t *wtx) error {
	type key struct {
		tbl, id string
		fields  sql.NullString
	}
	var keys []key
	for _, tb := range syncTables {
		// Names come from the registry, never from input.
		rows, err := t.tx.QueryContext(t.ctx, `SELECT r.id, o.fields FROM `+tb.Name+` r JOIN sync_own_versions o
			ON o.tbl = ? AND o.id = r.id AND o.version = r.version
			WHERE r.synced_at IS NOT NULL AND r.version > 0`, tb.Name)
		if err != nil {
			return fmt.Errorf("read own merged versions: %w", err)
		}
		for rows.Next() {
			k := key{tbl: tb.Name}
			if err := rows.Scan(&k.id, &k.fields); err != nil {
				rows.Close()
				return fmt.Errorf("read own merged versions: %w", err)
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read own merged versions: %w", err)
		}
	}
	if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM sync_own_versions"); err != nil {
		return fmt.Errorf("forget own merged versions: %w", err)
	}
	for _, k := range keys {
		h := t.stamp()
		if _, err := t.tx.ExecContext(t.ctx, "UPDATE "+k.tbl+" SET synced_at = NULL, hlc = ? WHERE id = ?", h, k.id); err != nil {
			return fmt.Errorf("make own merged write %s pending: %w", k.id, err)
		}
		if !k.fields.Valid {
			continue
		}
		if _, err := t.tx.ExecContext(t.ctx, "INSERT INTO sync_own_versions(tbl, id, version, fields, hlc) VALUES(?, ?, 0, ?, ?)",
			k.tbl, k.id, k.fields.String, h); err != nil {
			return fmt.Errorf("keep own fields of %s: %w", k.id, err)
		}
	}
	return nil
}

// staleResolutions marks every queued decision stale with reason.
func staleResolutions(t *wtx, reason string) error {
	rows, err := t.tx.QueryContext(t.ctx, "SELECT conflict_id, body FROM sync_resolutions WHERE state = ?", ResolutionQueued)
	if err != nil {
		return fmt.Errorf("read queued decisions: %w", err)
	}
	type item struct{ id, body string }
	var items []item
	for rows.Next() {
		var it item
		if err := rows.Scan(&it.id, &it.body); err != nil {
			rows.Close()
			return fmt.Errorf("read queued decisions: %w", err)
		}
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read queued decisions: %w", err)
	}
	for _, it := range items {
		var r Resolution
		if err := json.Unmarshal([]byte(it.body), &r); err != nil {
			return fmt.Errorf("decode decision %s: %w", it.id, err)
		}
		r.State, r.Error, r.StaleRow, r.StaleVersion = ResolutionStale, reason, nil, 0
		nb, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(t.ctx, "UPDATE sync_resolutions SET state = ?, body = ? WHERE conflict_id = ?", r.State, string(nb), it.id); err != nil {
			return fmt.Errorf("mark decision %s stale: %w", it.id, err)
		}
	}
	return nil
}
