package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// conflictRecord is a row of the sync_conflicts feed table.
type conflictRecord struct {
	ID         string       `json:"id"`
	TableName  string       `json:"table_name"`
	RowID      string       `json:"row_id"`
	Status     string       `json:"status"`
	Base       protocol.Row `json:"base"`
	Mine       protocol.Row `json:"mine"`
	Theirs     protocol.Row `json:"theirs"`
	Winner     string       `json:"winner,omitempty"`
	Fields     []string     `json:"fields"`
	DeviceID   string       `json:"device_id"`
	CreatedAt  int64        `json:"created_at"`
	ResolvedAt *int64       `json:"resolved_at"`
	ResolvedBy *string      `json:"resolved_by"`
	// ResolvedByPerson and ResolvedByName name the person who decided
	// (badge id and display name; additive to contract v1): null when the
	// resolution named nobody, and on records not resolved.
	ResolvedByPerson *string `json:"resolved_by_person"`
	ResolvedByName   *string `json:"resolved_by_name"`
	Reason           *string `json:"reason"`
	// BaseVersion is the version mine was based on, TheirsVersion the
	// version of theirs, RowVersion the row's version right after the
	// conflict was decided: a resolution without base_version is checked
	// against it.
	BaseVersion     int64 `json:"base_version"`
	TheirsVersion   int64 `json:"theirs_version"`
	RowVersion      int64 `json:"row_version"`
	ServerUpdatedAt int64 `json:"server_updated_at"`
	// Owner is the device id at central of the site hub that created the
	// record, null for central's own (docs/design.md section 9): a record
	// is resolved on its owner's tier only.
	Owner *string `json:"owner"`
}

func (r *conflictRecord) stored(h, deviceID string, now int64) StoredRow {
	r.ServerUpdatedAt = now
	if r.Fields == nil {
		r.Fields = []string{}
	}
	data, _ := json.Marshal(r) // maps of scalars: cannot fail
	return StoredRow{Table: protocol.TableConflicts, ID: r.ID, HLC: h, DeviceID: deviceID, Data: data}
}

func decodeConflict(data []byte) (conflictRecord, error) {
	var r conflictRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("decode conflict record: %w", err)
	}
	return r, nil
}

// Resolve errors the HTTP layer maps to answers.
var (
	ErrAlreadyResolved = errors.New("conflict already resolved")
	ErrForbidden       = errors.New("forbidden")
)

// StaleBaseError says the row moved on since the version a resolution was
// decided against; it carries the current state.
type StaleBaseError struct {
	Row     protocol.Row
	Version int64
}

func (e *StaleBaseError) Error() string {
	return fmt.Sprintf("the row moved on to version %d since the resolution's base", e.Version)
}

// ResolveRequest is a decoded resolution.
type ResolveRequest struct {
	Row         map[string]any
	HLC         string
	BaseVersion *int64
	Reason      *string
	// PersonID and PersonName name the person who decided (1–128
	// characters each when given).
	PersonID, PersonName *string
	// Timeline is the timeline the device names (Outpost-Timeline), ""
	// when it names none.
	Timeline string
}

// maxPersonLen bounds a resolution's person_id and person_name.
const maxPersonLen = 128

// ConflictForDevice checks that conflict id exists and belongs to dev's
// site: ErrNotFound when it does not exist, ErrForbidden when it belongs to
// another site.
func (e *Engine) ConflictForDevice(ctx context.Context, dev Device, id string) error {
	if !protocol.ValidID(id) {
		return ErrNotFound
	}
	site, err := e.Store.ConflictSite(ctx, id)
	if err != nil {
		return err
	}
	if site != dev.SiteID {
		return ErrForbidden
	}
	return nil
}

// ValidateResolve checks a resolution's body against the conflict's table
// and returns the normalised row. The hlc is checked for format only.
func (e *Engine) ValidateResolve(ctx context.Context, dev Device, id string, req ResolveRequest) (protocol.Row, error) {
	rows, err := e.Store.History(ctx, dev.SiteID, protocol.TableConflicts, id)
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("load conflict: %w", ErrNotFound)
	}
	rec, err := decodeConflict(rows[len(rows)-1].Data)
	if err != nil {
		return nil, err
	}
	t, ok := e.Registry.Lookup(rec.TableName)
	if !ok {
		return nil, &protocol.ValidationError{Code: protocol.CodeUnknownTable, Message: "the conflict's table is unknown to this server"}
	}
	if _, err := hlc.Parse(req.HLC); err != nil {
		return nil, &protocol.ValidationError{Code: protocol.CodeInvalidHLC, Column: "hlc", Message: "hlc is not ms-counter-device"}
	}
	if req.BaseVersion != nil && *req.BaseVersion < 0 {
		return nil, &protocol.ValidationError{Code: protocol.CodeInvalidValue, Column: "base_version", Message: "base_version must be 0 or more"}
	}
	if req.Row == nil {
		return nil, &protocol.ValidationError{Code: protocol.CodeMissingValue, Column: "row", Message: "row is required"}
	}
	return t.Validate(rec.RowID, req.Row, protocol.Complete)
}

// Resolve writes a manager's decision on conflict id: the chosen row
// becomes the row's new state and the conflict is closed, both in one
// transaction. It returns the row's new version and the site's sequence.
func (e *Engine) Resolve(ctx context.Context, dev Device, id string, req ResolveRequest, chosen protocol.Row) (version, seq int64, err error) {
	tx, err := e.Store.Begin(ctx, dev.SiteID)
	if err != nil {
		return 0, 0, fmt.Errorf("begin resolve: %w", err)
	}
	defer tx.Rollback()
	var base0 int64
	if req.BaseVersion != nil {
		base0 = *req.BaseVersion
	}
	if err := position(ctx, tx, req.Timeline, base0); err != nil {
		return 0, 0, err
	}
	cr, err := tx.GetRow(ctx, protocol.TableConflicts, id)
	if err != nil {
		return 0, 0, fmt.Errorf("get conflict: %w", err)
	}
	rec, err := decodeConflict(cr.Data)
	if err != nil {
		return 0, 0, err
	}
	if rec.Status == protocol.ConflictResolved {
		return 0, 0, ErrAlreadyResolved
	}
	t, _ := e.Registry.Lookup(rec.TableName)
	base := rec.RowVersion
	if req.BaseVersion != nil {
		base = *req.BaseVersion
	}
	cur, err := tx.GetRow(ctx, t.Name, rec.RowID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, 0, fmt.Errorf("get row: %w", err)
	}
	var theirs protocol.Row
	if err == nil {
		if theirs, err = decodeRow(t, cur.Data); err != nil {
			return 0, 0, err
		}
	}
	if cur.Version != base {
		return 0, 0, &StaleBaseError{Row: theirs, Version: cur.Version}
	}
	w := newWriter(tx, e.Registry, e.nowMS())
	w.rows[rowKey{protocol.TableConflicts, id}] = &cr
	if theirs != nil {
		w.rows[rowKey{t.Name, rec.RowID}] = &cur
	} else {
		w.rows[rowKey{t.Name, rec.RowID}] = nil
	}
	row := overlay(t, chosen, theirs)
	row["server_updated_at"] = w.now
	v, err := w.put(ctx, rowState(t, row, req.HLC, dev.ID))
	if err != nil {
		return 0, 0, err
	}
	rec.Status = protocol.ConflictResolved
	rec.ResolvedAt, rec.ResolvedBy, rec.Reason = &w.now, &dev.ID, req.Reason
	rec.ResolvedByPerson, rec.ResolvedByName = req.PersonID, req.PersonName
	rec.RowVersion = v
	if _, err := w.put(ctx, rec.stored(req.HLC, cr.DeviceID, w.now)); err != nil {
		return 0, 0, err
	}
	if err := tx.Unpin(ctx, rec.ID); err != nil {
		return 0, 0, fmt.Errorf("unpin: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("commit resolve: %w", err)
	}
	return v, w.last, nil
}
