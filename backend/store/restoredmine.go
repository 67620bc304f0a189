package store

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Own writes kept only in a conflict record (issue 15, the restore gap). An
// addition to DESIGN.md section 3, "After a timeline change", decided by the
// project lead; it uses only existing push semantics (the wire contract does
// not change):
//
// An edit this device made between a backup and its restore may live on the
// server only as the "mine" of a conflict record: it lost under lww
// (auto_resolved), or a manager decided against it (resolved). The row then
// holds another device's state, so the timeline rules do not push it again,
// and the restore drops the record: the edit would be gone. So at a timeline
// change the device remembers the conflict records it holds whose "mine" is
// its own write (the record's device_id is this device): they are the
// conflict records on the timeline pass's list (sync_pass_rows), made in
// ChangeTimeline's transaction and persisted with the pass, so a restart
// mid-pass keeps them. When the timeline pass ends, each such record the
// pass did not bring back (the restored server does not have it) is pushed
// again: the row takes the record's "mine" state, pending on base 0, unless
// the row has a later local edit of its own. The server judges it as for any
// push on base 0: lww by hlc (applied, or superseded and kept again in an
// auto_resolved record), manual as a three-way merge with no base (a field
// that differs is an open conflict for the manager). Nothing is lost, and
// nothing silently overwrites.
//
// The hlc pushed is the edit's own: an open or auto_resolved record carries
// the hlc of the push that made it. A resolved record carries the decision's
// hlc instead, and the edit's is known nowhere: on a manual table the hlc
// decides nothing, so the re-push takes a fresh one; on an lww table (a
// manager's revert of an auto_resolved record) no hlc could be chosen that
// neither loses the edit's place nor overturns the decision, so the record is
// left as the restored server has it (the decider's device pushes its
// decision again; DESIGN.md section 3).
//
// A push answered superseded names its record before the pull brings it;
// the device notes the record at once (notePushedLoser), so a restore in
// between finds it held too. Until that pull the row holds the winner's
// state under the pushed hlc (refetchFrom), which the timeline change makes
// pending as if it were this device's write: a pending row under the
// record's own hlc takes "mine" again.

// notePushedLoser keeps, inside ps's transaction, the auto_resolved record
// a push answered superseded announces (res.ConflictID), until the pull
// brings the record itself: a restore between the answer and that pull
// would otherwise leave this device holding no record of its losing edit.
// The note is a conflict record at version 0, replaced by the pulled one
// (any version), counted in no checksum and listed by no Conflicts call.
func notePushedLoser(ps *txStmts, node string, c protocol.Change, res protocol.PushResult, serverTime int64) error {
	if res.ConflictID == "" || node == "" || node == hlc.Unenrolled {
		return nil
	}
	mine, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return fmt.Errorf("decode pushed row: %w", err)
	}
	rec, err := encodeRow(map[string]any{"id": res.ConflictID, "table_name": c.Table, "row_id": c.ID,
		"status": protocol.ConflictAutoResolved, "winner": protocol.WinnerTheirs, "mine": mine, "theirs": res.Row,
		"device_id": node, "created_at": serverTime})
	if err != nil {
		return err
	}
	if _, err := ps.exec(`INSERT INTO sync_conflicts(id, table_name, row_id, status, version, hlc, row) VALUES(?, ?, ?, ?, 0, ?, ?)
		ON CONFLICT(id) DO NOTHING`, res.ConflictID, c.Table, c.ID, protocol.ConflictAutoResolved, c.HLC, rec); err != nil {
		return fmt.Errorf("note conflict record %s: %w", res.ConflictID, err)
	}
	return nil
}

// mineRecord is a conflict record whose "mine" may be pushed again.
type mineRecord struct {
	table, rowID, status string
	h                    string // the record's hlc
	created              int64  // server time the record was made
	mine                 map[string]any
}

// repushLostMine pushes again, at the end of a timeline pass inside t, this
// device's own writes that the server held only as the "mine" of a conflict
// record the pass did not bring back. It returns how many rows it made
// pending. Call it before endPass, which removes those records.
func (s *Store) repushLostMine(ps *txStmts) (int, error) {
	t := ps.t
	node, err := s.metaGet(t.ctx, t.tx, metaDeviceID)
	if err != nil {
		return 0, err
	}
	if node == "" || node == hlc.Unenrolled {
		return 0, nil
	}
	recs, err := lostOwnRecords(t, node)
	if err != nil {
		return 0, fmt.Errorf("read own conflict records the restore lost: %w", err)
	}
	n := 0
	for _, r := range recs {
		ok, err := s.repushMine(ps, node, r)
		if err != nil {
			return n, fmt.Errorf("push again %s %s: %w", r.table, r.rowID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// lostOwnRecords returns, per row, the latest conflict record still on the
// pass's list whose "mine" this device pushed (node).
func lostOwnRecords(t *wtx, node string) ([]mineRecord, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT c.table_name, c.row_id, c.status, c.hlc, c.row FROM sync_conflicts c
		JOIN sync_pass_rows p ON p.tbl = ? AND p.id = c.id`, protocol.TableConflicts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	latest := map[[2]string]mineRecord{}
	for rows.Next() {
		var r mineRecord
		var data string
		if err := rows.Scan(&r.table, &r.rowID, &r.status, &r.h, &data); err != nil {
			return nil, err
		}
		rec, err := protocol.DecodeRow([]byte(data))
		if err != nil {
			continue // not a record this build can read: left as it is
		}
		if dev, _ := rec["device_id"].(string); dev != node {
			continue
		}
		if r.mine, _ = rec["mine"].(map[string]any); r.mine == nil {
			continue
		}
		r.created, _ = toInt64(rec["created_at"])
		k := [2]string{r.table, r.rowID}
		if cur, ok := latest[k]; !ok || r.created > cur.created || (r.created == cur.created && r.h > cur.h) {
			latest[k] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]mineRecord, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	// One order whatever the map's: stamps are taken in it.
	sort.Slice(out, func(i, j int) bool {
		if out[i].created != out[j].created {
			return out[i].created < out[j].created
		}
		return out[i].table+"/"+out[i].rowID < out[j].table+"/"+out[j].rowID
	})
	return out, nil
}

// repushMine makes r's row hold r's "mine", pending on base 0, unless the
// row has a later local edit of its own; it reports whether it did.
func (s *Store) repushMine(ps *txStmts, node string, r mineRecord) (bool, error) {
	tb, ok := s.syncedTable(r.table)
	if !ok {
		return false, nil
	}
	edit := r.h // the push's own hlc: it names the pusher
	if r.status == protocol.ConflictResolved {
		if tb.Policy != protocol.PolicyManual {
			return false, nil
		}
		edit = "" // the decision's hlc: the edit's is not known
	} else if ts, err := hlc.Parse(r.h); err != nil || ts.Node != node {
		return false, nil
	}
	var synced, entry, listed bool
	var cur string
	var version int64
	var created, deleted sql.NullInt64
	err := ps.queryRow(`SELECT r.synced_at IS NOT NULL, r.hlc, r.version, r.created_at, r.deleted_at,
		EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = r.id),
		EXISTS (SELECT 1 FROM sync_pass_rows p WHERE p.tbl = ? AND p.id = r.id)
		FROM `+tb.Name+` r WHERE r.id = ?`, tb.Name, tb.Name, r.rowID).
		Scan(&synced, &cur, &version, &created, &deleted, &entry, &listed)
	if errors.Is(err, sql.ErrNoRows) {
		// Not held (removed by an earlier pass: the server purged it).
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !synced && !entry && edit != "" && cur == edit {
		// Pending under the edit's own hlc: the edit itself (awaiting
		// review when the timeline changed), or the winner's state a
		// superseded answer wrote under the pushed hlc, its own not pulled
		// yet when the timeline changed: it takes mine again.
		if err := writeServerRow(ps, tb, r.rowID, r.mine, 0, edit); err != nil {
			return false, err
		}
		_, err := ps.exec("UPDATE "+tb.Name+" SET synced_at = NULL WHERE id = ?", r.rowID)
		return err == nil, err
	}
	if !synced || entry {
		// Pending, awaiting review or quarantined: this device's own later
		// edit of the row is pushed anyway.
		return false, nil
	}
	if edit == "" {
		// A restored server without the record holds no write of this
		// device made after the edit: a clean row of its own is older.
		edit = ps.t.stamp()
	} else if ts, err := hlc.Parse(cur); err == nil && ts.Node == node && cur >= edit {
		// The server holds this edit, or a later one of this device.
		return false, nil
	}
	if !listed {
		// The pass brought the row: that state is the server's, and stays
		// the row's known state while the row is pending (section 8).
		known := map[string]any{"created_at": created.Int64}
		if deleted.Valid {
			known["deleted_at"] = deleted.Int64
		}
		if err := s.rememberServer(ps, tb, r.rowID, version, known); err != nil {
			return false, err
		}
	}
	if err := writeServerRow(ps, tb, r.rowID, r.mine, 0, edit); err != nil {
		return false, err
	}
	if _, err := ps.exec("UPDATE "+tb.Name+" SET synced_at = NULL WHERE id = ?", r.rowID); err != nil {
		return false, fmt.Errorf("make pending: %w", err)
	}
	return true, nil
}
