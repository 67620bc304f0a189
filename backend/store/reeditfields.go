package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// The fields a re-edit under review changed (issue 15, seed 3033 of the
// 848956c campaign).
//
// A re-edit under review starts from theirs (reedit.go): every field the
// person left takes theirs' value. So does a field the person set to the
// value theirs holds, and after the edit the two cannot be told apart by
// value. When a restore loses the conflict record, the timeline pass pushes
// mine again with the re-edit's changes over it (overlayOwnChanges), and a
// field that held theirs' value took mine's: the person's latest choice was
// replaced by the older conflicting edit and was nowhere on the server. The
// fields the person changed are noted with the re-edit (in meta, one key
// per row, holding an entry per review under the hlc of the conflicting
// push whose review it is), so that those fields keep the re-edit's values.
// Every later own edit of the row, and the next review's re-edits, add the
// fields they change to every entry (a person's later choice is a change
// since each of those conflicts). An entry of another review (another hlc)
// is ignored; an entry is removed when it is used.

// metaReEditPrefix + table + "/" + id is the meta key of a row's note.
const metaReEditPrefix = "reedit_fields/"

type reEditNote struct {
	HLC    string   `json:"hlc"`
	Fields []string `json:"fields"`
}

// maxReEditNotes bounds the reviews a row's note keeps (the oldest go
// first): a review decided without a restore leaves its entry until then.
const maxReEditNotes = 8

// noteReEditFields notes, inside t, that the re-edit of tbl/id under the
// review of the push stamped mineHLC changed fields. The row's entries of
// earlier reviews take the fields too: the person changed them after those
// reviews' conflicts as well (foldEarlierOpen folds their mine back in).
func noteReEditFields(t *wtx, tbl, id, mineHLC string, fields []string) error {
	if mineHLC == "" || len(fields) == 0 {
		return nil
	}
	ns, err := readReEditNotes(t, tbl, id)
	if err != nil {
		return err
	}
	found := false
	for i := range ns {
		ns[i].Fields = unionFields(ns[i].Fields, fields)
		found = found || ns[i].HLC == mineHLC
	}
	if !found {
		ns = append(ns, reEditNote{HLC: mineHLC, Fields: fields})
	}
	if len(ns) > maxReEditNotes {
		ns = ns[len(ns)-maxReEditNotes:]
	}
	return writeReEditNotes(t, tbl, id, ns)
}

// writeReEditNotes stores the row's entries (none: the note is removed).
func writeReEditNotes(t *wtx, tbl, id string, ns []reEditNote) error {
	key := metaReEditPrefix + tbl + "/" + id
	if len(ns) == 0 {
		if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM meta WHERE key = ?", key); err != nil {
			return fmt.Errorf("forget the re-edit's fields: %w", err)
		}
		return nil
	}
	b, err := json.Marshal(ns)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, upsertMeta, key, string(b)); err != nil {
		return fmt.Errorf("note the re-edit's fields: %w", err)
	}
	return nil
}

func unionFields(a, b []string) []string {
	have := make(map[string]bool, len(a))
	for _, f := range a {
		have[f] = true
	}
	for _, f := range b {
		if !have[f] {
			a = append(a, f)
			have[f] = true
		}
	}
	return a
}

// noteRebasedFields notes, inside t and before rebase, the fields of row
// c.ID that an edit made while c was in flight changed (where the row
// differs from the pushed state), under the review of c's conflict: rebased
// onto theirs, the edit is a re-edit under review, and a field it set to
// theirs' value looks like one it left.
func noteRebasedFields(t *wtx, tb protocol.Table, c protocol.Change) error {
	pushed, err := protocol.DecodeRow(c.Row)
	if err != nil {
		return err
	}
	people := tb.PeopleColumns()
	vals := make([]any, len(people))
	ptrs := make([]any, len(people))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := t.queryRow("SELECT "+strings.Join(people, ", ")+" FROM "+tb.Name+" WHERE id = ?", c.ID).Scan(ptrs...); err != nil {
		return fmt.Errorf("read the edit made in flight: %w", err)
	}
	var changed []string
	for i, name := range people {
		if !sameValue(tb, name, vals[i], pushed[name]) {
			changed = append(changed, name)
		}
	}
	return noteReEditFields(t, tb.Name, c.ID, c.HLC, changed)
}

// readReEditNotes returns the entries of tbl/id's note, one per review,
// oldest first (a note of one review, as 999830a wrote it, is read too);
// none when there is no note or it is not one this build can read.
func readReEditNotes(t *wtx, tbl, id string) ([]reEditNote, error) {
	var v string
	err := t.tx.QueryRowContext(t.ctx, "SELECT value FROM meta WHERE key = ?", metaReEditPrefix+tbl+"/"+id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the re-edit's fields: %w", err)
	}
	var ns []reEditNote
	if json.Unmarshal([]byte(v), &ns) != nil {
		var n reEditNote
		if json.Unmarshal([]byte(v), &n) != nil {
			return nil, nil
		}
		ns = []reEditNote{n}
	}
	out := ns[:0]
	for _, n := range ns {
		if n.HLC != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

// addReEditFields adds fields, changed by a later edit of tbl/id (one
// that starts from the row), to every entry of the row's note. Without a
// note it does nothing.
func addReEditFields(t *wtx, tbl, id string, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	ns, err := readReEditNotes(t, tbl, id)
	if err != nil || len(ns) == 0 {
		return err
	}
	for i := range ns {
		ns[i].Fields = unionFields(ns[i].Fields, fields)
	}
	return writeReEditNotes(t, tbl, id, ns)
}

// reEditChanged returns the fields the re-edits of tbl/id changed since the
// conflict of the push stamped with one of mineHLCs ("" never matches; a
// stamp re-stamped with another of own's ids matches: sameOwnStamp), nil
// when none is noted, and forgets the entry it used. Entries of other
// reviews are left: an earlier review's record may still be folded in
// (foldEarlierOpen).
func reEditChanged(t *wtx, own ownIDs, tbl, id string, mineHLCs ...string) (map[string]bool, error) {
	ns, err := readReEditNotes(t, tbl, id)
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	for i, n := range ns {
		for _, h := range mineHLCs {
			if !sameOwnStamp(own, h, n.HLC) {
				continue
			}
			rest := append(append([]reEditNote{}, ns[:i]...), ns[i+1:]...)
			if err := writeReEditNotes(t, tbl, id, rest); err != nil {
				return nil, err
			}
			out := make(map[string]bool, len(n.Fields))
			for _, f := range n.Fields {
				out[f] = true
			}
			return out, nil
		}
	}
	return nil, nil
}

// sameOwnStamp reports whether hlcs a and b are one stamp of this device:
// equal, or the same time and counter under two of its own ids (enrolling
// again re-stamps an entry's hlc with the new id, keeping time and counter,
// while the conflict record keeps the former: restampIDs).
func sameOwnStamp(own ownIDs, a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	// The HLC prefix "%015d-%05d" is 21 characters.
	return len(a) > 21 && len(b) > 21 && a[:21] == b[:21] && own.hlc(a) && own.hlc(b)
}
