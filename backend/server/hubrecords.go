package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/outpost-app/outpost/backend/protocol"
)

// metaHubRecord + hub id + "/" + record id: a conflict record that hub
// owns, kept at central (Engine.HandOver finds them there).
const metaHubRecord = "hub/rec/"

// prepareRecord checks a conflict record a hub sends (docs/design.md
// section 9): one of its own (owner: the hub), about a known table, with a
// well-formed hlc. Central keeps it for the site's history and inbox and
// never writes a row because of it.
func (e *Engine) prepareRecord(p prepared, dev Device, now int64) prepared {
	reject := func(r protocol.PushResult) prepared { p.rej = &r; return p }
	if !protocol.ValidID(p.ID) {
		return reject(rejected(p.change, protocol.CodeInvalidValue, "id is not a UUID"))
	}
	if ve := e.checkHLC(p.HLC, "", now); ve != nil {
		return reject(rejectedErr(p.change, ve))
	}
	if p.Op != protocol.OpUpsert || p.Row == nil {
		return reject(rejected(p.change, protocol.CodeInvalidValue, "a conflict record is sent whole, as an upsert"))
	}
	rec, err := decodeConflict(p.Row)
	if err != nil || rec.ID != p.ID {
		return reject(rejected(p.change, protocol.CodeInvalidValue, "row is not this conflict record"))
	}
	if rec.Owner == nil || *rec.Owner != dev.ID {
		return reject(rejected(p.change, protocol.CodeForbidden, "a hub sends only the conflict records it owns"))
	}
	if _, ok := e.Registry.Lookup(rec.TableName); !ok {
		return reject(rejected(p.change, protocol.CodeUnknownTable, "unknown table %q", clip(rec.TableName, 64)))
	}
	p.record = &rec
	return p
}

// pushRecord stores a hub's conflict record as the site's, unless central
// holds a record of that id owned by someone else.
func (e *Engine) pushRecord(ctx context.Context, w *writer, dev Device, p prepared) (protocol.PushResult, error) {
	cur, exists, err := w.current(ctx, protocol.TableConflicts, p.ID)
	if err != nil {
		return protocol.PushResult{}, err
	}
	if exists {
		old, err := decodeConflict(cur.Data)
		if err != nil {
			return protocol.PushResult{}, err
		}
		if old.Owner == nil || *old.Owner != dev.ID {
			return rejected(p.change, protocol.CodeForbidden, "this conflict record is not this hub's (any more)"), nil
		}
	}
	rec := *p.record
	v, err := w.put(ctx, rec.stored(p.HLC, dev.ID, w.now))
	if err != nil {
		return protocol.PushResult{}, err
	}
	if err := w.tx.SetMeta(ctx, metaHubRecord+dev.ID+"/"+rec.ID, []byte{1}); err != nil {
		return protocol.PushResult{}, fmt.Errorf("index hub record: %w", err)
	}
	return protocol.PushResult{Table: protocol.TableConflicts, ID: p.ID, Status: protocol.StatusApplied, Version: &v}, nil
}

// HandOver gives central the open conflict records of a revoked hub
// (docs/design.md section 9): their owner becomes null, so a manager at
// central decides them. It returns how many it handed over.
func (e *Engine) HandOver(ctx context.Context, hub Device) (int, error) {
	keys, err := e.Store.MetaPrefix(ctx, hub.SiteID, metaHubRecord+hub.ID+"/")
	if err != nil {
		return 0, fmt.Errorf("list hub records: %w", err)
	}
	if len(keys) == 0 {
		return 0, nil
	}
	tx, err := e.Store.Begin(ctx, hub.SiteID)
	if err != nil {
		return 0, fmt.Errorf("begin hand-over: %w", err)
	}
	defer tx.Rollback()
	w := newWriter(tx, e.Registry, e.nowMS())
	n := 0
	for k := range keys {
		id := k[len(metaHubRecord+hub.ID+"/"):]
		cur, err := tx.GetRow(ctx, protocol.TableConflicts, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("get hub record: %w", err)
		}
		rec, err := decodeConflict(cur.Data)
		if err != nil {
			return 0, err
		}
		if rec.Owner == nil || *rec.Owner != hub.ID || rec.Status != protocol.ConflictOpen {
			continue
		}
		rec.Owner = nil
		if _, err := w.put(ctx, rec.stored(cur.HLC, cur.DeviceID, w.now)); err != nil {
			return 0, err
		}
		n++
	}
	if err := commitOr(tx, "commit hand-over"); err != nil {
		return 0, err
	}
	return n, nil
}
