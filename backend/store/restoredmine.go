package store

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/outpost-app/outpost/backend/conflict"
	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Own writes kept only in a conflict record (issue 15, the restore gap). An
// addition to docs/design.md section 3, "After a timeline change", decided by the
// project lead; it uses only existing push semantics (the wire contract does
// not change):
//
// An edit this device made between a backup and its restore may live on the
// server only on a side of a conflict record: the "mine" of a record its
// push made (lost under lww, or an open manual conflict), or the "theirs" of
// an auto_resolved record another device's later-stamped push made over this
// device's accepted write. The row then holds another device's state (or,
// for an open conflict re-edited under review, a re-edit that started from
// theirs), so the timeline rules do not push it again, and the restore drops
// the record: the edit would be gone. So the conflict records held at a
// timeline change are on the timeline pass's list (sync_pass_rows), made in
// ChangeTimeline's transaction and persisted with the pass, so a restart
// mid-pass keeps them. When the timeline pass ends, a side this device wrote
// of each open or auto_resolved record the pass did not bring back is pushed
// again with its own hlc, pending on base 0, unless the row has a later
// write of this device (a newer lww write supersedes the loser: not lost),
// is in flight, awaits review or is quarantined. A later own write of a row
// whose record is open started from theirs: mine goes with that write's own
// changes over it. The server judges it as for any push on base 0: lww by
// hlc (applied, or superseded and kept again in an auto_resolved record),
// manual as a three-way merge with no base (a field that differs is an open
// conflict for the manager).
//
// A resolved record is never pushed again (issue 15, review finding 1): a
// decision exists, and on base 0 the server's "own write is no conflict"
// rule would apply the decided-against edit over it. The decider's device
// pushes its decided state again as its own accepted write. The limit: an
// edit decided against whose record the restore dropped is not pushed again.
//
// Rows awaiting review at the change keep their entry, on base 0, for the
// pass to judge (settleReviewRows): their record brought back open, they
// await review again; resolved, the pulled record settled them; lost, they
// are pending on base 0 with the record's mine (and a re-edit's changes).
//
// A push answered superseded names its record before the pull brings it;
// the device notes the record at once (notePushedLoser), so a restore in
// between finds it held too. Until that pull the row holds the winner's
// state under the pushed hlc (refetchFrom), which the timeline change makes
// pending as if it were this device's write: a pending row under the
// record's own hlc takes "mine" again.

// notePushedLoser keeps, inside transaction t, the auto_resolved record
// a push answered superseded announces (res.ConflictID), until the pull
// brings the record itself: a restore between the answer and that pull
// would otherwise leave this device holding no record of its losing edit.
// The note is a conflict record at version 0, replaced by the pulled one
// (any version), counted in no checksum and listed by no Conflicts call.
func notePushedLoser(t *wtx, node string, c protocol.Change, res protocol.PushResult, serverTime int64) error {
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
	if _, err := t.exec(`INSERT INTO sync_conflicts(id, table_name, row_id, status, version, hlc, row) VALUES(?, ?, ?, ?, 0, ?, ?)
		ON CONFLICT(id) DO NOTHING`, res.ConflictID, c.Table, c.ID, protocol.ConflictAutoResolved, c.HLC, rec); err != nil {
		return fmt.Errorf("note conflict record %s: %w", res.ConflictID, err)
	}
	return nil
}

// localTheirsHLC is the key, in a pulled auto_resolved record kept here,
// of the hlc of its "theirs" when that state was this device's own
// accepted write (the record does not carry it; annotateOwnTheirs).
const localTheirsHLC = "local_theirs_hlc"

// annotateOwnTheirs notes, before a pull page is applied, the hlc of the
// "theirs" of each auto_resolved record in it that another device's push
// made over this device's own accepted write: the local row is still clean
// at the record's theirs_version under this device's hlc (the page brings
// the winner's state with the record, or the row is not in the page at
// all). A restore that drops the record then finds that write held here, to
// push again (lostOwnSides). A row an earlier page already overwrote is
// not noted.
func (s *Store) annotateOwnTheirs(t *wtx, changes []protocol.PullChange, pre map[string]localRow) error {
	own := s.own()
	if len(own) == 0 {
		return nil
	}
	for _, ch := range changes {
		if ch.Table != protocol.TableConflicts {
			continue
		}
		if st, _ := ch.Row["status"].(string); st != protocol.ConflictAutoResolved {
			continue
		}
		if dev, _ := ch.Row["device_id"].(string); own.has(dev) {
			continue
		}
		rt, _ := ch.Row["table_name"].(string)
		rid, _ := ch.Row["row_id"].(string)
		tv, ok := toInt64(ch.Row["theirs_version"])
		tb, known := s.syncedTable(rt)
		if !ok || !known {
			continue
		}
		l, held := pre[rt+"/"+rid]
		if !held {
			err := t.queryRow("SELECT "+localRowCols+" FROM "+tb.Name+
				" r LEFT JOIN sync_rows e ON e.tbl = '"+tb.Name+"' AND e.id = r.id WHERE r.id = ?", rid).Scan(l.dest()...)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s %s: %w", rt, rid, err)
			}
		}
		if l.missing || !l.synced.Valid || l.state.Valid || l.version != tv || !own.hlc(l.cur) {
			continue
		}
		ch.Row[localTheirsHLC] = l.cur
	}
	return nil
}

// ownSide is one side of a conflict record the timeline pass did not bring
// back ("mine" or "theirs") that this device wrote: it may be pushed again.
type ownSide struct {
	table, rowID, status, side string
	h                          string // the side's own hlc
	created                    int64  // server time the record was made
	row, theirs                map[string]any
}

// repushLostMine pushes again, at the end of a timeline pass inside
// transaction t, this device's own writes that the server held only in a
// conflict record the pass did not bring back, and settles the rows that
// awaited review when the timeline changed. It returns how many rows it
// made pending. Call it before endPass, which removes those records.
func (s *Store) repushLostMine(t *wtx) (int, error) {
	node, err := s.metaGet(t.ctx, t.tx, metaDeviceID)
	if err != nil {
		return 0, err
	}
	own := s.own()
	n, done, err := s.settleReviewRows(t, node, own)
	if err != nil {
		return n, fmt.Errorf("settle rows awaiting review: %w", err)
	}
	if len(own) == 0 {
		return n, nil
	}
	sides, err := lostOwnSides(t, own)
	if err != nil {
		return n, fmt.Errorf("read own conflict records the restore lost: %w", err)
	}
	for _, r := range sides {
		if done[r.table+"/"+r.rowID] {
			continue
		}
		ok, err := s.repushSide(t, own, r)
		if err != nil {
			return n, fmt.Errorf("push again %s %s: %w", r.table, r.rowID, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// settleReviewRows settles, at the end of a timeline pass, every row that
// awaited review when the timeline changed (ChangeTimeline keeps its entry,
// on base 0, for the pass to judge). Its conflict record brought back by
// the pass settles it as a pulled record does: open, the row awaits review
// again (nothing is pushed); resolved, the pull has already given it the
// server state. A record the pass did not bring back (the restore lost it)
// makes the row pending on base 0: its conflicting edit reaches the server
// again. A re-edit made under review started from "theirs": the row then
// takes the record's "mine" with the re-edit's own changes (the people's
// fields where the row differs from theirs) over it, so the undecided edit
// is not lost behind the re-edit. It returns how many rows it made pending
// and which rows it settled (table/id).
func (s *Store) settleReviewRows(t *wtx, node string, own ownIDs) (int, map[string]bool, error) {
	type entry struct {
		tbl, id, entryHLC, conflictID, status, recHLC string
		brought                                       bool
		rec                                           sql.NullString
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT e.tbl, e.id, e.hlc, coalesce(e.conflict_id, ''), coalesce(c.status, ''), coalesce(c.hlc, ''),
		c.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync_pass_rows p WHERE p.tbl = ? AND p.id = c.id), c.row
		FROM sync_rows e LEFT JOIN sync_conflicts c ON c.id = e.conflict_id
		WHERE e.state IN ('awaiting_review', 'resolving')`, protocol.TableConflicts)
	if err != nil {
		return 0, nil, err
	}
	var es []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.tbl, &e.id, &e.entryHLC, &e.conflictID, &e.status, &e.recHLC, &e.brought, &e.rec); err != nil {
			rows.Close()
			return 0, nil, err
		}
		es = append(es, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	n := 0
	done := map[string]bool{}
	for _, e := range es {
		done[e.tbl+"/"+e.id] = true
		if e.brought {
			// Open: awaiting review again. Resolved: the pulled decision
			// settled the row (pullConflict), unless it was re-edited
			// under review. Either way a re-edit is pushed, as before the
			// restore, on the version of the conflict's theirs, which the
			// restored server holds with the record: the server merges it
			// with the decision, whatever it is.
			if err := restoreReviewBase(t, e.tbl, e.id, e.rec.String); err != nil {
				return n, nil, err
			}
			continue
		}
		tb, ok := s.syncedTable(e.tbl)
		if !ok {
			continue
		}
		var mine, theirs map[string]any
		if e.rec.Valid {
			if rec, err := protocol.DecodeRow([]byte(e.rec.String)); err == nil {
				if dev, _ := rec["device_id"].(string); own.has(dev) || node == "" {
					mine, _ = rec["mine"].(map[string]any)
					theirs, _ = rec["theirs"].(map[string]any)
				}
			}
		}
		cur, _, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", e.id))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return n, nil, err
		}
		if mine != nil && theirs != nil {
			row, write := cur.Row, false
			if cur.HLC != e.entryHLC {
				// A re-edit under review: mine, with the re-edit's changes.
				changed, err := reEditChanged(t, own, e.tbl, e.id, e.entryHLC, e.recHLC)
				if err != nil {
					return n, nil, err
				}
				row, write = overlayOwnChanges(tb, mine, theirs, cur.Row, changed), true
			}
			row, folded, err := foldEarlierOpen(t, own, tb, e.id, e.recHLC, row)
			if err != nil {
				return n, nil, err
			}
			if write || folded {
				if err := writeServerRow(t, tb, e.id, row, 0, cur.HLC); err != nil {
					return n, nil, err
				}
			}
		}
		if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL, version = 0 WHERE id = ?", e.id); err != nil {
			return n, nil, err
		}
		if _, err := t.exec("DELETE FROM sync_rows WHERE tbl = ? AND id = ?", e.tbl, e.id); err != nil {
			return n, nil, err
		}
		n++
	}
	return n, done, nil
}

// restoreReviewBase gives the entry of a row awaiting review the base its
// open conflict record rec names again (theirs and its version).
func restoreReviewBase(t *wtx, tbl, id, rec string) error {
	r, err := protocol.DecodeRow([]byte(rec))
	if err != nil {
		return nil // not a record this build can read: base 0 stays
	}
	tv, ok := toInt64(r["theirs_version"])
	theirs, _ := r["theirs"].(map[string]any)
	if !ok || tv <= 0 || theirs == nil {
		return nil
	}
	enc, err := encodeRow(theirs)
	if err != nil {
		return err
	}
	if _, err := t.exec("UPDATE sync_rows SET base_version = ?, base_row = ? WHERE tbl = ? AND id = ?", tv, enc, tbl, id); err != nil {
		return fmt.Errorf("restore the review's base: %w", err)
	}
	return nil
}

// overlayOwnChanges returns row with each people's field it holds as
// theirs holds it taken from mine: the row's own changes relative to
// theirs, applied over mine. A field in changed (the re-edit's own
// changes, reeditfields.go) keeps row's value even when it is theirs'.
func overlayOwnChanges(tb protocol.Table, mine, theirs, row map[string]any, changed map[string]bool) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		out[k] = v
	}
	for _, name := range tb.PeopleColumns() {
		mv, ok := mine[name]
		if !ok || changed[name] {
			continue
		}
		if tv, ok := theirs[name]; ok && sameValue(tb, name, row[name], tv) {
			out[name] = mv
		}
	}
	return out
}

// sameValue reports whether a and b (local or wire values) are the same
// value of column name.
func sameValue(tb protocol.Table, name string, a, b any) bool {
	a, b = textOf(a), textOf(b)
	if col, ok := tb.Column(name); ok {
		if na, err := col.Normalize(a); err == nil {
			a = na
		}
		if nb, err := col.Normalize(b); err == nil {
			b = nb
		}
	}
	return conflict.Equal(a, b)
}

// samePeople reports whether the local row and a wire row hold the same
// people's fields.
func samePeople(tb protocol.Table, local, row map[string]any) bool {
	for _, name := range tb.PeopleColumns() {
		if !sameValue(tb, name, local[name], row[name]) {
			return false
		}
	}
	return true
}

// lostOwnSides returns, per row, the latest side this device wrote of the
// conflict records still on the pass's list (the restore dropped them):
// the "mine" of an open or auto_resolved record this device's push made,
// and the "theirs" of an auto_resolved record whose losing or overwritten
// state was this device's own accepted write (theirs_hlc, noted when the
// record was pulled: annotateOwnTheirs). A resolved record is never pushed
// again: a decision exists, and the decider's device pushes its decided
// state again as its own accepted write.
func lostOwnSides(t *wtx, own ownIDs) ([]ownSide, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT c.table_name, c.row_id, c.status, c.hlc, c.row FROM sync_conflicts c
		JOIN sync_pass_rows p ON p.tbl = ? AND p.id = c.id WHERE c.status <> ?`, protocol.TableConflicts, protocol.ConflictResolved)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	latest := map[[2]string]ownSide{}
	for rows.Next() {
		var r ownSide
		var recHLC, data string
		if err := rows.Scan(&r.table, &r.rowID, &r.status, &recHLC, &data); err != nil {
			return nil, err
		}
		rec, err := protocol.DecodeRow([]byte(data))
		if err != nil {
			continue // not a record this build can read: left as it is
		}
		r.created, _ = toInt64(rec["created_at"])
		mine, _ := rec["mine"].(map[string]any)
		theirs, _ := rec["theirs"].(map[string]any)
		r.theirs = theirs
		dev, _ := rec["device_id"].(string)
		theirsHLC, _ := rec[localTheirsHLC].(string)
		switch {
		case own.has(dev) && mine != nil && own.hlc(recHLC):
			r.side, r.h, r.row = "mine", recHLC, mine
		case r.status == protocol.ConflictAutoResolved && theirs != nil && own.hlc(theirsHLC):
			r.side, r.h, r.row = "theirs", theirsHLC, theirs
		default:
			continue
		}
		k := [2]string{r.table, r.rowID}
		if cur, ok := latest[k]; !ok || r.h > cur.h {
			latest[k] = r
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]ownSide, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	// One order whatever the map's.
	sort.Slice(out, func(i, j int) bool {
		if out[i].created != out[j].created {
			return out[i].created < out[j].created
		}
		return out[i].table+"/"+out[i].rowID < out[j].table+"/"+out[j].rowID
	})
	return out, nil
}

// repushSide makes r's row hold r's side again, pending on base 0, unless
// the row has a later own write that already carries it, awaits review or
// is quarantined; it reports whether it did.
func (s *Store) repushSide(t *wtx, own ownIDs, r ownSide) (bool, error) {
	tb, ok := s.syncedTable(r.table)
	if !ok {
		return false, nil
	}
	var entry, listed bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM sync_rows e WHERE e.tbl = ? AND e.id = ?),
		EXISTS (SELECT 1 FROM sync_pass_rows p WHERE p.tbl = ? AND p.id = ?)`, tb.Name, r.rowID, tb.Name, r.rowID).Scan(&entry, &listed)
	if err != nil {
		return false, err
	}
	cur, synced, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", r.rowID))
	if errors.Is(err, sql.ErrNoRows) {
		// Not held (removed by an earlier pass: the server purged it).
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if entry {
		// In flight, awaiting review or quarantined: settled on its own.
		return false, nil
	}
	row, h := r.row, r.h
	switch {
	case !synced && cur.HLC == r.h:
		// Pending under the side's own hlc: the winner's state a
		// superseded answer wrote under the pushed hlc, its own not pulled
		// yet when the timeline changed: the row takes the side again.
	case own.hlc(cur.HLC) && cur.HLC > r.h:
		if r.status != protocol.ConflictOpen || r.theirs == nil {
			// A later own write supersedes an lww side: not lost.
			return false, nil
		}
		// A later own write of a row whose conflict is still open started
		// from theirs (a re-edit under review): mine goes again with the
		// later write's own changes over it, under the later write's hlc.
		changed, err := reEditChanged(t, own, tb.Name, r.rowID, r.h)
		if err != nil {
			return false, err
		}
		row, h = overlayOwnChanges(tb, r.row, r.theirs, cur.Row, changed), cur.HLC
	case own.hlc(cur.HLC) && cur.HLC == r.h && synced:
		// The server holds this very write.
		return false, nil
	}
	if r.side == "mine" && r.status == protocol.ConflictOpen {
		if row, _, err = foldEarlierOpen(t, own, tb, r.rowID, r.h, row); err != nil {
			return false, err
		}
	}
	if synced && !listed {
		// The pass brought the row: that state is the server's, and stays
		// the row's known state while the row is pending (section 8).
		known := map[string]any{"created_at": cur.Row["created_at"]}
		if d := cur.Row["deleted_at"]; d != nil {
			known["deleted_at"] = d
		}
		if err := s.rememberServer(t, tb, r.rowID, cur.Version, known); err != nil {
			return false, err
		}
	}
	if err := writeServerRow(t, tb, r.rowID, row, 0, h); err != nil {
		return false, err
	}
	if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL WHERE id = ?", r.rowID); err != nil {
		return false, fmt.Errorf("make pending: %w", err)
	}
	return true, nil
}

// foldEarlierOpen returns row with the "mine" of each earlier open record
// of this device on row id that the restore lost (on the pass's list, hlc
// below laterHLC) folded back in, latest first, as overlayOwnChanges does
// for a re-edit, and whether it changed anything. Every own write of a row
// after an open conflict of its own started from that conflict's theirs
// (a re-edit under review), so the fields the row still holds as that
// theirs held them are the undecided edit's, which lived only in its
// record: lostOwnSides pushes the latest side of a row only, and without
// this an earlier undecided edit was nowhere on the restored server (review
// of 999830a, issue 15).
func foldEarlierOpen(t *wtx, own ownIDs, tb protocol.Table, id, laterHLC string, row map[string]any) (map[string]any, bool, error) {
	if len(own) == 0 || laterHLC == "" {
		return row, false, nil
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT c.hlc, c.row FROM sync_conflicts c
		JOIN sync_pass_rows p ON p.tbl = ? AND p.id = c.id
		WHERE c.table_name = ? AND c.row_id = ? AND c.status = ? AND c.hlc < ? ORDER BY c.hlc DESC`,
		protocol.TableConflicts, tb.Name, id, protocol.ConflictOpen, laterHLC)
	if err != nil {
		return row, false, fmt.Errorf("read earlier open records: %w", err)
	}
	type side struct {
		h            string
		mine, theirs map[string]any
	}
	var sides []side
	for rows.Next() {
		var h, data string
		if err := rows.Scan(&h, &data); err != nil {
			rows.Close()
			return row, false, err
		}
		rec, err := protocol.DecodeRow([]byte(data))
		if err != nil || !own.hlc(h) {
			continue
		}
		dev, _ := rec["device_id"].(string)
		mine, _ := rec["mine"].(map[string]any)
		theirs, _ := rec["theirs"].(map[string]any)
		if !own.has(dev) || mine == nil || theirs == nil {
			continue
		}
		sides = append(sides, side{h, mine, theirs})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return row, false, err
	}
	folded := false
	for _, sd := range sides {
		changed, err := reEditChanged(t, own, tb.Name, id, sd.h)
		if err != nil {
			return row, false, err
		}
		next := overlayOwnChanges(tb, sd.mine, sd.theirs, row, changed)
		for _, name := range tb.PeopleColumns() {
			if !sameValue(tb, name, next[name], row[name]) {
				folded = true
			}
		}
		row = next
	}
	return row, folded, nil
}
