package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
)

// ErrUpstreamUnavailable: a hub could not reach central to forward a
// resolve of central's record; answered 503 upstream_unavailable, and the
// device keeps its decision queued as when offline.
var ErrUpstreamUnavailable = errors.New("central cannot be reached")

// UpstreamRefusal is central's error answer to a forwarded resolve,
// passed on to the device as central gave it.
type UpstreamRefusal struct {
	Status        int
	Code, Message string
}

func (e *UpstreamRefusal) Error() string {
	return fmt.Sprintf("central answered %d %s: %s", e.Status, e.Code, e.Message)
}

// ErrResolveAtOwner: the conflict record belongs to another tier (a hub's
// record sent to central or to another hub); answered 409
// resolve_at_owner.
var ErrResolveAtOwner = errors.New("the conflict is resolved where it was recorded")

// Route says where a resolve of conflict id is decided (docs/design.md
// section 9): here (nil), at central through this hub's link (forward
// true), or elsewhere (ErrResolveAtOwner).
func (e *Engine) Route(ctx context.Context, site, id string) (forward bool, err error) {
	rows, err := e.Store.History(ctx, site, protocol.TableConflicts, id)
	if err != nil || len(rows) == 0 {
		return false, fmt.Errorf("load conflict: %w", ErrNotFound)
	}
	rec, err := decodeConflict(rows[len(rows)-1].Data)
	if err != nil {
		return false, err
	}
	switch {
	case rec.Owner == nil && e.HubID == "":
		return false, nil // central's record, at central
	case rec.Owner == nil:
		return true, nil // central's record, at a hub
	case *rec.Owner == e.HubID:
		return false, nil // this hub's record
	default:
		return false, ErrResolveAtOwner
	}
}

// Forward is a resolve a hub sends to central: the conflict's row, the
// hub's version the decision was made on and central's version of that
// same state (the base_version central checks).
type Forward struct {
	Table, RowID         string
	HubBase, CentralBase int64
	// Theirs is the hub's current state of the row (at HubBase).
	Theirs protocol.Row
}

// PrepareForward checks that a resolve of central's record may go to
// central: its base is the hub's current version of the row (the current
// one when it names none), that state came unchanged from central, and no
// hub write of the row is waiting for central. Otherwise a
// *StaleBaseError with the hub's current state, as central would answer.
func (e *Engine) PrepareForward(ctx context.Context, dev Device, id string, req ResolveRequest) (Forward, error) {
	rows, err := e.Store.History(ctx, dev.SiteID, protocol.TableConflicts, id)
	if err != nil || len(rows) == 0 {
		return Forward{}, fmt.Errorf("load conflict: %w", ErrNotFound)
	}
	rec, err := decodeConflict(rows[len(rows)-1].Data)
	if err != nil {
		return Forward{}, err
	}
	if rec.Status == protocol.ConflictResolved {
		return Forward{}, ErrAlreadyResolved
	}
	t, ok := e.Registry.Lookup(rec.TableName)
	if !ok {
		return Forward{}, fmt.Errorf("conflict on unknown table %q", rec.TableName)
	}
	tx, err := e.Store.Begin(ctx, dev.SiteID)
	if err != nil {
		return Forward{}, fmt.Errorf("begin forward: %w", err)
	}
	defer tx.Rollback()
	cur, err := tx.GetRow(ctx, t.Name, rec.RowID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Forward{}, fmt.Errorf("get row: %w", err)
	}
	var theirs protocol.Row
	if err == nil {
		if theirs, err = decodeRow(t, cur.Data); err != nil {
			return Forward{}, err
		}
	}
	base := cur.Version
	if req.BaseVersion != nil {
		base = *req.BaseVersion
	}
	// A current state written on site (not central's, republished) is a
	// hub write central has not settled yet, or has not answered.
	if cur.Version == 0 || cur.Version != base || isLocal(cur, e.HubID) {
		return Forward{}, &StaleBaseError{Row: theirs, Version: cur.Version}
	}
	central, err := metaInt(ctx, tx, rowMetaKey(metaUpBase, t.Name, rec.RowID))
	if err != nil {
		return Forward{}, err
	}
	return Forward{Table: t.Name, RowID: rec.RowID, HubBase: cur.Version, CentralBase: central, Theirs: theirs}, nil
}

// AdoptResolved writes, after central took a forwarded resolve at its
// version central, the chosen row as central's state on site (unless a
// hub write moved the row on meanwhile: it goes to central and meets the
// decision there), and returns the hub's version of the row.
func (e *Engine) AdoptResolved(ctx context.Context, site string, f Forward, chosen protocol.Row, hlc string, central int64) (version, seq int64, err error) {
	t, _ := e.Registry.Lookup(f.Table)
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return 0, 0, fmt.Errorf("begin adopt resolve: %w", err)
	}
	defer tx.Rollback()
	w := newWriter(tx, e.Registry, e.nowMS())
	cur, exists, err := w.current(ctx, f.Table, f.RowID)
	if err != nil {
		return 0, 0, err
	}
	if !exists || cur.Version != f.HubBase {
		return cur.Version, 0, nil
	}
	theirs, err := decodeRow(t, cur.Data)
	if err != nil {
		return 0, 0, err
	}
	row := overlay(t, chosen, theirs)
	row["server_updated_at"] = w.now
	v, err := w.put(ctx, rowState(t, row, hlc, e.HubID))
	if err != nil {
		return 0, 0, err
	}
	for _, k := range []string{metaUpBase, metaUpEcho} {
		if err := setMetaInt(ctx, tx, rowMetaKey(k, f.Table, f.RowID), central); err != nil {
			return 0, 0, err
		}
	}
	if err := commitOr(tx, "commit adopt resolve"); err != nil {
		return 0, 0, err
	}
	return v, w.last, nil
}
