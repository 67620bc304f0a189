package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/conflict"
	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Engine is the sync algorithm of docs/design.md section 3, written once over the
// primitives of Store and Tx: validation, the self-conflict rule, lww, the
// three-way merge, conflict records, sequence assignment, batch idempotency
// and retention.
type Engine struct {
	Store    Store
	Registry *protocol.Registry
	// MaxSkew is how far ahead of the server clock a pushed HLC may run.
	MaxSkew time.Duration
	// Now is the server clock.
	Now func() time.Time
	// Log receives warnings the requests do not answer (nil: none).
	Log *slog.Logger
	// HubID is, on a site hub, its device id at central: the owner of the
	// conflict records it creates and the writer of central's state it
	// republishes (docs/design.md section 9). Empty on central.
	HubID string
}

// hubStamp returns a hub's own HLC for a write it makes from others (a
// merge): later than after and than now, naming the hub, so that it is one
// write's unique stamp at central as every device write's is.
func (e *Engine) hubStamp(after string, now int64) string {
	ts := hlc.Timestamp{Wall: now, Node: e.HubID}
	if prev, err := hlc.Parse(after); err == nil && prev.Wall >= now {
		ts.Wall, ts.Counter = prev.Wall, prev.Counter+1
		if ts.Counter > 99999 {
			ts.Wall, ts.Counter = ts.Wall+1, 0
		}
	}
	return ts.String()
}

// owner is the owner of the conflict records this engine creates.
func (e *Engine) owner() *string {
	if e.HubID == "" {
		return nil
	}
	id := e.HubID
	return &id
}

func (e *Engine) nowMS() int64 { return e.Now().UnixMilli() }

// PushBatch is a push request as decoded at the edge: the batch id and each
// change still raw, so that one malformed change is rejected on its own.
type PushBatch struct {
	BatchID string
	Changes []json.RawMessage
	// Timeline is the timeline the device names (Outpost-Timeline), ""
	// when it names none.
	Timeline string
}

// TimelineError answers 409 timeline_changed: the request names another
// timeline than the database's, or is based on a version above the site's
// sequence (a restore nobody marked). Nothing of it was applied.
type TimelineError struct {
	Seq      int64
	Timeline string
}

func (e *TimelineError) Error() string {
	return fmt.Sprintf("timeline changed (now %s at sequence %d)", e.Timeline, e.Seq)
}

// position reads the database's timeline and the site's sequence under the
// transaction's lock and refuses a request naming another timeline, or
// based on a version above the sequence.
func position(ctx context.Context, tx Tx, named string, base int64) error {
	tl, err := tx.Timeline(ctx)
	if err != nil {
		return fmt.Errorf("read timeline: %w", err)
	}
	seq, err := tx.Seq(ctx)
	if err != nil {
		return fmt.Errorf("read sequence: %w", err)
	}
	if (named != "" && named != tl) || base > seq {
		return &TimelineError{Seq: seq, Timeline: tl}
	}
	return nil
}

// Push applies a batch for dev in one transaction under the site's write
// lock and returns the response body. A batch already recorded for the
// device returns its stored response byte for byte and applies nothing.
// seq is the site's sequence after the batch (0 when nothing was written).
func (e *Engine) Push(ctx context.Context, dev Device, b PushBatch) (body []byte, seq int64, err error) {
	now := e.nowMS()
	changes := make([]prepared, len(b.Changes))
	for i, raw := range b.Changes {
		changes[i] = e.prepare(raw, dev, now)
	}
	tx, err := e.Store.Begin(ctx, dev.SiteID)
	if err != nil {
		return nil, 0, fmt.Errorf("begin push: %w", err)
	}
	defer tx.Rollback()

	// Another timeline first: whatever the batch, this device's view of
	// the server is from before a restore.
	if err := position(ctx, tx, b.Timeline, 0); err != nil {
		return nil, 0, err
	}
	stored, err := tx.GetBatch(ctx, dev.ID, b.BatchID)
	if err == nil {
		// Commit, not roll back: the stored answer is given only once the
		// transaction that wrote it is durable (a store may group commits).
		if err := tx.Commit(); err != nil {
			return nil, 0, fmt.Errorf("commit replay: %w", err)
		}
		return stored, 0, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, 0, fmt.Errorf("get batch: %w", err)
	}
	// A base above the sequence: the server lost writes the device saw
	// (restored from a backup nobody marked). Applying on it would judge
	// nothing against the writes made since the restore.
	var maxBase int64
	for _, c := range changes {
		maxBase = max(maxBase, c.BaseVersion)
	}
	if err := position(ctx, tx, "", maxBase); err != nil {
		return nil, 0, err
	}

	resp := protocol.PushResponse{BatchID: b.BatchID, ServerTime: now, Results: make([]protocol.PushResult, 0, len(b.Changes))}
	w := newWriter(tx, e.Registry, now)
	if err := e.prefetch(ctx, w, changes); err != nil {
		return nil, 0, err
	}
	hb, err := e.beginHubBatch(ctx, tx, dev, changes)
	if err != nil {
		return nil, 0, err
	}
	for _, c := range changes {
		if res, done, err := hb.before(ctx, w, c); err != nil {
			return nil, 0, err
		} else if done {
			hb.keep(c) // a restored hub's next change was made on it
			resp.Results = append(resp.Results, res)
			continue
		}
		c.madeOn = hb.madeOn(c)
		res, err := e.pushOne(ctx, w, dev, c)
		if err != nil {
			return nil, 0, err
		}
		hb.after(c, res)
		resp.Results = append(resp.Results, res)
	}
	if err := hb.save(ctx, tx); err != nil {
		return nil, 0, err
	}
	if hb != nil {
		m := hb.mark
		resp.OriginMark = &m
	}
	// version is the row's version after the whole batch: a row changed
	// twice in one batch reports its last version in both results.
	for i, res := range resp.Results {
		if res.Version == nil {
			continue
		}
		if r := w.rows[rowKey{res.Table, res.ID}]; r != nil && r.Version != *res.Version {
			v := r.Version
			resp.Results[i].Version = &v
		}
	}
	body, err = json.Marshal(resp)
	if err != nil {
		return nil, 0, fmt.Errorf("encode push response: %w", err)
	}
	if err := tx.PutBatch(ctx, dev.ID, b.BatchID, body, now); err != nil {
		return nil, 0, fmt.Errorf("put batch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("commit push: %w", err)
	}
	return body, w.last, nil
}

// Replay returns the stored response of a batch the device already pushed,
// or ErrNotFound; a *TimelineError when timeline names another timeline.
func (e *Engine) Replay(ctx context.Context, dev Device, batchID, timeline string) ([]byte, error) {
	tx, err := e.Store.Begin(ctx, dev.SiteID)
	if err != nil {
		return nil, fmt.Errorf("begin replay: %w", err)
	}
	defer tx.Rollback()
	if err := position(ctx, tx, timeline, 0); err != nil {
		return nil, err
	}
	stored, err := tx.GetBatch(ctx, dev.ID, batchID)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit replay: %w", err)
	}
	return stored, nil
}

// writer assigns sequence numbers to the writes of one transaction and
// caches the current rows of a batch (fetched in one query per table).
type writer struct {
	tx     Tx
	reg    *protocol.Registry
	now    int64
	last   int64
	rows   map[rowKey]*StoredRow // nil value: known not to exist
	purged map[rowKey]bool
	// held says, for each write the prefetch looked up, whether the row's
	// history held it then (writtenAlready); written marks the rows this
	// transaction wrote since, whose history the prefetch did not see.
	held    map[writeKey]bool
	written map[rowKey]bool
}

type rowKey struct{ table, id string }

// writeKey names one write of one row: the row and the write's hlc.
type writeKey struct {
	rowKey
	hlc string
}

func newWriter(tx Tx, reg *protocol.Registry, now int64) *writer {
	return &writer{tx: tx, reg: reg, now: now, rows: map[rowKey]*StoredRow{}, purged: map[rowKey]bool{},
		held: map[writeKey]bool{}, written: map[rowKey]bool{}}
}

// put writes r as the row's new state at the next sequence number and
// moves the row's contribution to the checksums (docs/design.md section 8): the
// previous state's hash out, the new one's in, live states only. Every row
// write of the engine goes through here, so the sums move in the same
// transaction as the rows.
func (w *writer) put(ctx context.Context, r StoredRow) (int64, error) {
	old, exists, err := w.current(ctx, r.Table, r.ID)
	if err != nil {
		return 0, err
	}
	seq, err := w.tx.NextSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("next seq: %w", err)
	}
	r.Version = seq
	if exists {
		r.Bucket = old.Bucket // fixed by the row's first write
	}
	if r.Bucket == "" {
		r.Bucket = checksum.RowBucket(w.reg, r.Table, r.ID, r.Data)
	}
	if err := w.tx.PutRow(ctx, r); err != nil {
		return 0, fmt.Errorf("put row %s/%s: %w", r.Table, r.ID, err)
	}
	var d checksum.Sum
	if exists && !old.Deleted {
		d.Sub(checksum.Hash(old.Table, old.ID, old.Version))
	}
	if !r.Deleted {
		d.Add(checksum.Hash(r.Table, r.ID, r.Version))
	}
	w.tx.AddSum(r.Table, r.Bucket, d)
	w.rows[rowKey{r.Table, r.ID}] = &r
	w.written[rowKey{r.Table, r.ID}] = true
	w.last = seq
	return seq, nil
}

// current returns the row's current state and whether it exists.
func (w *writer) current(ctx context.Context, table, id string) (StoredRow, bool, error) {
	if r, ok := w.rows[rowKey{table, id}]; ok {
		if r == nil {
			return StoredRow{}, false, nil
		}
		return *r, true, nil
	}
	r, err := w.tx.GetRow(ctx, table, id)
	if errors.Is(err, ErrNotFound) {
		return StoredRow{}, false, nil
	}
	if err != nil {
		return StoredRow{}, false, fmt.Errorf("get row: %w", err)
	}
	return r, true, nil
}

// prefetch loads the current rows (and purge marks) the batch's changes
// name, one query per table instead of one per change.
func (e *Engine) prefetch(ctx context.Context, w *writer, changes []prepared) error {
	ids := map[string][]string{}
	seen := map[rowKey]bool{}
	for _, c := range changes {
		k := rowKey{c.Table, c.ID}
		if c.rej != nil || seen[k] {
			continue
		}
		seen[k] = true
		ids[c.Table] = append(ids[c.Table], c.ID)
	}
	for table, list := range ids {
		rows, purged, err := readRows(ctx, w.tx, table, list)
		if err != nil {
			return err
		}
		for _, id := range list {
			if r, ok := rows[id]; ok {
				w.rows[rowKey{table, id}] = &r
			} else {
				w.rows[rowKey{table, id}] = nil
			}
		}
		for id := range purged {
			w.purged[rowKey{table, id}] = true
		}
	}
	// The writes that may be arriving again (writtenAlready): changes of
	// an existing row on a base below its version, under another hlc than
	// its current one. One lookup per table for the whole batch.
	looked := map[string][]RowHLC{}
	for _, c := range changes {
		k := rowKey{c.Table, c.ID}
		cur := w.rows[k]
		if c.rej != nil || cur == nil || cur.HLC == c.HLC || cur.Version <= c.BaseVersion {
			continue
		}
		if _, ok := w.held[writeKey{k, c.HLC}]; ok {
			continue
		}
		w.held[writeKey{k, c.HLC}] = false
		looked[c.Table] = append(looked[c.Table], RowHLC{ID: c.ID, HLC: c.HLC})
	}
	for table, writes := range looked {
		held, err := w.tx.HLCsHeld(ctx, table, writes)
		if err != nil {
			return fmt.Errorf("look up hlcs in history: %w", err)
		}
		for rw := range held {
			w.held[writeKey{rowKey{table, rw.ID}, rw.HLC}] = true
		}
	}
	return nil
}

// readRows reads the current states of the rows of table among ids, and
// which of the missing ones are purged tombstones: one query each (the
// second only when some are missing). The push and the import both plan on
// it.
func readRows(ctx context.Context, tx Tx, table string, ids []string) (map[string]StoredRow, map[string]bool, error) {
	rows, err := tx.GetRows(ctx, table, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("get rows: %w", err)
	}
	var missing []string
	for _, id := range ids {
		if _, ok := rows[id]; !ok {
			missing = append(missing, id)
		}
	}
	purged := map[string]bool{}
	if len(missing) > 0 {
		if purged, err = tx.Purged(ctx, table, missing); err != nil {
			return nil, nil, fmt.Errorf("purged: %w", err)
		}
	}
	return rows, purged, nil
}

// change is one decoded change of a push.
type change struct {
	Table       string          `json:"table"`
	ID          string          `json:"id"`
	Op          string          `json:"op"`
	BaseVersion int64           `json:"base_version"`
	HLC         string          `json:"hlc"`
	Row         json.RawMessage `json:"row"`
	// OriginSeq is a hub's sequence number of the write (docs/design.md
	// section 9); 0 when absent, and ignored from other devices.
	OriginSeq int64 `json:"origin_seq"`
}

func rejected(c change, code, format string, args ...any) protocol.PushResult {
	return protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusRejected,
		Error: code + ": " + fmt.Sprintf(format, args...)}
}

func rejectedErr(c change, err error) protocol.PushResult {
	if ve, ok := protocol.AsValidation(err); ok {
		return protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusRejected, Error: ve.Reason()}
	}
	return rejected(c, protocol.CodeInvalidValue, "%s", err.Error())
}

// decodeChange reads one change loosely: a wrong type in a field rejects
// this change only.
func decodeChange(raw json.RawMessage) (change, *protocol.PushResult) {
	var fields map[string]json.RawMessage
	var c change
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		r := rejected(c, protocol.CodeInvalidValue, "a change must be a JSON object")
		return c, &r
	}
	str := func(name string, dst *string) bool {
		v, ok := fields[name]
		if !ok || string(v) == "null" {
			return true
		}
		return json.Unmarshal(v, dst) == nil
	}
	okTable, okID := str("table", &c.Table), str("id", &c.ID)
	if !okTable || !okID {
		r := rejected(c, protocol.CodeInvalidValue, "table and id must be text")
		return c, &r
	}
	if !str("op", &c.Op) {
		r := rejected(c, protocol.CodeInvalidValue, "op must be \"upsert\" or \"delete\"")
		return c, &r
	}
	if !str("hlc", &c.HLC) {
		r := rejected(c, protocol.CodeInvalidHLC, "hlc must be text")
		return c, &r
	}
	if v, ok := fields["base_version"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &c.BaseVersion); err != nil || c.BaseVersion < 0 {
			r := rejected(c, protocol.CodeInvalidValue, "base_version must be a whole number, 0 or more")
			return c, &r
		}
	}
	if v, ok := fields["origin_seq"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &c.OriginSeq); err != nil || c.OriginSeq < 0 {
			r := rejected(c, protocol.CodeInvalidValue, "origin_seq must be a whole number, 0 or more")
			return c, &r
		}
	}
	if v, ok := fields["row"]; ok && string(v) != "null" {
		c.Row = v
	}
	return c, nil
}

// checkHLC validates a pushed HLC: well formed, naming the pusher, not too
// far ahead of the server clock.
func (e *Engine) checkHLC(s, deviceID string, now int64) *protocol.ValidationError {
	ts, err := hlc.Parse(s)
	if err != nil {
		return &protocol.ValidationError{Code: protocol.CodeInvalidHLC, Message: "hlc is not ms-counter-device"}
	}
	if deviceID != "" && ts.Node != deviceID {
		return &protocol.ValidationError{Code: protocol.CodeInvalidHLC, Message: "hlc names another device than the one pushing; re-stamp it with this device's id"}
	}
	if ts.Wall > now+e.MaxSkew.Milliseconds() {
		return &protocol.ValidationError{Code: protocol.CodeClockAhead, Message: fmt.Sprintf("hlc is %s ahead of the server clock (allowed %s); correct the clock offset and re-stamp",
			time.Duration(ts.Wall-now)*time.Millisecond, e.MaxSkew)}
	}
	return nil
}

// prepared is one change decoded and validated before the transaction
// begins: that work needs no lock, so concurrent pushes do it in parallel.
type prepared struct {
	change
	table  protocol.Table
	in     map[string]any
	pushed protocol.Row
	rej    *protocol.PushResult
	// record is a conflict record a hub sends (hubrecords.go).
	record *conflictRecord
	// madeOn, for a hub's change, is its previous change of the row in
	// the same batch, which it was made on (hubBatch.madeOn).
	madeOn protocol.Row
}

func (e *Engine) prepare(raw json.RawMessage, dev Device, now int64) prepared {
	// One pass for the common shape; decodeChange (and DecodeRow below)
	// for everything else, whose answers are the contract's.
	c, row, kind, fast := fastChange(raw)
	if !fast {
		var rej *protocol.PushResult
		c, rej = decodeChange(raw)
		if rej != nil {
			return prepared{change: c, rej: rej}
		}
	}
	p := prepared{change: c}
	if dev.Role == protocol.RoleHub && c.Table == protocol.TableConflicts {
		return e.prepareRecord(p, dev, now)
	}
	reject := func(r protocol.PushResult) prepared { p.rej = &r; return p }
	t, ok := e.Registry.Lookup(c.Table)
	if !ok {
		return reject(rejected(c, protocol.CodeUnknownTable, "unknown table %q", clip(c.Table, 64)))
	}
	p.table = t
	if t.ManagerOnly && dev.Role != protocol.RoleManager && dev.Role != protocol.RoleHub {
		// Site data is written by manager devices only; the rest of the
		// batch is unaffected.
		return reject(rejected(c, protocol.CodeForbidden, "only manager devices may change site data (%s)", t.Name))
	}
	if c.Op != protocol.OpUpsert && c.Op != protocol.OpDelete {
		return reject(rejected(c, protocol.CodeInvalidValue, "op must be \"upsert\" or \"delete\""))
	}
	if !protocol.ValidID(c.ID) {
		return reject(rejected(c, protocol.CodeInvalidValue, "id is not a UUID"))
	}
	// A hub's changes carry its devices' HLCs (checked against the hub's
	// claims in the transaction, hubBatch); format and skew are checked
	// here as for everyone.
	node := dev.ID
	if dev.Role == protocol.RoleHub {
		node = ""
	}
	if ve := e.checkHLC(c.HLC, node, now); ve != nil {
		return reject(rejectedErr(c, ve))
	}
	p.in = map[string]any{}
	if c.Row != nil {
		m, err := row, error(nil)
		if !fast {
			m, err = protocol.DecodeRow(c.Row)
		} else if kind != rowObject {
			err = errRowNotObject
		}
		if err != nil {
			return reject(rejected(c, protocol.CodeInvalidValue, "row must be a JSON object"))
		}
		p.in = m
	} else if c.Op == protocol.OpUpsert {
		return reject(rejected(c, protocol.CodeMissingValue, "an upsert needs a row"))
	}
	// An upsert must be complete; a delete may name only some columns
	// (checked again in the transaction when the row does not exist).
	mode := protocol.Complete
	if c.Op == protocol.OpDelete {
		mode = protocol.Partial
	}
	pushed, err := t.Validate(c.ID, p.in, mode)
	if err != nil {
		return reject(rejectedErr(c, err))
	}
	p.pushed = pushed
	return p
}

func (e *Engine) pushOne(ctx context.Context, w *writer, dev Device, p prepared) (protocol.PushResult, error) {
	if p.rej != nil {
		return *p.rej, nil
	}
	if p.record != nil {
		return e.pushRecord(ctx, w, dev, p)
	}
	c, t, pushed := p.change, p.table, p.pushed
	cur, exists, err := w.current(ctx, t.Name, c.ID)
	if err != nil {
		return protocol.PushResult{}, err
	}
	if !exists && w.purged[rowKey{t.Name, c.ID}] {
		return rejected(c, protocol.CodeRowDeleted, "this row was deleted and its tombstone purged; it cannot be written again"), nil
	}
	if !exists && c.Op == protocol.OpDelete {
		// A delete of a row the server never saw carries the whole row.
		if _, err := t.Validate(c.ID, p.in, protocol.Complete); err != nil {
			return rejectedErr(c, err), nil
		}
	}

	var theirs protocol.Row
	if exists {
		if theirs, err = decodeRow(t, cur.Data); err != nil {
			return protocol.PushResult{}, err
		}
	}
	// mine is the pushed full state: nullable columns left out keep the
	// server's value, bookkeeping is the server's.
	mine := overlay(t, pushed, theirs)
	if c.Op == protocol.OpDelete && mine["deleted_at"] == nil {
		mine["deleted_at"] = w.now
	}
	mine["server_updated_at"] = w.now

	res := protocol.PushResult{Table: t.Name, ID: c.ID}
	if exists {
		again, err := e.writtenAlready(ctx, w, c, cur)
		if err != nil {
			return res, err
		}
		if again {
			// That very write arriving again (its hlc is in the row's
			// history): judged on the version that took it, it changes
			// nothing. Nothing is written; the device takes the row as
			// the server holds it, like a merge that changes nothing.
			v := cur.Version
			res.Status, res.Version, res.Row = protocol.StatusMerged, &v, theirs
			return res, nil
		}
	}
	// No other device wrote the row since base → apply. A device never
	// conflicts with itself: when every write since base is the pusher's,
	// its base is stale only because an acknowledgement was lost. The
	// pusher being the last writer is not enough: another device may have
	// written in between (the pusher's own write then merged it in).
	self := false
	if exists && cur.Version > c.BaseVersion && cur.DeviceID == dev.ID {
		self = true
		if ow, ok := w.tx.(OtherWriters); ok {
			others, err := ow.WrittenByOthers(ctx, t.Name, c.ID, c.BaseVersion, dev.ID)
			if err != nil {
				return res, fmt.Errorf("writers since base: %w", err)
			}
			self = !others
		}
	}
	if !exists || cur.Version <= c.BaseVersion || self {
		v, err := w.put(ctx, rowState(t, mine, c.HLC, dev.ID))
		if err != nil {
			return res, err
		}
		res.Status, res.Version = protocol.StatusApplied, &v
		return res, nil
	}

	switch t.Policy {
	case protocol.PolicyManual:
		return e.manual(ctx, w, dev, t, c, cur, pushed, mine, theirs, p.madeOn)
	default:
		return e.lww(ctx, w, dev, t, c, cur, mine, theirs)
	}
}

// writtenAlready reports whether the pushed change is a write the row's
// history already holds: its hlc, a unique stamp of one write of the
// pushing device, is the current version's or an earlier stored version's
// (docs/protocol.md, push: "A write arriving again"). Such a change is that
// very write sent again — after a lost acknowledgement and a timeline
// change, or an own write the restored server kept before another device
// moved the row on — and judged a second time it would be applied twice
// (lww), or met as a conflict with the later writes it was merged with
// (manual, on base 0). A change based on the current version or above is
// not looked up: a device pushes a write it already got a version for only
// on a base below that version (base 0 after a timeline change), so the
// common pushes (new rows, edits of the current version) cost no read. The
// others were looked up by prefetch, for the whole batch; a row this
// transaction wrote since is looked up again, alone.
func (e *Engine) writtenAlready(ctx context.Context, w *writer, c change, cur StoredRow) (bool, error) {
	if cur.HLC == c.HLC {
		return true, nil
	}
	if cur.Version <= c.BaseVersion {
		return false, nil
	}
	k := writeKey{rowKey{c.Table, c.ID}, c.HLC}
	if held, ok := w.held[k]; ok && !w.written[k.rowKey] {
		return held, nil
	}
	held, err := w.tx.HLCsHeld(ctx, c.Table, []RowHLC{{ID: c.ID, HLC: c.HLC}})
	if err != nil {
		return false, fmt.Errorf("look up hlc in history: %w", err)
	}
	return held[RowHLC{ID: c.ID, HLC: c.HLC}], nil
}

func (e *Engine) lww(ctx context.Context, w *writer, dev Device, t protocol.Table, c change, cur StoredRow, mine, theirs protocol.Row) (protocol.PushResult, error) {
	res := protocol.PushResult{Table: t.Name, ID: c.ID}
	base, err := e.baseRow(ctx, w.tx, t, c)
	if err != nil {
		return res, err
	}
	rec := conflictRecord{
		ID: uuid.NewString(), TableName: t.Name, RowID: c.ID, Status: protocol.ConflictAutoResolved,
		Base: base, Mine: mine, Theirs: theirs, DeviceID: dev.ID, CreatedAt: w.now,
		BaseVersion: c.BaseVersion, TheirsVersion: cur.Version, Fields: []string{}, Owner: e.owner(),
	}
	winner := conflict.LWW(c.HLC, cur.HLC)
	rec.Winner = string(winner)
	if winner == conflict.WinnerMine {
		v, err := w.put(ctx, rowState(t, mine, c.HLC, dev.ID))
		if err != nil {
			return res, err
		}
		rec.RowVersion = v
		res.Status, res.Version = protocol.StatusApplied, &v
	} else {
		v := cur.Version
		rec.RowVersion = v
		res.Status, res.Version, res.Row = protocol.StatusSuperseded, &v, theirs
	}
	w.rows[rowKey{protocol.TableConflicts, rec.ID}] = nil // a new record
	if _, err := w.put(ctx, rec.stored(c.HLC, dev.ID, w.now)); err != nil {
		return res, err
	}
	res.ConflictID = rec.ID
	return res, nil
}

func (e *Engine) manual(ctx context.Context, w *writer, dev Device, t protocol.Table, c change, cur StoredRow, pushed, mine, theirs, madeOn protocol.Row) (protocol.PushResult, error) {
	res := protocol.PushResult{Table: t.Name, ID: c.ID}
	base, err := e.baseRow(ctx, w.tx, t, c)
	if err != nil {
		return res, err
	}
	// The merge's base is the state the change was made on: for a hub's
	// second change of a row in one batch, its first (both carry the
	// base of the row's first unanswered change).
	mb := base
	if madeOn != nil {
		mb = overlay(t, madeOn, base) // a column it left out kept its value
	}
	// The merge sees the change as pushed (a column left out counts as
	// unchanged from base), with the delete's deleted_at filled in.
	m := pushed.Clone()
	m["deleted_at"] = mine["deleted_at"]
	if _, ok := pushed["deleted_at"]; !ok && c.Op != protocol.OpDelete {
		delete(m, "deleted_at")
	}
	delete(m, "server_updated_at")
	mr := conflict.Merge3(t, mb, m, theirs)
	if len(mr.Conflicts) == 0 {
		if !mr.Changed {
			v := cur.Version
			res.Status, res.Version, res.Row = protocol.StatusMerged, &v, theirs
			return res, nil
		}
		merged := mr.Row
		keepCreated(t, merged, theirs)
		merged["server_updated_at"] = w.now
		h := c.HLC
		if cur.HLC > h {
			h = cur.HLC
		}
		if e.HubID != "" {
			// A hub sends this write upstream as its own change: it
			// needs a stamp of its own, not one naming another write
			// (central would take it for that write, or refuse the
			// other device's name).
			h = e.hubStamp(h, w.now)
		}
		v, err := w.put(ctx, rowState(t, merged, h, dev.ID))
		if err != nil {
			return res, err
		}
		res.Status, res.Version, res.Row = protocol.StatusMerged, &v, merged
		return res, nil
	}
	rec := conflictRecord{
		ID: uuid.NewString(), TableName: t.Name, RowID: c.ID, Status: protocol.ConflictOpen,
		Base: base, Mine: mine, Theirs: theirs, DeviceID: dev.ID, CreatedAt: w.now,
		BaseVersion: c.BaseVersion, TheirsVersion: cur.Version, RowVersion: cur.Version, Fields: mr.Conflicts, Owner: e.owner(),
	}
	w.rows[rowKey{protocol.TableConflicts, rec.ID}] = nil // a new record
	if _, err := w.put(ctx, rec.stored(c.HLC, dev.ID, w.now)); err != nil {
		return res, err
	}
	pins := []int64{cur.Version}
	if base != nil {
		pins = append(pins, c.BaseVersion)
	}
	if err := w.tx.Pin(ctx, rec.ID, t.Name, c.ID, pins...); err != nil {
		return res, fmt.Errorf("pin conflict versions: %w", err)
	}
	v := cur.Version
	res.Status, res.Version, res.Row, res.ConflictID = protocol.StatusConflict, &v, theirs, rec.ID
	return res, nil
}

// baseRow returns the version the change was based on, nil when it was made
// on no version or the version was purged.
func (e *Engine) baseRow(ctx context.Context, tx Tx, t protocol.Table, c change) (protocol.Row, error) {
	if c.BaseVersion <= 0 {
		return nil, nil
	}
	r, err := tx.GetVersion(ctx, t.Name, c.ID, c.BaseVersion)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get base version: %w", err)
	}
	return decodeRow(t, r.Data)
}

// overlay returns a full state of a row of t: the columns given in given,
// every other column from theirs (null when theirs is nil, a new row).
// created_at is theirs whenever the server holds the row: it never changes
// once written (docs/design.md section 3; checksum buckets depend on it), whatever a
// later write sends, under every policy.
func overlay(t protocol.Table, given, theirs protocol.Row) protocol.Row {
	out := make(protocol.Row, len(t.Columns))
	for _, col := range t.Columns {
		if v, ok := given[col.Name]; ok {
			out[col.Name] = v
		} else {
			out[col.Name] = theirs[col.Name] // nil map: nil
		}
	}
	keepCreated(t, out, theirs)
	return out
}

// keepCreated sets row's created_at to theirs' when the server holds the
// row (theirs not nil) and the table has the column.
func keepCreated(t protocol.Table, row, theirs protocol.Row) {
	if theirs == nil {
		return
	}
	if _, ok := t.Column("created_at"); !ok {
		return
	}
	if v, ok := theirs["created_at"]; ok && v != nil {
		row["created_at"] = v
	}
}

var errRowNotObject = errors.New("row is not a JSON object")

func rowState(t protocol.Table, r protocol.Row, h, deviceID string) StoredRow {
	data := encodeRow(t, r) // = json.Marshal(r)
	id := r["id"].(string)
	var bucket string // a new row's; put computes it from data when empty
	if ms, ok := r["created_at"].(int64); ok && t.TimePartitioned {
		bucket = checksum.Bucket(t.Name, id, true, ms)
	}
	return StoredRow{Table: t.Name, ID: id, HLC: h, DeviceID: deviceID, Deleted: r["deleted_at"] != nil, Data: data, Bucket: bucket}
}

// decodeRow decodes a stored row back into normalised values.
func decodeRow(t protocol.Table, data []byte) (protocol.Row, error) {
	m, ok := fastObject(data)
	if !ok {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode stored %s row: %w", t.Name, err)
		}
	}
	out := make(protocol.Row, len(m))
	for k, v := range m {
		col, ok := t.Column(k)
		if !ok {
			out[k] = v
			continue
		}
		if v == nil {
			out[k] = nil
			continue
		}
		nv, err := col.Normalize(v)
		if err != nil {
			return nil, fmt.Errorf("decode stored %s row: %w", t.Name, err)
		}
		out[k] = nv
	}
	return out, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
