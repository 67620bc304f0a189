package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
)

// Keys of a hub's upstream link state (Tx.Meta of the hub's site,
// docs/design.md section 9). They live in the hub's database, written in the
// same transactions as the rows they describe, so a kill -9 at any point
// neither loses a write nor applies one twice.
const (
	// MetaUpDevice, MetaUpToken and MetaUpURL: the hub's enrollment at
	// central (its device id, token and central's address).
	MetaUpDevice = "up/device"
	MetaUpToken  = "up/token"
	MetaUpURL    = "up/url"
	// metaUpCursor: central's feed is republished up to this cursor.
	metaUpCursor = "up/cursor"
	// metaUpPushed: every hub write at or below this hub version has been
	// answered by central.
	metaUpPushed = "up/pushed"
	// metaUpBatch: the batch sent to central and not yet answered, re-sent
	// unchanged until it is (upBatch).
	metaUpBatch = "up/batch"
	// metaUpEcho + table/id: the version central returned for the hub's
	// own write of that row in a push answer; pulled back, it is skipped.
	metaUpEcho = "up/echo/"
	// metaUpBase + table/id: central's version of the row as the hub
	// knows it, the base_version of the hub's next change of the row.
	metaUpBase = "up/base/"
	// metaUpHeld + table/id: central's change of a row the pull skipped
	// because a hub write of the row was on its way; central's answer to
	// that write adopts it when it says the row stays central's.
	metaUpHeld = "up/held/"
	// metaUpTimeline: the hub database's timeline when its link state was
	// last known good; another one means the hub was restored from a
	// backup (UpstreamRecover).
	metaUpTimeline = "up/timeline"
	// metaUpPass: 1 while a full pass of central's feed is under way;
	// metaUpSeen + table/id marks each row it brought (EndUpstreamPass).
	metaUpPass = "up/pass"
	metaUpSeen = "up/seen/"
	// metaUpCentral: central's timeline as its feed last named it; another
	// one means central was restored from a backup (UpstreamCentralRestored).
	metaUpCentral = "up/central"
)

// upBatch is a persisted upstream batch: its request body and the hub
// version of its last write (the mark once answered).
type upBatch struct {
	ID   string          `json:"id"`
	Last int64           `json:"last"`
	Body json.RawMessage `json:"body"`
}

// UpstreamState is a hub's view of its link, for health and metrics.
type UpstreamState struct {
	// Cursor is central's feed position republished; Pushed the hub
	// version up to which central has answered; Seq the hub's sequence.
	Cursor, Pushed, Seq int64
	// Waiting counts the hub's own writes not yet answered by central (at
	// most the limit it was asked with), OldestMS the server_updated_at of
	// the oldest of them (0 when none).
	Waiting  int
	OldestMS int64
}

func metaInt(ctx context.Context, tx Tx, key string) (int64, error) {
	v, err := tx.Meta(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s %q: %w", key, v, err)
	}
	return n, nil
}

func setMetaInt(ctx context.Context, tx Tx, key string, n int64) error {
	if err := tx.SetMeta(ctx, key, []byte(strconv.FormatInt(n, 10))); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

func rowMetaKey(prefix, table, id string) string { return prefix + table + "/" + id }

// isLocal says whether a stored write is one of the hub's own (made by one
// of its devices), not central's state republished.
func isLocal(r StoredRow, upDevice string) bool { return r.DeviceID != upDevice }

// UpstreamBatch returns the batch the hub's link must send to central: the
// one persisted and not yet answered, or a new one of the hub's own writes
// after the mark, each as its own change in hub order with its origin_seq
// (docs/design.md section 9). ok is false when there is nothing to send.
// The conflict records the hub created go too (owner: the hub), with
// their later resolutions, so headquarters sees every conflict of the site.
func (e *Engine) UpstreamBatch(ctx context.Context, site, upDevice string, limit int) (body []byte, ok bool, err error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return nil, false, fmt.Errorf("begin upstream batch: %w", err)
	}
	defer tx.Rollback()
	if v, err := tx.Meta(ctx, metaUpBatch); err == nil {
		var b upBatch
		if err := json.Unmarshal(v, &b); err != nil {
			return nil, false, fmt.Errorf("read upstream batch: %w", err)
		}
		return b.Body, true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, fmt.Errorf("read upstream batch: %w", err)
	}
	pushed, err := metaInt(ctx, tx, metaUpPushed)
	if err != nil {
		return nil, false, err
	}
	// Read under the site's lock: no write of the site commits meanwhile.
	writes, err := e.Store.Writes(ctx, site, pushed, limit)
	if err != nil {
		return nil, false, fmt.Errorf("read hub writes: %w", err)
	}
	if len(writes) == 0 {
		return nil, false, nil
	}
	b := upBatch{ID: uuid.NewString(), Last: writes[len(writes)-1].Version}
	req := protocol.PushRequest{BatchID: b.ID, Changes: []protocol.Change{}}
	// Records of conflicts a rebase finds (rebased) are written here,
	// after the batch's writes: they go up in a later batch.
	wr := newWriter(tx, e.Registry, e.nowMS())
	for _, w := range writes {
		if !isLocal(w, upDevice) {
			continue
		}
		base, err := metaInt(ctx, tx, rowMetaKey(metaUpBase, w.Table, w.ID))
		if err != nil {
			return nil, false, err
		}
		row := json.RawMessage(w.Data)
		if r, on, ok, err := e.rebased(ctx, wr, w); err != nil {
			return nil, false, err
		} else if ok {
			row, base = r, on
		}
		op := protocol.OpUpsert
		if tombstoneData(row) {
			op = protocol.OpDelete
		}
		req.Changes = append(req.Changes, protocol.Change{Table: w.Table, ID: w.ID, Op: op, BaseVersion: base,
			HLC: w.HLC, Row: row, OriginSeq: w.Version})
	}
	if len(req.Changes) == 0 {
		// Only central's own state republished: nothing to tell it.
		if err := setMetaInt(ctx, tx, metaUpPushed, b.Last); err != nil {
			return nil, false, err
		}
		return nil, false, commitOr(tx, "commit upstream mark")
	}
	if b.Body, err = json.Marshal(req); err != nil {
		return nil, false, fmt.Errorf("encode upstream batch: %w", err)
	}
	v, err := json.Marshal(b)
	if err != nil {
		return nil, false, fmt.Errorf("encode upstream batch: %w", err)
	}
	if err := tx.SetMeta(ctx, metaUpBatch, v); err != nil {
		return nil, false, fmt.Errorf("persist upstream batch: %w", err)
	}
	if err := commitOr(tx, "commit upstream batch"); err != nil {
		return nil, false, err
	}
	return b.Body, true, nil
}

// tombstoneData says whether a stored state is a tombstone (deleted_at
// set): history reads do not fill StoredRow.Deleted.
func tombstoneData(data []byte) bool {
	var r struct {
		DeletedAt *json.RawMessage `json:"deleted_at"`
	}
	return json.Unmarshal(data, &r) == nil && r.DeletedAt != nil && string(*r.DeletedAt) != "null"
}

func commitOr(tx Tx, what string) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// UpstreamAnswer takes central's answer to the persisted batch: each row's
// base becomes the version central returned; an applied write is
// remembered as an echo (its version pulled back is skipped); merged,
// superseded and conflict rows are left for the pull, which republishes
// central's state with its hlc; a change refused clock_ahead is sent again
// with every later write (the mark stops before it); a row central refuses
// row_deleted is deleted on site too. It returns the hub's sequence after
// the writes it made (0 when none) and how many changes were refused.
func (e *Engine) UpstreamAnswer(ctx context.Context, site, upDevice string, resp protocol.PushResponse) (seq int64, refused []protocol.PushResult, err error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return 0, nil, fmt.Errorf("begin upstream answer: %w", err)
	}
	defer tx.Rollback()
	v, err := tx.Meta(ctx, metaUpBatch)
	if errors.Is(err, ErrNotFound) {
		return 0, nil, nil // answered already (a second link process)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read upstream batch: %w", err)
	}
	var b upBatch
	var req protocol.PushRequest
	if err := json.Unmarshal(v, &b); err != nil {
		return 0, nil, fmt.Errorf("read upstream batch: %w", err)
	}
	if err := json.Unmarshal(b.Body, &req); err != nil {
		return 0, nil, fmt.Errorf("read upstream batch body: %w", err)
	}
	if resp.BatchID != b.ID || len(resp.Results) != len(req.Changes) {
		return 0, nil, fmt.Errorf("central answered batch %s with %d results for batch %s of %d changes", resp.BatchID, len(resp.Results), b.ID, len(req.Changes))
	}
	mark := b.Last
	w := newWriter(tx, e.Registry, e.nowMS())
	// A row's outcome is its last result's (every result of a row
	// carries the row's version after the whole batch).
	lastOf := map[rowKey]int{}
	for i, c := range req.Changes {
		lastOf[rowKey{c.Table, c.ID}] = i
	}
	for i, res := range resp.Results {
		c := req.Changes[i]
		if res.Status == protocol.StatusRejected {
			if strings.HasPrefix(res.Error, protocol.CodeClockAhead) {
				mark = min(mark, c.OriginSeq-1)
				continue
			}
			refused = append(refused, res)
			if c.Table == protocol.TableConflicts {
				continue // a record of the hub's own: logged by the link
			}
			if strings.HasPrefix(res.Error, protocol.CodeRowDeleted) {
				if err := e.tombstone(ctx, w, upDevice, c, b.Last); err != nil {
					return 0, nil, err
				}
			}
			if err := e.refusedRecord(ctx, w, c); err != nil {
				return 0, nil, err
			}
			continue
		}
		if res.Version == nil {
			continue
		}
		// What central made of the write, until the hub takes central's
		// state: the site's next writes go up rebased on it (rebased).
		central := c.Row
		if res.Status != protocol.StatusApplied {
			central = rowJSON(res.Row)
		}
		if err := e.recordMade(ctx, tx, c, central, *res.Version); err != nil {
			return 0, nil, err
		}
		if res.Status != protocol.StatusApplied {
			// Central's state is not the site's: when a later site write
			// of the row waits (made on the site's state, before this
			// answer), it keeps the base it would have had, so central
			// judges it against its own state (merge, lww, or a
			// conflict) instead of taking it as made on this version,
			// which would overwrite central's change unseen. The held
			// change stays for that write's answer.
			cur, exists, err := w.current(ctx, c.Table, c.ID)
			if err != nil {
				return 0, nil, err
			}
			if exists && isLocal(cur, upDevice) && cur.Version > b.Last {
				continue
			}
		}
		if err := setMetaInt(ctx, tx, rowMetaKey(metaUpBase, c.Table, c.ID), *res.Version); err != nil {
			return 0, nil, err
		}
		if err := e.adoptHeld(ctx, w, upDevice, c, res, b.Last, i == lastOf[rowKey{c.Table, c.ID}]); err != nil {
			return 0, nil, err
		}
		echo := rowMetaKey(metaUpEcho, c.Table, c.ID)
		if res.Status == protocol.StatusApplied {
			err = setMetaInt(ctx, tx, echo, *res.Version)
		} else {
			err = tx.SetMeta(ctx, echo, nil)
		}
		if err != nil {
			return 0, nil, fmt.Errorf("record echo: %w", err)
		}
	}
	if err := setMetaInt(ctx, tx, metaUpPushed, mark); err != nil {
		return 0, nil, err
	}
	if err := tx.SetMeta(ctx, metaUpBatch, nil); err != nil {
		return 0, nil, fmt.Errorf("clear upstream batch: %w", err)
	}
	if err := commitOr(tx, "commit upstream answer"); err != nil {
		return 0, nil, err
	}
	return w.last, refused, nil
}

// adoptHeld settles a row central answered: when the answer leaves the row
// at central's own state (merged, superseded or conflict, at the version of
// a change the pull held back for this write), that change is written on
// site. Held changes older than the answer are dropped: the pull brings the
// newer state. Only the row's last result adopts.
func (e *Engine) adoptHeld(ctx context.Context, w *writer, upDevice string, c protocol.Change, res protocol.PushResult, last int64, final bool) error {
	if !final {
		return nil
	}
	key := rowMetaKey(metaUpHeld, c.Table, c.ID)
	v, err := w.tx.Meta(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read held change: %w", err)
	}
	if err := w.tx.SetMeta(ctx, key, nil); err != nil {
		return fmt.Errorf("clear held change: %w", err)
	}
	var held protocol.PullChange
	if err := json.Unmarshal(v, &held); err != nil {
		return fmt.Errorf("read held change: %w", err)
	}
	if res.Status == protocol.StatusApplied || held.Version != *res.Version {
		return nil
	}
	cur, exists, err := w.current(ctx, c.Table, c.ID)
	if err != nil {
		return err
	}
	if exists && isLocal(cur, upDevice) && cur.Version > last {
		return nil // a later hub write is on its way
	}
	return e.writeCentral(ctx, w, upDevice, held)
}

// refusedRecord keeps a site write central refused (other than
// clock_ahead) as an open conflict the hub owns (docs/design.md section 9):
// mine is the refused state, theirs the row as the site now holds it
// (central's tombstone for row_deleted), so a manager on site sees the
// write and decides. The record goes to central with the hub's writes.
func (e *Engine) refusedRecord(ctx context.Context, w *writer, c protocol.Change) error {
	t, ok := e.Registry.Lookup(c.Table)
	if !ok {
		return nil
	}
	mine, err := decodeRow(t, c.Row)
	if err != nil {
		return nil // not a row this hub can show: the refusal is logged
	}
	cur, exists, err := w.current(ctx, c.Table, c.ID)
	if err != nil {
		return err
	}
	var theirs protocol.Row
	if exists {
		if theirs, err = decodeRow(t, cur.Data); err != nil {
			return err
		}
	}
	fields := []string{}
	for _, col := range t.Columns {
		if col.Name == "server_updated_at" {
			continue
		}
		if theirs == nil || !reflect.DeepEqual(mine[col.Name], theirs[col.Name]) {
			fields = append(fields, col.Name)
		}
	}
	// The record is the site's: written under the refused write's
	// writer (a hub-stamped merge's stamp names the hub, which would make
	// the record look like central's state and keep it from central).
	writer := ""
	if ts, err := hlc.Parse(c.HLC); err == nil {
		writer = ts.Node
	}
	if c.OriginSeq > 0 {
		if v, err := w.tx.GetVersion(ctx, c.Table, c.ID, c.OriginSeq); err == nil {
			writer = v.DeviceID
		}
	}
	if writer == e.HubID {
		writer = ""
	}
	rec := conflictRecord{ID: uuid.NewString(), TableName: t.Name, RowID: c.ID, Status: protocol.ConflictOpen,
		Mine: mine, Theirs: theirs, DeviceID: writer, CreatedAt: w.now, Fields: fields, Owner: e.owner(),
		TheirsVersion: cur.Version, RowVersion: cur.Version}
	w.rows[rowKey{protocol.TableConflicts, rec.ID}] = nil // a new record
	if _, err := w.put(ctx, rec.stored(c.HLC, writer, w.now)); err != nil {
		return fmt.Errorf("record the refused change: %w", err)
	}
	return nil
}

// tombstone deletes on site a row central refused row_deleted (its
// tombstone purged there: the row is gone for good), unless a later write
// of the hub is on its way.
func (e *Engine) tombstone(ctx context.Context, w *writer, upDevice string, c protocol.Change, last int64) error {
	t, ok := e.Registry.Lookup(c.Table)
	if !ok {
		return nil
	}
	cur, exists, err := w.current(ctx, c.Table, c.ID)
	if err != nil || !exists || cur.Deleted || (isLocal(cur, upDevice) && cur.Version > last) {
		return err
	}
	row, err := decodeRow(t, cur.Data)
	if err != nil {
		return err
	}
	row["deleted_at"] = w.now
	row["server_updated_at"] = w.now
	if _, err := w.put(ctx, rowState(t, row, c.HLC, upDevice)); err != nil {
		return err
	}
	return e.forgetMade(ctx, w.tx, c.Table, c.ID)
}

// Republish writes one page of central's feed into the hub's site as hub
// writes (each at a hub version, so the site's devices pull it), except
// echoes of the hub's own writes and rows with a hub write central has not
// answered yet (its answer settles them), and moves the link's cursor to
// the page's, in one transaction. It returns the hub's sequence after its
// writes (0 when none).
func (e *Engine) Republish(ctx context.Context, site, upDevice string, page protocol.PullResponse) (int64, error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return 0, fmt.Errorf("begin republish: %w", err)
	}
	defer tx.Rollback()
	pushed, err := metaInt(ctx, tx, metaUpPushed)
	if err != nil {
		return 0, err
	}
	w := newWriter(tx, e.Registry, e.nowMS())
	inPass, err := metaInt(ctx, tx, metaUpPass)
	if err != nil {
		return 0, err
	}
	for _, ch := range page.Changes {
		if err := e.republishOne(ctx, w, upDevice, pushed, ch); err != nil {
			return 0, fmt.Errorf("republish %s/%s: %w", ch.Table, ch.ID, err)
		}
		if inPass == 1 && ch.Table != protocol.TableConflicts {
			if err := tx.SetMeta(ctx, rowMetaKey(metaUpSeen, ch.Table, ch.ID), []byte{1}); err != nil {
				return 0, fmt.Errorf("mark row seen: %w", err)
			}
		}
	}
	if err := setMetaInt(ctx, tx, metaUpCursor, page.Cursor); err != nil {
		return 0, err
	}
	if err := commitOr(tx, "commit republish"); err != nil {
		return 0, err
	}
	return w.last, nil
}

// BeginUpstreamPass starts a full pass of central's feed (cursor 0): from
// now on every row it brings is marked seen, until EndUpstreamPass.
func (e *Engine) BeginUpstreamPass(ctx context.Context, site string) error {
	// A pass starts afresh: rows an interrupted earlier pass brought may
	// be gone at central since.
	seen, err := e.Store.MetaPrefix(ctx, site, metaUpSeen)
	if err != nil {
		return fmt.Errorf("list rows seen: %w", err)
	}
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return fmt.Errorf("begin pass: %w", err)
	}
	defer tx.Rollback()
	for k := range seen {
		if err := tx.SetMeta(ctx, k, nil); err != nil {
			return fmt.Errorf("forget rows seen: %w", err)
		}
	}
	if err := setMetaInt(ctx, tx, metaUpPass, 1); err != nil {
		return err
	}
	return commitOr(tx, "commit pass start")
}

// EndUpstreamPass ends a full pass (docs/design.md section 3, "Full
// passes", on the hub's link): a row the hub holds as central's state (a
// republished one, or its own write central answered) that the pass did
// not bring is gone at central (its tombstone purged there), and is
// deleted on site as central's state; rows with a site write waiting stay
// for central to judge. It returns the hub's sequence after its writes.
func (e *Engine) EndUpstreamPass(ctx context.Context, site, upDevice string) (int64, error) {
	seen, err := e.Store.MetaPrefix(ctx, site, metaUpSeen)
	if err != nil {
		return 0, fmt.Errorf("list rows seen: %w", err)
	}
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return 0, fmt.Errorf("begin pass end: %w", err)
	}
	defer tx.Rollback()
	if inPass, err := metaInt(ctx, tx, metaUpPass); err != nil || inPass != 1 {
		return 0, err
	}
	pushed, err := metaInt(ctx, tx, metaUpPushed)
	if err != nil {
		return 0, err
	}
	w := newWriter(tx, e.Registry, e.nowMS())
	for after := int64(0); ; {
		rows, err := e.Store.Changes(ctx, site, after, 5000)
		if err != nil {
			return 0, fmt.Errorf("read the site's rows: %w", err)
		}
		for _, r := range rows {
			if r.Version > after {
				after = r.Version
			}
			t, ok := e.Registry.Lookup(r.Table)
			if !ok || tombstoneData(r.Data) || seen[rowMetaKey(metaUpSeen, r.Table, r.ID)] != nil {
				continue
			}
			if isLocal(r, upDevice) && r.Version > pushed {
				continue // a site write on its way: central judges it
			}
			row, err := decodeRow(t, r.Data)
			if err != nil {
				return 0, err
			}
			row["deleted_at"] = w.now
			row["server_updated_at"] = w.now
			if _, err := w.put(ctx, rowState(t, row, r.HLC, upDevice)); err != nil {
				return 0, err
			}
			if err := e.forgetMade(ctx, tx, r.Table, r.ID); err != nil {
				return 0, err
			}
		}
		if len(rows) < 5000 {
			break
		}
	}
	for k := range seen {
		if err := tx.SetMeta(ctx, k, nil); err != nil {
			return 0, fmt.Errorf("forget rows seen: %w", err)
		}
	}
	if err := tx.SetMeta(ctx, metaUpPass, nil); err != nil {
		return 0, fmt.Errorf("end pass: %w", err)
	}
	if err := commitOr(tx, "commit pass end"); err != nil {
		return 0, err
	}
	return w.last, nil
}

func (e *Engine) republishOne(ctx context.Context, w *writer, upDevice string, pushed int64, ch protocol.PullChange) error {
	echo := rowMetaKey(metaUpEcho, ch.Table, ch.ID)
	ev, err := metaInt(ctx, w.tx, echo)
	if err != nil {
		return err
	}
	if ev != 0 {
		// Central's versions only grow: the echo is this change or
		// older than it, never to come again.
		if err := w.tx.SetMeta(ctx, echo, nil); err != nil {
			return fmt.Errorf("clear echo: %w", err)
		}
	}
	cur, exists, err := w.current(ctx, ch.Table, ch.ID)
	if err != nil {
		return err
	}
	if ev != 0 && ev == ch.Version && exists && (ch.Table == protocol.TableConflicts || e.sameState(ch.Table, cur.Data, ch.Row)) {
		// The hub's own write come back. Skipped only when central holds
		// the values the hub holds: "applied" does not promise that
		// (central keeps its created_at when it holds the row, a column
		// left out keeps its value), and a different state is taken.
		return nil
	}
	if exists && isLocal(cur, upDevice) && cur.Version > pushed && ch.Table != protocol.TableConflicts {
		// The hub's own write is on its way: central's answer settles
		// the row, adopting this change if the row stays central's.
		v, err := json.Marshal(ch)
		if err != nil {
			return fmt.Errorf("encode held change: %w", err)
		}
		if err := w.tx.SetMeta(ctx, rowMetaKey(metaUpHeld, ch.Table, ch.ID), v); err != nil {
			return fmt.Errorf("hold change: %w", err)
		}
		// No base known (central was restored: its old versions were
		// forgotten): the waiting write goes up on central's version of
		// the row as it is now, not on nothing, which would make central
		// take its every field for a conflict.
		if _, err := w.tx.Meta(ctx, rowMetaKey(metaUpBase, ch.Table, ch.ID)); errors.Is(err, ErrNotFound) {
			if err := setMetaInt(ctx, w.tx, rowMetaKey(metaUpBase, ch.Table, ch.ID), ch.Version); err != nil {
				return err
			}
		} else if err != nil {
			return fmt.Errorf("read base: %w", err)
		}
		return nil
	}
	if exists && !isLocal(cur, upDevice) && cur.HLC == ch.HLC && ch.Table != protocol.TableConflicts && e.sameState(ch.Table, cur.Data, ch.Row) {
		// The hub holds that very write already (a full pass after a
		// restore brings every row again): only its base moves. The
		// same values under another stamp are another write, taken.
		if err := setMetaInt(ctx, w.tx, rowMetaKey(metaUpBase, ch.Table, ch.ID), ch.Version); err != nil {
			return err
		}
		return e.forgetMade(ctx, w.tx, ch.Table, ch.ID)
	}
	return e.writeCentral(ctx, w, upDevice, ch)
}

// writeCentral writes central's state of a row as a hub write and records
// central's version as the row's base.
func (e *Engine) writeCentral(ctx context.Context, w *writer, upDevice string, ch protocol.PullChange) error {
	raw, err := json.Marshal(ch.Row)
	if err != nil {
		return fmt.Errorf("encode row: %w", err)
	}
	r := StoredRow{Table: ch.Table, ID: ch.ID, HLC: ch.HLC, DeviceID: upDevice, Data: raw}
	if t, ok := e.Registry.Lookup(ch.Table); ok {
		row, err := decodeRow(t, raw)
		if err != nil {
			return err
		}
		r = rowState(t, row, ch.HLC, upDevice)
		r.ID = ch.ID
	} else if ch.Table != protocol.TableConflicts {
		return nil // a table this hub does not know (a newer central): kept there
	}
	if _, err := w.put(ctx, r); err != nil {
		return err
	}
	if ch.Table != protocol.TableConflicts {
		if err := setMetaInt(ctx, w.tx, rowMetaKey(metaUpBase, ch.Table, ch.ID), ch.Version); err != nil {
			return err
		}
		return e.forgetMade(ctx, w.tx, ch.Table, ch.ID)
	}
	return nil
}

// UpstreamCursor returns the cursor of central's feed the hub has
// republished up to.
func (e *Engine) UpstreamCursor(ctx context.Context, site string) (int64, error) {
	return e.storeMetaInt(ctx, site, metaUpCursor)
}

// storeMetaInt is metaInt read outside a transaction (0 when absent).
func (e *Engine) storeMetaInt(ctx context.Context, site, key string) (int64, error) {
	v, err := e.Store.Meta(ctx, site, key)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s %q: %w", key, v, err)
	}
	return n, nil
}

// UpstreamStatus reads the link's position and what waits for central,
// counting at most limit waiting writes.
func (e *Engine) UpstreamStatus(ctx context.Context, site, upDevice string, limit int) (UpstreamState, error) {
	var s UpstreamState
	var err error
	if s.Cursor, err = e.UpstreamCursor(ctx, site); err != nil {
		return s, err
	}
	if s.Pushed, err = e.storeMetaInt(ctx, site, metaUpPushed); err != nil {
		return s, err
	}
	st, err := e.Store.SiteState(ctx, site)
	if err != nil {
		return s, fmt.Errorf("site state: %w", err)
	}
	s.Seq = st.Seq
	writes, err := e.Store.Writes(ctx, site, s.Pushed, limit)
	if err != nil {
		return s, fmt.Errorf("read hub writes: %w", err)
	}
	for _, w := range writes {
		if !isLocal(w, upDevice) {
			continue
		}
		if s.Waiting == 0 {
			var row struct {
				At int64 `json:"server_updated_at"`
			}
			_ = json.Unmarshal(w.Data, &row)
			s.OldestMS = row.At
		}
		s.Waiting++
	}
	return s, nil
}

// UpstreamRestored reports whether the hub's database was restored from a
// backup since its link last ran (`outpost-server restored` gave it a new
// timeline). A first run records the timeline and reports false.
func (e *Engine) UpstreamRestored(ctx context.Context, site string) (bool, error) {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return false, fmt.Errorf("begin timeline check: %w", err)
	}
	defer tx.Rollback()
	tl, err := tx.Timeline(ctx)
	if err != nil {
		return false, fmt.Errorf("read timeline: %w", err)
	}
	known, err := tx.Meta(ctx, metaUpTimeline)
	switch {
	case errors.Is(err, ErrNotFound):
		if err := tx.SetMeta(ctx, metaUpTimeline, []byte(tl)); err != nil {
			return false, fmt.Errorf("record timeline: %w", err)
		}
		return false, commitOr(tx, "commit timeline")
	case err != nil:
		return false, fmt.Errorf("read link timeline: %w", err)
	}
	return string(known) != tl, nil
}

// UpstreamRecover brings a restored hub back (docs/design.md section 9):
// its sequence continues above mark, the highest origin_seq central
// applied, so no new write reuses a number central already took; its
// unsent writes stay to be sent (those central took are answered applied
// again, not applied twice); central's feed is pulled again from 0 (a
// full pass) to bring back what the backup did not hold.
func (e *Engine) UpstreamRecover(ctx context.Context, site string, mark int64) error {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return fmt.Errorf("begin recover: %w", err)
	}
	defer tx.Rollback()
	seq, err := tx.Seq(ctx)
	if err != nil {
		return fmt.Errorf("read sequence: %w", err)
	}
	for ; seq <= mark; seq++ {
		if _, err := tx.NextSeq(ctx); err != nil {
			return fmt.Errorf("raise sequence: %w", err)
		}
	}
	if err := setMetaInt(ctx, tx, metaUpCursor, 0); err != nil {
		return err
	}
	tl, err := tx.Timeline(ctx)
	if err != nil {
		return fmt.Errorf("read timeline: %w", err)
	}
	if err := tx.SetMeta(ctx, metaUpTimeline, []byte(tl)); err != nil {
		return fmt.Errorf("record timeline: %w", err)
	}
	return commitOr(tx, "commit recover")
}

// sameState says whether a stored state and central's row hold the same
// values (server_updated_at aside: each tier stamps its own).
func (e *Engine) sameState(table string, stored []byte, row protocol.Row) bool {
	t, ok := e.Registry.Lookup(table)
	if !ok {
		return false
	}
	a, err := decodeRow(t, stored)
	if err != nil {
		return false
	}
	raw, err := json.Marshal(row)
	if err != nil {
		return false
	}
	b, err := decodeRow(t, raw)
	if err != nil {
		return false
	}
	delete(a, "server_updated_at")
	delete(b, "server_updated_at")
	return reflect.DeepEqual(a, b)
}

// UpstreamCentralTimeline returns central's timeline as the hub last saw it
// ("" before the first pull that named one).
func (e *Engine) UpstreamCentralTimeline(ctx context.Context, site string) (string, error) {
	v, err := e.Store.Meta(ctx, site, metaUpCentral)
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read central's timeline: %w", err)
	}
	return string(v), nil
}

// SetUpstreamCentralTimeline records central's timeline.
func (e *Engine) SetUpstreamCentralTimeline(ctx context.Context, site, timeline string) error {
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := tx.SetMeta(ctx, metaUpCentral, []byte(timeline)); err != nil {
		return fmt.Errorf("record central's timeline: %w", err)
	}
	return commitOr(tx, "commit central's timeline")
}

// UpstreamCentralRestored brings the link back after central was restored
// from a backup (its feed names another timeline, or it refused a push
// timeline_changed): central lost what it took after the backup, so the
// hub sends again every write above central's mark (mark: what central
// now says it holds of this hub), forgets central's versions, echoes and
// held changes (numbers of the lost timeline), and pulls central's feed
// again from 0. timeline is central's new one ("" when unknown yet).
func (e *Engine) UpstreamCentralRestored(ctx context.Context, site string, mark int64, timeline string) error {
	var stale []string
	for _, p := range []string{metaUpBase, metaUpEcho, metaUpHeld, metaUpSeen, metaUpMade} {
		keys, err := e.Store.MetaPrefix(ctx, site, p)
		if err != nil {
			return fmt.Errorf("list %s: %w", p, err)
		}
		for k := range keys {
			stale = append(stale, k)
		}
	}
	tx, err := e.Store.Begin(ctx, site)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	pushed, err := metaInt(ctx, tx, metaUpPushed)
	if err != nil {
		return err
	}
	if err := setMetaInt(ctx, tx, metaUpPushed, min(pushed, mark)); err != nil {
		return err
	}
	for _, k := range append(stale, metaUpBatch) {
		if err := tx.SetMeta(ctx, k, nil); err != nil {
			return fmt.Errorf("forget %s: %w", k, err)
		}
	}
	if err := setMetaInt(ctx, tx, metaUpCursor, 0); err != nil {
		return err
	}
	// The pass from 0 comes before the next push (Link.once): a site
	// write sent before central's versions are known again would go up
	// on no base, and central would take its every field for a conflict.
	if err := setMetaInt(ctx, tx, metaUpPass, 1); err != nil {
		return err
	}
	if err := tx.SetMeta(ctx, metaUpCentral, []byte(timeline)); err != nil {
		return fmt.Errorf("record central's timeline: %w", err)
	}
	return commitOr(tx, "commit central restored")
}

// UpstreamInPass reports whether a full pass of central's feed is under
// way (begun, not ended).
func (e *Engine) UpstreamInPass(ctx context.Context, site string) (bool, error) {
	n, err := e.storeMetaInt(ctx, site, metaUpPass)
	return n == 1, err
}
