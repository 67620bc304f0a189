package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/conflict"
	"github.com/outpost-app/outpost/backend/protocol"
)

// metaUpMade + table/id: what central made of the hub's last answered
// write of a row of a manual table when central's state is not the hub's
// (madeOn), kept until the hub takes central's state. The site's later
// writes were made on the hub's own state of that write, not on central's:
// they go up rebased on central's (UpstreamBatch), as a device's pending
// edit is rebased on a merged answer.
const metaUpMade = "up/made/"

// madeOn is a row's last answered hub write: the hub's own state of it
// (Site), and central's state (Central) at central's version (Version)
// after it.
type madeOn struct {
	Version int64           `json:"version"`
	Site    json.RawMessage `json:"site"`
	Central json.RawMessage `json:"central"`
}

// rebased returns a hub write of a manual row as it goes up when central's
// answer to the row's previous write left central's state other than the
// hub's (madeOn): the write's own changes since that previous write, laid
// on central's state, on central's version. A field the write changed and
// central's state changed too is a conflict the hub judges, as central
// would have (no version of central holds the state both were made on):
// central's value goes up, and the site's is kept in an open conflict the
// hub owns, for a manager on site to decide (rebaseConflict). Without a
// madeOn, ok is false: the write goes up as stored on the base the hub
// keeps.
func (e *Engine) rebased(ctx context.Context, wr *writer, w StoredRow) (row json.RawMessage, base int64, ok bool, err error) {
	tx := wr.tx
	t, known := e.Registry.Lookup(w.Table)
	if !known || t.Policy != protocol.PolicyManual {
		return nil, 0, false, nil
	}
	v, err := tx.Meta(ctx, rowMetaKey(metaUpMade, w.Table, w.ID))
	if errors.Is(err, ErrNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("read the row's last answer: %w", err)
	}
	var m madeOn
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, 0, false, fmt.Errorf("read the row's last answer: %w", err)
	}
	site, err := decodeRow(t, m.Site)
	if err != nil {
		return nil, 0, false, err
	}
	central, err := decodeRow(t, m.Central)
	if err != nil {
		return nil, 0, false, err
	}
	mine, err := decodeRow(t, w.Data)
	if err != nil {
		return nil, 0, false, err
	}
	mr := conflict.Merge3(t, site, mine, central)
	if len(mr.Conflicts) > 0 {
		if err := e.rebaseConflict(ctx, wr, t, w, site, mine, central, mr.Conflicts); err != nil {
			return nil, 0, false, err
		}
	}
	out := mr.Row
	keepCreated(t, out, central)
	out["server_updated_at"] = mine["server_updated_at"]
	if row, err = json.Marshal(out); err != nil {
		return nil, 0, false, fmt.Errorf("encode rebased row: %w", err)
	}
	return row, m.Version, true, nil
}

// recordMade keeps what central made of change c (its state central, at
// version) for the site's later writes of the row; the hub's own state of c
// is its stored version (origin_seq). Nothing is kept when central holds
// the hub's own state: the later writes were made on it.
func (e *Engine) recordMade(ctx context.Context, tx Tx, c protocol.Change, central json.RawMessage, version int64) error {
	t, known := e.Registry.Lookup(c.Table)
	if !known || t.Policy != protocol.PolicyManual {
		return nil // never kept: lww keeps the later write whole
	}
	if central == nil || c.OriginSeq <= 0 {
		return e.forgetMade(ctx, tx, c.Table, c.ID)
	}
	own, err := tx.GetVersion(ctx, c.Table, c.ID, c.OriginSeq)
	if errors.Is(err, ErrNotFound) {
		return e.forgetMade(ctx, tx, c.Table, c.ID)
	}
	if err != nil {
		return fmt.Errorf("read the hub's write: %w", err)
	}
	if e.sameStateRaw(c.Table, own.Data, central) {
		return e.forgetMade(ctx, tx, c.Table, c.ID)
	}
	v, err := json.Marshal(madeOn{Version: version, Site: own.Data, Central: central})
	if err != nil {
		return fmt.Errorf("encode the row's last answer: %w", err)
	}
	if err := tx.SetMeta(ctx, rowMetaKey(metaUpMade, c.Table, c.ID), v); err != nil {
		return fmt.Errorf("keep the row's last answer: %w", err)
	}
	return nil
}

// forgetMade drops a row's madeOn: the hub's state of the row is central's
// again, or unknown. Rows of lww tables never have one.
func (e *Engine) forgetMade(ctx context.Context, tx Tx, table, id string) error {
	if t, known := e.Registry.Lookup(table); known && t.Policy != protocol.PolicyManual {
		return nil
	}
	if err := tx.SetMeta(ctx, rowMetaKey(metaUpMade, table, id), nil); err != nil {
		return fmt.Errorf("forget the row's last answer: %w", err)
	}
	return nil
}

// sameStateRaw is sameState for a row given as JSON.
func (e *Engine) sameStateRaw(table string, stored, raw json.RawMessage) bool {
	var row protocol.Row
	if err := json.Unmarshal(raw, &row); err != nil {
		return false
	}
	return e.sameState(table, stored, row)
}

// rowJSON encodes an answer's row (nil when there is none).
func rowJSON(r protocol.Row) json.RawMessage {
	if r == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil
	}
	return b
}

// rebaseConflict keeps the site's write w as an open conflict the hub owns
// (docs/design.md section 9) when it changed fields central's state changed
// since the hub's previous write of the row (site, the state both were made
// on): mine is the site's state, theirs central's, fields those both
// changed. Like every record of the hub's, it goes to central with the
// hub's writes, and a manager on site decides.
func (e *Engine) rebaseConflict(ctx context.Context, wr *writer, t protocol.Table, w StoredRow, site, mine, central protocol.Row, fields []string) error {
	rec := conflictRecord{ID: uuid.NewString(), TableName: t.Name, RowID: w.ID, Status: protocol.ConflictOpen,
		Base: site, Mine: mine, Theirs: central, DeviceID: w.DeviceID, CreatedAt: wr.now, Fields: fields, Owner: e.owner(),
		TheirsVersion: w.Version, RowVersion: w.Version}
	wr.rows[rowKey{protocol.TableConflicts, rec.ID}] = nil // a new record
	if _, err := wr.put(ctx, rec.stored(w.HLC, w.DeviceID, wr.now)); err != nil {
		return fmt.Errorf("record the site's write central's state changed too: %w", err)
	}
	return nil
}
