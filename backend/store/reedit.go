package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Re-edits under review (docs/design.md section 3): a local edit of a row
// awaiting review starts from the server state the conflict showed
// ("theirs"), not from the device's conflicting edit, which lives on in the
// conflict record. The edit form shows the local row (the conflicting edit)
// and sends back every field; the fields the person changed are the edit,
// the others take theirs' values. The row is pushed on theirs' version
// (pendingChanges), so the server merges the edit with whatever a manager
// decided since, and never writes the conflicting value back unjudged.

// reEdit is what an edit of a row awaiting review needs to start from
// theirs: the row's people's fields before the edit and theirs' values.
type reEdit struct {
	tb     protocol.Table
	id     string
	hlc    string
	before []any
	theirs protocol.Row
	// later: an edit after the first one under review (it starts from
	// the row, not from theirs): its changes join the row's note
	// (reeditfields.go) and nothing else is done.
	later bool
}

// beforeEdit returns the re-edit to complete after the edit of row id is
// written (afterEdit), or nil when the row is not awaiting review (or was
// edited again since: that edit already started from theirs) or theirs is
// not known.
func beforeEdit(t *wtx, tb protocol.Table, id string) (*reEdit, error) {
	var state, entryHLC, rowHLC string
	var baseRow, conflictID, serverRow sql.NullString
	var baseV int64
	var serverV sql.NullInt64
	err := t.tx.QueryRowContext(t.ctx, `SELECT e.state, e.hlc, r.hlc, e.base_row, e.conflict_id, e.base_version, e.server_version, e.server_row
		FROM sync_rows e JOIN `+tb.Name+` r ON r.id = e.id WHERE e.tbl = ? AND e.id = ?`, tb.Name, id).
		Scan(&state, &entryHLC, &rowHLC, &baseRow, &conflictID, &baseV, &serverV, &serverRow)
	if errors.Is(err, sql.ErrNoRows) {
		return laterEdit(t, tb, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read row state: %w", err)
	}
	if (state != StateAwaitingReview && state != StateResolving) || entryHLC != rowHLC {
		return laterEdit(t, tb, id)
	}
	theirs, err := theirsOf(t, baseRow, conflictID, baseV, serverV, serverRow)
	if err != nil || theirs == nil {
		return nil, err
	}
	before, err := peopleOf(t, tb, id)
	if err != nil {
		return nil, err
	}
	return &reEdit{tb: tb, id: id, hlc: rowHLC, before: before, theirs: theirs}, nil
}

// laterEdit returns, for an edit of row id that holds a re-edit's note
// (reeditfields.go), the re-edit whose afterEdit adds the fields this
// edit changes to the note, or nil when there is no note. The first
// re-edit under review notes only its own changes; a later edit (made
// from the row, under review or after the re-edit met the server) that
// sets a field to theirs' value would otherwise look unchanged to a
// restore that loses the record, and take mine's older value.
func laterEdit(t *wtx, tb protocol.Table, id string) (*reEdit, error) {
	ns, err := readReEditNotes(t, tb.Name, id)
	if err != nil || len(ns) == 0 {
		return nil, err
	}
	var rowHLC string
	if err := t.tx.QueryRowContext(t.ctx, "SELECT hlc FROM "+tb.Name+" WHERE id = ?", id).Scan(&rowHLC); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("read row: %w", err)
	}
	before, err := peopleOf(t, tb, id)
	if err != nil {
		return nil, err
	}
	return &reEdit{tb: tb, id: id, hlc: rowHLC, before: before, later: true}, nil
}

// peopleOf reads the people's fields of row id of tb.
func peopleOf(t *wtx, tb protocol.Table, id string) ([]any, error) {
	people := tb.PeopleColumns()
	out := make([]any, len(people))
	ptrs := make([]any, len(people))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := t.tx.QueryRowContext(t.ctx, "SELECT "+strings.Join(people, ", ")+" FROM "+tb.Name+" WHERE id = ?", id).Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("read row: %w", err)
	}
	return out, nil
}

// theirsOf finds the conflict's server state: kept with the entry since
// schema 6, else in the pulled conflict record, else the remembered server
// state when it is still the conflict's version.
func theirsOf(t *wtx, baseRow, conflictID sql.NullString, baseV int64, serverV sql.NullInt64, serverRow sql.NullString) (protocol.Row, error) {
	if baseRow.Valid {
		return protocol.DecodeRow([]byte(baseRow.String))
	}
	if conflictID.Valid {
		var rec string
		err := t.tx.QueryRowContext(t.ctx, "SELECT row FROM sync_conflicts WHERE id = ?", conflictID.String).Scan(&rec)
		if err == nil {
			var r struct {
				Theirs json.RawMessage `json:"theirs"`
			}
			if json.Unmarshal([]byte(rec), &r) == nil && len(r.Theirs) > 0 && string(r.Theirs) != "null" {
				return protocol.DecodeRow(r.Theirs)
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("read conflict record: %w", err)
		}
	}
	if serverV.Valid && serverV.Int64 == baseV && serverRow.Valid {
		return protocol.DecodeRow([]byte(serverRow.String))
	}
	return nil, nil
}

// afterEdit gives every people's field the edit left as it was theirs'
// value. It does nothing when the edit wrote nothing (same hlc).
func (r *reEdit) afterEdit(t *wtx) error {
	if r == nil {
		return nil
	}
	people := r.tb.PeopleColumns()
	after := make([]any, len(people))
	ptrs := make([]any, len(people)+1)
	for i := range after {
		ptrs[i] = &after[i]
	}
	var h string
	ptrs[len(people)] = &h
	if err := t.tx.QueryRowContext(t.ctx, "SELECT "+strings.Join(people, ", ")+", hlc FROM "+r.tb.Name+" WHERE id = ?", r.id).Scan(ptrs...); err != nil {
		return fmt.Errorf("read edited row: %w", err)
	}
	if h == r.hlc {
		return nil
	}
	var sets []string
	var args []any
	var changed []string
	for i, name := range people {
		if !reflect.DeepEqual(textOf(after[i]), textOf(r.before[i])) {
			changed = append(changed, name)
			continue // the person changed it: the edit
		}
		if r.later {
			continue
		}
		tv, ok := r.theirs[name]
		if !ok {
			continue // a column theirs does not carry keeps its value
		}
		col, _ := r.tb.Column(name)
		v, err := col.Normalize(tv)
		if err != nil {
			return fmt.Errorf("theirs' %s: %w", name, err)
		}
		sets = append(sets, name+" = ?")
		args = append(args, v)
	}
	if r.later {
		return addReEditFields(t, r.tb.Name, r.id, changed)
	}
	// A field set to theirs' value looks like one left as theirs: noted,
	// so that a restore that loses the record keeps it (reeditfields.go).
	if err := noteReEditFields(t, r.tb.Name, r.id, r.hlc, changed); err != nil {
		return err
	}
	if len(sets) == 0 {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, "UPDATE "+r.tb.Name+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, r.id)...); err != nil {
		return fmt.Errorf("start from theirs: %w", err)
	}
	return nil
}
