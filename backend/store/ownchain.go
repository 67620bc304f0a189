package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Own changes carried by a later version (issue 15, campaign seed 117).
//
// A device's own accepted writes are the clean rows whose hlc names it and
// the versions the server merged from its pushes (sync_own_versions). The
// fields a local edit changes are noted (ownEdit) and kept with the
// version the server makes of it. Under
// the manual policy another device's later push, made on an older base, is
// merged with this device's change: the new version holds that change
// under the other device's hlc. When this device pulls it, its row is no
// longer at its own version, so after a restore from a backup taken before
// its change nobody pushed the change again: the other device, if it never
// got its push's answer, pushes again only its own state. So when a pulled
// version replaces a clean row at one of the device's own versions and
// still holds some of the device's own values, the entry moves to the
// pulled version with the people's fields that are still its own
// (carryOwnMark). A field the later version changed — another device's
// edit, or a manager's decision — leaves the set: the device never pushes
// again a value something later replaced; with no field left, the mark is
// dropped. Under lww no version holds another's change unseen (the server
// never merges: a later write is a whole row its device made), so marks
// move only on manual tables.
//
// After a timeline change such a row is pending on base 0 under a fresh hlc
// of this device (ownMergedPending), its entry kept at version 0 with that
// hlc. When the timeline pass brings the row (settleOwnFields): if the
// restored server holds those fields, the row is clean at the server's
// state; else the row becomes the server's state with those fields over it,
// still pending on base 0, so the push asks the server to judge only the
// device's own values (a field that differs is an open conflict: never a
// silent overwrite, never lost). A row the pass does not bring is pushed
// as it was held.

// ownFieldsOfMerge returns the people's fields in which the merged row the
// server answered holds the pushed values: the device's own changes and the
// fields neither side changed, which it cannot tell apart without its base
// (settle intersects them with the fields its edit changed, ownEdit). Nil
// for an lww table or a pushed row that cannot be read.
func ownFieldsOfMerge(tb protocol.Table, pushed json.RawMessage, merged map[string]any) []string {
	if tb.Policy != protocol.PolicyManual {
		return nil
	}
	p, err := protocol.DecodeRow(pushed)
	if err != nil {
		return nil
	}
	out := []string{}
	for _, name := range tb.PeopleColumns() {
		if sameValue(tb, name, p[name], merged[name]) {
			out = append(out, name)
		}
	}
	return out
}

// encodeFields is the fields column's value: NULL for the whole row.
func encodeFields(fields []string) (any, error) {
	if fields == nil {
		return nil, nil
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode own fields: %w", err)
	}
	return string(b), nil
}

// decodeFields reads the fields column: every people's field (the whole
// row) when NULL.
func decodeFields(tb protocol.Table, v sql.NullString) ([]string, error) {
	if !v.Valid {
		return tb.PeopleColumns(), nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v.String), &out); err != nil {
		return nil, fmt.Errorf("decode own fields: %w", err)
	}
	return out, nil
}

// rememberOwnVersion notes version of tbl/id as this device's own accepted
// write, with its own fields (nil: the whole row).
func rememberOwnVersion(t *wtx, tbl, id string, version int64, fields []string) error {
	f, err := encodeFields(fields)
	if err != nil {
		return err
	}
	if _, err := t.exec("INSERT OR REPLACE INTO sync_own_versions(tbl, id, version, fields, hlc) VALUES(?, ?, ?, ?, NULL)", tbl, id, version, f); err != nil {
		return fmt.Errorf("remember own version: %w", err)
	}
	return nil
}

// carryOwnMark runs before the pulled version ch replaces the clean local
// row l (at version l.version): when sync_own_versions remembers that
// version as this device's own with its own fields (an applied or merged
// edit of this device, or a version already carried) and ch, a later
// version of another device, still holds some of those values, the entry
// moves to ch's version with those fields; otherwise it is dropped. An own
// version with no known fields (a row created here, an edit answered before
// schema 11) is carried by no later version, as before.
func (s *Store) carryOwnMark(t *wtx, tb protocol.Table, ch protocol.PullChange, l localRow) error {
	if tb.Policy != protocol.PolicyManual || l.version <= 0 || ch.Version <= l.version {
		return nil
	}
	drop := func() error {
		_, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ?", tb.Name, ch.ID)
		return err
	}
	if s.own().hlc(ch.HLC) {
		// Named by its hlc: no entry needed.
		return drop()
	}
	var raw sql.NullString
	err := t.queryRow("SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = ?", tb.Name, ch.ID, l.version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
		// Not an own version whose own fields are known (a row created
		// here is one no push on an older base can merge into).
		return nil
	}
	if err != nil {
		return fmt.Errorf("read own version: %w", err)
	}
	if d, ok := ch.Row["deleted_at"]; ok && d != nil {
		// A delete: its device pushes it again if the restore lost it;
		// the values it deleted are nobody's to bring back.
		return drop()
	}
	own, err := decodeFields(tb, raw)
	if err != nil {
		return err
	}
	local, _, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", ch.ID))
	if err != nil {
		return fmt.Errorf("read row: %w", err)
	}
	keep := []string{}
	for _, name := range own {
		if v, ok := ch.Row[name]; ok && sameValue(tb, name, local.Row[name], v) {
			keep = append(keep, name)
		}
	}
	if len(keep) == 0 {
		return drop()
	}
	return rememberOwnVersion(t, tb.Name, ch.ID, ch.Version, keep)
}

// settleOwnFields settles, in a timeline pass, a row ChangeTimeline made
// pending for own fields carried by a later version (an entry at version 0
// under the row's current hlc; a row edited since is not one): clean at
// the server's state when it holds those fields, else the server's state
// with those fields over it, still pending on base 0. It reports whether
// the row was one.
func (s *Store) settleOwnFields(t *wtx, tb protocol.Table, ch protocol.PullChange, cur string, local map[string]any, out *PullOutcome) (bool, error) {
	var raw sql.NullString
	err := t.queryRow("SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = 0 AND hlc = ?", tb.Name, ch.ID, cur).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read own fields: %w", err)
	}
	own, err := decodeFields(tb, raw)
	if err != nil {
		return false, err
	}
	if _, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ?", tb.Name, ch.ID); err != nil {
		return false, fmt.Errorf("forget own fields: %w", err)
	}
	over := make(map[string]any, len(ch.Row))
	for k, v := range ch.Row {
		over[k] = v
	}
	held := true
	for _, name := range own {
		if !sameValue(tb, name, local[name], ch.Row[name]) {
			held = false
			over[name] = local[name]
		}
	}
	if held {
		// The restore lost nothing of the device's change, a tombstone
		// that still holds it included (a delete made after it was
		// seen): clean at the server's state, deleted rows stay deleted.
		out.Written++
		if err := writeServerRow(t, tb, ch.ID, ch.Row, ch.Version, ch.HLC); err != nil {
			return true, err
		}
		// That version holds the device's own change (a later restore
		// may lose it again): the note moves to it, unless its hlc names
		// this device or it is a delete.
		if d := ch.Row["deleted_at"]; d != nil || s.own().hlc(ch.HLC) || ch.Version <= 0 {
			return true, nil
		}
		return true, rememberOwnVersion(t, tb.Name, ch.ID, ch.Version, own)
	}
	if d, ok := ch.Row["deleted_at"]; ok && d != nil {
		// Deleted on the restored server without the device's change: the
		// row as held is pushed, a delete meeting an edit is judged as one
		// (an open conflict).
		return false, nil
	}
	// The server's state with the own fields over it, pending on base 0
	// under the same hlc of this device.
	out.Kept++
	if err := writeServerRow(t, tb, ch.ID, over, 0, cur); err != nil {
		return true, err
	}
	if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL WHERE id = ?", ch.ID); err != nil {
		return true, fmt.Errorf("keep own fields pending: %w", err)
	}
	return true, s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
}

// ownEdit notes which people's fields a local edit of a manual table's row
// changes, so that the version the server makes from the push knows the
// device's own fields (an entry at version -1 while the edit is not
// answered; settle moves it to the version). Edits of a row already
// pending add to the set; the first edit of a clean row starts it. A row
// pending with no set (made pending by a timeline change, or before schema
// 11) gets none: its accepted version is then the whole row's, and no later
// version carries it (as before).
//
// A clean row at a version that already holds own fields (a merged or
// carried note) starts the set from them: they still hold the device's
// values after the edit, and the version the server makes of it replaces
// that note (one entry per row). A clean row at a version remembered as
// the whole row's (schema 10's note of a merged version) keeps the whole
// row: the edit's fields alone would narrow it.
type ownEdit struct {
	tb      protocol.Table
	id      string
	clean   bool
	version int64
	before  []any
}

// beforeOwnEdit reads row id of tb before a local edit (nil when tb is not
// manual or the row does not exist).
func beforeOwnEdit(t *wtx, tb protocol.Table, id string) (*ownEdit, error) {
	if tb.Policy != protocol.PolicyManual {
		return nil, nil
	}
	people := tb.PeopleColumns()
	e := &ownEdit{tb: tb, id: id, before: make([]any, len(people))}
	ptrs := make([]any, len(people)+2)
	for i := range e.before {
		ptrs[i] = &e.before[i]
	}
	ptrs[len(people)] = &e.clean
	ptrs[len(people)+1] = &e.version
	err := t.tx.QueryRowContext(t.ctx, "SELECT "+strings.Join(people, ", ")+", synced_at IS NOT NULL, version FROM "+tb.Name+" WHERE id = ?", id).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read row before the edit: %w", err)
	}
	return e, nil
}

// after notes the fields the edit changed.
func (e *ownEdit) after(t *wtx) error {
	if e == nil {
		return nil
	}
	people := e.tb.PeopleColumns()
	after := make([]any, len(people))
	ptrs := make([]any, len(people))
	for i := range after {
		ptrs[i] = &after[i]
	}
	if err := t.tx.QueryRowContext(t.ctx, "SELECT "+strings.Join(people, ", ")+" FROM "+e.tb.Name+" WHERE id = ?", e.id).Scan(ptrs...); err != nil {
		return fmt.Errorf("read edited row: %w", err)
	}
	set := map[string]bool{}
	if !e.clean {
		var raw sql.NullString
		err := t.tx.QueryRowContext(t.ctx, "SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = -1", e.tb.Name, e.id).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
			return nil // pending with no set: unknown, left so
		}
		if err != nil {
			return fmt.Errorf("read own edit fields: %w", err)
		}
		prev, err := decodeFields(e.tb, raw)
		if err != nil {
			return err
		}
		for _, f := range prev {
			set[f] = true
		}
	} else if e.version > 0 {
		// The own fields of the version the edit is made on.
		var raw sql.NullString
		err := t.tx.QueryRowContext(t.ctx, "SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = ?", e.tb.Name, e.id, e.version).Scan(&raw)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read own fields of the version edited: %w", err)
		case !raw.Valid:
			// The whole row's: kept so (no set), as a pending edit with
			// no set is.
			if _, err := t.tx.ExecContext(t.ctx, "INSERT OR REPLACE INTO sync_own_versions(tbl, id, version, fields, hlc) VALUES(?, ?, -1, NULL, NULL)",
				e.tb.Name, e.id); err != nil {
				return fmt.Errorf("note own edit fields: %w", err)
			}
			return nil
		default:
			prev, err := decodeFields(e.tb, raw)
			if err != nil {
				return err
			}
			for _, f := range prev {
				set[f] = true
			}
		}
	}
	for i, name := range people {
		if !sameValue(e.tb, name, e.before[i], after[i]) {
			set[name] = true
		}
	}
	fields := []string{}
	for _, name := range people {
		if set[name] {
			fields = append(fields, name)
		}
	}
	f, err := encodeFields(fields)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, "INSERT OR REPLACE INTO sync_own_versions(tbl, id, version, fields, hlc) VALUES(?, ?, -1, ?, NULL)",
		e.tb.Name, e.id, f); err != nil {
		return fmt.Errorf("note own edit fields: %w", err)
	}
	return nil
}

// editedFields returns the fields the answered edit of tbl/id changed (the
// entry at version -1), nil when not known.
func editedFields(t *wtx, tb protocol.Table, id string) ([]string, error) {
	var raw sql.NullString
	err := t.queryRow("SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = -1", tb.Name, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !raw.Valid) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read own edit fields: %w", err)
	}
	return decodeFields(tb, raw)
}

// intersect returns the names of a also in b, in a's order.
func intersect(a, b []string) []string {
	in := map[string]bool{}
	for _, n := range b {
		in[n] = true
	}
	out := []string{}
	for _, n := range a {
		if in[n] {
			out = append(out, n)
		}
	}
	return out
}

// ownEditDiscarded runs when the operator discards a rejected edit of row
// id of tb, before the row takes the server state srv (nil: the row is
// removed). The edit's note (version -1) replaced the note of the version
// it was made on (one entry per row), so it is given back: the fields of
// the note whose value the row holds in srv move to srv's version (the
// device's own values the edit left as they were, still held there, as
// carryOwnMark moves them); a whole row's note only to the very version
// the edit was made on. Otherwise the note is dropped.
func (s *Store) ownEditDiscarded(t *wtx, tb protocol.Table, id string, srv *ServerState) error {
	if tb.Policy != protocol.PolicyManual {
		return nil
	}
	var raw sql.NullString
	err := t.queryRow("SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = -1", tb.Name, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read own edit fields: %w", err)
	}
	local, _, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", id))
	if err != nil {
		return fmt.Errorf("read row: %w", err)
	}
	if _, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ?", tb.Name, id); err != nil {
		return fmt.Errorf("forget own edit fields: %w", err)
	}
	if srv == nil || srv.Version <= 0 || s.own().hlc(srv.HLC) {
		return nil
	}
	if d := srv.Row["deleted_at"]; d != nil {
		return nil
	}
	if !raw.Valid {
		if srv.Version != local.Version {
			return nil
		}
		return rememberOwnVersion(t, tb.Name, id, srv.Version, nil)
	}
	own, err := decodeFields(tb, raw)
	if err != nil {
		return err
	}
	keep := []string{}
	for _, name := range own {
		if v, ok := srv.Row[name]; ok && sameValue(tb, name, local.Row[name], v) {
			keep = append(keep, name)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return rememberOwnVersion(t, tb.Name, id, srv.Version, keep)
}

// ownVersionLost runs in a full pass that brings an older version ch of a
// clean row the device holds at a later version l.version that its hlc
// does not name: a write the server lost, a restore its timeline did not
// show (pullRow pushes a row at this device's own hlc again there). When
// l.version is remembered as this device's own (a merge of its push, or a
// later version carrying its change), the device's change is pushed again
// on base 0 under a fresh hlc of this device, as ChangeTimeline and
// settleOwnFields do: the server's state with the own fields over it, or
// the whole row as held when its own fields are not known (or the server
// holds the row deleted without them). When the server's version holds
// the own fields, the row takes it and the note moves to it. It reports
// whether the row was kept pending.
func (s *Store) ownVersionLost(t *wtx, tb protocol.Table, ch protocol.PullChange, l localRow, out *PullOutcome) (bool, error) {
	if tb.Policy != protocol.PolicyManual || l.version <= 0 {
		return false, nil
	}
	var raw sql.NullString
	err := t.queryRow("SELECT fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version = ?", tb.Name, ch.ID, l.version).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read own version: %w", err)
	}
	if _, err := t.exec("DELETE FROM sync_own_versions WHERE tbl = ? AND id = ?", tb.Name, ch.ID); err != nil {
		return false, fmt.Errorf("forget own version: %w", err)
	}
	if raw.Valid {
		own, err := decodeFields(tb, raw)
		if err != nil {
			return false, err
		}
		local, _, err := scanSyncedRow(tb.ColumnNames(), t.queryRow(syncedRowQuery(tb)+" WHERE r.id = ?", ch.ID))
		if err != nil {
			return false, fmt.Errorf("read row: %w", err)
		}
		over := make(map[string]any, len(ch.Row))
		for k, v := range ch.Row {
			over[k] = v
		}
		held := true
		for _, name := range own {
			if !sameValue(tb, name, local.Row[name], ch.Row[name]) {
				held = false
				over[name] = local.Row[name]
			}
		}
		if held {
			return false, rememberOwnVersion(t, tb.Name, ch.ID, ch.Version, own)
		}
		if d, ok := ch.Row["deleted_at"]; !ok || d == nil {
			out.Kept++
			if err := writeServerRow(t, tb, ch.ID, over, 0, t.stamp()); err != nil {
				return true, err
			}
			if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL WHERE id = ?", ch.ID); err != nil {
				return true, fmt.Errorf("keep own fields pending: %w", err)
			}
			return true, s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
		}
	}
	// The whole row as held, as a row at this device's own hlc.
	out.Kept++
	if _, err := t.exec("UPDATE "+tb.Name+" SET synced_at = NULL, version = 0, hlc = ? WHERE id = ?", t.stamp(), ch.ID); err != nil {
		return true, fmt.Errorf("keep own version pending: %w", err)
	}
	return true, s.rememberServer(t, tb, ch.ID, ch.Version, ch.Row)
}
