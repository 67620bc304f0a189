package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Keys of central's per-site state about its hubs (Tx.Meta).
const (
	// metaHubMark + hub id: the highest origin_seq of that hub central
	// has applied (docs/design.md section 9).
	metaHubMark = "hub/mark/"
	// metaHubNode + device id: the hub whose devices' HLCs name that id.
	// The first hub to push a device's write claims it; no other hub may.
	metaHubNode = "hub/node/"
)

// hubBatch is what central does for a push from a hub beyond what it does
// for a device's (docs/design.md section 9): the HLCs name the hub's devices,
// changes at or below the hub's origin_seq mark were applied already, and a
// change ahead of the clock holds back every later change of the batch, so
// the mark never passes a write the hub must send again. A nil *hubBatch
// (a device's push) does nothing.
type hubBatch struct {
	hub  string
	mark int64
	// held: a change of this batch was ahead of the clock.
	held  bool
	dirty bool
	// prev: each row's last change of this batch as pushed (madeOn).
	prev map[rowKey]protocol.Row
}

// beginHubBatch reads the hub's mark and checks whom its changes' HLCs
// name: a device enrolled here, or claimed by another hub, is refused
// (invalid_hlc); an unclaimed device is claimed for this hub.
func (e *Engine) beginHubBatch(ctx context.Context, tx Tx, dev Device, changes []prepared) (*hubBatch, error) {
	if dev.Role != protocol.RoleHub {
		return nil, nil
	}
	hb := &hubBatch{hub: dev.ID}
	mark, err := tx.Meta(ctx, metaHubMark+dev.ID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("read hub mark: %w", err)
	default:
		if hb.mark, err = strconv.ParseInt(string(mark), 10, 64); err != nil {
			return nil, fmt.Errorf("read hub mark %q: %w", mark, err)
		}
	}
	enrolled := map[string]bool{}
	devs, err := e.Store.ListDevices(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	for _, d := range devs {
		if d.ID != dev.ID {
			enrolled[d.ID] = true
		}
	}
	owner := map[string]string{}
	for i := range changes {
		if changes[i].rej != nil {
			continue
		}
		ts, err := hlc.Parse(changes[i].HLC)
		if err != nil {
			continue // prepare refused it already
		}
		node := ts.Node
		o, seen := owner[node]
		if !seen {
			switch {
			case node == dev.ID:
				o = dev.ID
			case enrolled[node]:
				o = ""
			default:
				v, err := tx.Meta(ctx, metaHubNode+node)
				switch {
				case errors.Is(err, ErrNotFound):
					if err := tx.SetMeta(ctx, metaHubNode+node, []byte(dev.ID)); err != nil {
						return nil, fmt.Errorf("claim device for hub: %w", err)
					}
					o = dev.ID
				case err != nil:
					return nil, fmt.Errorf("read hub claim: %w", err)
				default:
					o = string(v)
				}
			}
			owner[node] = o
		}
		if o != dev.ID {
			r := rejected(changes[i].change, protocol.CodeInvalidHLC, "hlc names a device that is not this hub's; a hub sends its own devices' writes only")
			changes[i].rej = &r
		}
	}
	return hb, nil
}

// before answers a change central must not judge: one at or below the
// hub's mark (applied before: answered merged with the row as it is) or
// one after a change ahead of the clock (held back, rejected clock_ahead
// so that the hub sends it again with that change). done is false for the
// changes to judge as a device's.
func (hb *hubBatch) before(ctx context.Context, w *writer, p prepared) (protocol.PushResult, bool, error) {
	if hb == nil || p.rej != nil {
		return protocol.PushResult{}, false, nil
	}
	if hb.held {
		return rejected(p.change, protocol.CodeClockAhead, "held back behind an earlier change of this batch that was ahead of the server clock; send both again"), true, nil
	}
	if p.OriginSeq == 0 || p.OriginSeq > hb.mark {
		return protocol.PushResult{}, false, nil
	}
	cur, exists, err := w.current(ctx, p.Table, p.ID)
	if err != nil || !exists {
		// Not found: judged as a device's change (a purged row is
		// refused row_deleted there).
		return protocol.PushResult{}, false, err
	}
	v := cur.Version
	res := protocol.PushResult{Table: p.Table, ID: p.ID, Status: protocol.StatusApplied, Version: &v}
	if p.record == nil {
		// Answered merged with the row as central holds it, never
		// applied: "applied" makes the hub record an echo and skip
		// central's state on its pull, and that state may not be the
		// write's values (central merged it with another writer's under
		// the write's own stamp, or the row moved on since: another
		// writer, or a later write of the hub that a restored hub no
		// longer holds). The hub takes the row as after a merge.
		row, err := decodeRow(p.table, cur.Data)
		if err != nil {
			return res, false, err
		}
		res.Status, res.Row = protocol.StatusMerged, row
	}
	return res, true, nil
}

// madeOn returns the state a hub's change of a manual row was made on
// when the batch holds an earlier change of the row: that change as
// pushed. The hub sends every site write as its own change, in hub order,
// each on the base of the row's first unanswered one, and a later write of
// a row is made on the earlier (no state of central's comes between them
// on the hub: its pull holds central's changes of a row with a write on
// its way). Judged against the base version instead, the first change's
// values read as another writer's: a second edit of one field was a
// conflict of the site with itself, and a site value taken back stayed
// (seed 347 of the hub campaign). Across batches the hub itself sends a
// later write rebased on central's answer (upstreammade.go).
func (hb *hubBatch) madeOn(p prepared) protocol.Row {
	if hb == nil || p.record != nil || p.rej != nil || p.table.Policy != protocol.PolicyManual {
		return nil
	}
	return hb.prev[rowKey{p.Table, p.ID}]
}

// keep records a change of a manual row as pushed, for the row's next
// change in the batch (madeOn): judged, or answered at or below the mark
// (a restored hub's next change was made on it too).
func (hb *hubBatch) keep(p prepared) {
	if hb == nil || p.record != nil || p.rej != nil || p.pushed == nil || p.table.Policy != protocol.PolicyManual {
		return
	}
	if hb.prev == nil {
		hb.prev = map[rowKey]protocol.Row{}
	}
	row := p.pushed.Clone()
	delete(row, "server_updated_at")
	hb.prev[rowKey{p.Table, p.ID}] = row
}

// after raises the mark over a change central took, and holds back the
// rest of the batch behind a change ahead of the clock; it keeps each
// row's change as pushed for the next one (keep).
func (hb *hubBatch) after(p prepared, res protocol.PushResult) {
	if hb == nil {
		return
	}
	hb.keep(p)
	if res.Status == protocol.StatusRejected {
		if len(res.Error) >= len(protocol.CodeClockAhead) && res.Error[:len(protocol.CodeClockAhead)] == protocol.CodeClockAhead {
			hb.held = true
		}
		return
	}
	if p.OriginSeq > hb.mark {
		hb.mark, hb.dirty = p.OriginSeq, true
	}
}

// save records the hub's mark in the batch's transaction.
func (hb *hubBatch) save(ctx context.Context, tx Tx) error {
	if hb == nil || !hb.dirty {
		return nil
	}
	if err := tx.SetMeta(ctx, metaHubMark+hb.hub, []byte(strconv.FormatInt(hb.mark, 10))); err != nil {
		return fmt.Errorf("save hub mark: %w", err)
	}
	return nil
}
