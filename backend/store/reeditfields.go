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
// fields the person changed are noted with the re-edit (in meta, one entry
// per row, under the hlc of the conflicting push whose review it is), so
// that those fields keep the re-edit's values. A note of another review
// (another hlc) is ignored; an entry is removed when it is used.

// metaReEditPrefix + table + "/" + id is the meta key of a row's note.
const metaReEditPrefix = "reedit_fields/"

type reEditNote struct {
	HLC    string   `json:"hlc"`
	Fields []string `json:"fields"`
}

// noteReEditFields notes, inside t, that the re-edit of tbl/id under the
// review of the push stamped mineHLC changed fields.
func noteReEditFields(t *wtx, tbl, id, mineHLC string, fields []string) error {
	if mineHLC == "" || len(fields) == 0 {
		return nil
	}
	b, err := json.Marshal(reEditNote{HLC: mineHLC, Fields: fields})
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, upsertMeta, metaReEditPrefix+tbl+"/"+id, string(b)); err != nil {
		return fmt.Errorf("note the re-edit's fields: %w", err)
	}
	return nil
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

// readReEditNote returns the note of tbl/id, nil when there is none or it
// is not one this build can read.
func readReEditNote(t *wtx, tbl, id string) (*reEditNote, error) {
	var v string
	err := t.tx.QueryRowContext(t.ctx, "SELECT value FROM meta WHERE key = ?", metaReEditPrefix+tbl+"/"+id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the re-edit's fields: %w", err)
	}
	var n reEditNote
	if json.Unmarshal([]byte(v), &n) != nil || n.HLC == "" {
		return nil, nil
	}
	return &n, nil
}

// addReEditFields adds fields, changed by a later edit of tbl/id, to the
// row's note, under the same review (its hlc kept). Without a note it
// does nothing.
func addReEditFields(t *wtx, tbl, id string, fields []string) error {
	if len(fields) == 0 {
		return nil
	}
	n, err := readReEditNote(t, tbl, id)
	if err != nil || n == nil {
		return err
	}
	have := make(map[string]bool, len(n.Fields))
	for _, f := range n.Fields {
		have[f] = true
	}
	grown := false
	for _, f := range fields {
		if !have[f] {
			n.Fields = append(n.Fields, f)
			grown = true
		}
	}
	if !grown {
		return nil
	}
	return noteReEditFields(t, tbl, id, n.HLC, n.Fields)
}

// reEditChanged returns the fields the re-edit of tbl/id changed under the
// review of a push stamped with one of mineHLCs ("" never matches; a stamp
// re-stamped with another of own's ids matches: sameOwnStamp), nil
// when none is noted, and forgets the note it used. A note of another
// review is left: an earlier review's record may still be folded in
// (foldEarlierOpen), and the next review's first re-edit replaces it.
func reEditChanged(t *wtx, own ownIDs, tbl, id string, mineHLCs ...string) (map[string]bool, error) {
	n, err := readReEditNote(t, tbl, id)
	if err != nil || n == nil {
		return nil, err
	}
	for _, h := range mineHLCs {
		if !sameOwnStamp(own, h, n.HLC) {
			continue
		}
		if _, err := t.tx.ExecContext(t.ctx, "DELETE FROM meta WHERE key = ?", metaReEditPrefix+tbl+"/"+id); err != nil {
			return nil, fmt.Errorf("forget the re-edit's fields: %w", err)
		}
		out := make(map[string]bool, len(n.Fields))
		for _, f := range n.Fields {
			out[f] = true
		}
		return out, nil
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
