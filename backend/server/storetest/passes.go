package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// RunPasses runs the rules of docs/design.md section 3, "Full passes, committed
// cursors and timelines" (issue 15) through the sync engine over a store:
// passes from 0 served past the horizon, retention counting committed
// cursors only, a stale device missing no delete, refusals on another
// timeline, and created_at kept under every policy. open must return a new
// empty store; RunPasses closes it.
func RunPasses(t *testing.T, open func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, p *passes)
	}{
		{"FullPassPastHorizon", testFullPassPastHorizon},
		{"RetentionCountsCommitted", testRetentionCommitted},
		{"StaleDeviceMissesNoDelete", testStaleDevice},
		{"AnotherTimelineAppliesNothing", testAnotherTimeline},
		{"CreatedAtKept", testCreatedAtKept},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() { st.Close() })
			tc.fn(t, &passes{t: t, st: st, e: newEngine(st)})
		})
	}
}

type passes struct {
	t  *testing.T
	st server.Store
	e  *server.Engine
}

// enroll makes an enrolled device of site: pulls read its record.
func (p *passes) enroll() server.Device {
	p.t.Helper()
	ctx := context.Background()
	code := uuid.NewString()
	must(p.t, p.st.CreateEnrollCode(ctx, server.EnrollCode{Hash: code, SiteID: site, Role: protocol.RoleManager, Uses: 1, ExpiresAt: 1 << 50}))
	d, err := p.st.Enroll(ctx, code, server.Device{ID: uuid.NewString(), Name: "d", TokenHash: code}, time.Now().UnixMilli())
	must(p.t, err)
	return d
}

// reload reads a device's record as authentication does before a pull.
func (p *passes) reload(d server.Device) server.Device {
	p.t.Helper()
	got, err := p.st.DeviceByTokenHash(context.Background(), d.TokenHash)
	must(p.t, err)
	return got
}

// pull asks one page as d; committed < 0 leaves it out.
func (p *passes) pull(d server.Device, cursor, committed int64, full bool, limit int) (server.PullAnswer, error) {
	req := server.PullRequest{Device: p.reload(d), Cursor: cursor, Full: full, Limit: limit}
	if committed >= 0 {
		req.Committed = &committed
	}
	return p.e.Pull(context.Background(), req)
}

func (p *passes) mustPull(d server.Device, cursor, committed int64, full bool, limit int) server.PullAnswer {
	p.t.Helper()
	a, err := p.pull(d, cursor, committed, full, limit)
	if err != nil {
		p.t.Fatalf("pull at %d: %v", cursor, err)
	}
	return a
}

// purge runs retention at now+later with a stale period of an hour.
func (p *passes) purge(later time.Duration) server.PurgeStats {
	p.t.Helper()
	e := *p.e
	e.Now = func() time.Time { return time.Now().Add(later) }
	st, err := e.Purge(context.Background(), server.Retention{StaleAfter: time.Hour})
	must(p.t, err)
	return st
}

func recordRow(id string, created int64) map[string]any {
	return map[string]any{"id": id, "line_id": "L1", "product_id": "P-1", "quantity": 1, "operator_id": "op",
		"created_at": created, "updated_at": time.Now().UnixMilli()}
}

func (p *passes) put(d server.Device, base int64) (string, int64) {
	p.t.Helper()
	id := uuid.NewString()
	r := push(p.t, p.e, d, upsert(d, protocol.TableProductionRecords, base, recordRow(id, 1700000000000)))[0]
	return id, *r.Version
}

func (p *passes) del(d server.Device, id string, base int64) int64 {
	p.t.Helper()
	r := push(p.t, p.e, d, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpDelete, BaseVersion: base, HLC: stamp(d)})[0]
	if r.Version == nil {
		p.t.Fatalf("delete: %+v", r)
	}
	return *r.Version
}

func wantResync(t *testing.T, what string, err error) *server.ResyncError {
	t.Helper()
	var re *server.ResyncError
	if !errors.As(err, &re) {
		t.Fatalf("%s: %v, want resync required", what, err)
	}
	return re
}

func testFullPassPastHorizon(t *testing.T, p *passes) {
	a, b := p.enroll(), p.enroll()
	for range 5 {
		p.put(a, 0)
	}
	gone, v := p.put(a, 0)
	vd := p.del(a, gone, v)
	p.mustPull(a, vd, vd, false, 100)
	p.mustPull(b, vd, vd, false, 100)
	if st := p.purge(0); st.Tombstones != 1 {
		t.Fatalf("purged %d tombstones, want 1", st.Tombstones)
	}
	cursor, rows := int64(0), 0
	for pages := 1; ; pages++ {
		a, err := p.pull(b, cursor, cursor, true, 2)
		if err != nil {
			t.Fatalf("page %d of a pass from 0 at cursor %d (horizon %d): %v", pages, cursor, vd, err)
		}
		rows += len(a.Changes)
		cursor = a.Cursor
		if !a.HasMore {
			break
		}
	}
	if rows != 5 {
		t.Fatalf("the pass brought %d rows, want 5", rows)
	}
	_, err := p.pull(b, vd-1, vd-1, true, 2)
	re := wantResync(t, "a page below the horizon after the pass ended", err)
	tl, _ := p.st.Timeline(context.Background())
	if re.Seq != vd || re.Timeline != tl {
		t.Fatalf("410 names sequence %d and timeline %q, want %d and %q", re.Seq, re.Timeline, vd, tl)
	}
}

func testRetentionCommitted(t *testing.T, p *passes) {
	a := p.enroll()
	id, v := p.put(a, 0)
	vd := p.del(a, id, v)
	p.mustPull(a, vd, 0, false, 100) // prefetching: asked past the delete, committed nothing
	if st := p.purge(0); st.Tombstones != 0 {
		t.Fatal("retention purged a tombstone the only device had not committed")
	}
	p.mustPull(a, vd, vd+50, false, 100) // clamped to the cursor
	if st := p.purge(0); st.Tombstones != 1 {
		t.Fatalf("purged %d tombstones once committed, want 1", st.Tombstones)
	}
}

// testStaleDevice: a device unseen for longer than the stale period holds
// nothing back, and still misses no delete: its committed cursor gets 410
// and its pass from 0 does not bring the deleted row.
func testStaleDevice(t *testing.T, p *passes) {
	a, late := p.enroll(), p.enroll()
	id, v := p.put(a, 0)
	p.mustPull(late, v, v, false, 100)
	vd := p.del(a, id, v)
	p.mustPull(a, vd, vd, false, 100)
	if st := p.purge(0); st.Tombstones != 0 {
		t.Fatal("an active device behind the delete did not hold it")
	}
	if st := p.purge(2 * time.Hour); st.Tombstones != 1 {
		t.Fatalf("purge past the stale device removed %d tombstones", st.Tombstones)
	}
	_, err := p.pull(late, v, v, false, 100)
	wantResync(t, "the stale device at its committed cursor", err)
	for _, c := range p.mustPull(late, 0, 0, true, 100).Changes {
		if c.ID == id {
			t.Fatal("the pass brought the deleted row")
		}
	}
}

func testAnotherTimeline(t *testing.T, p *passes) {
	ctx := context.Background()
	a := p.enroll()
	_, v := p.put(a, 0)
	tl, err := p.st.Timeline(ctx)
	must(t, err)
	if got := p.mustPull(a, 0, 0, false, 100).Timeline; got != tl {
		t.Fatalf("pull answer names timeline %q, want %q", got, tl)
	}
	id := uuid.NewString()
	raw, _ := json.Marshal(upsert(a, protocol.TableProductionRecords, 0, recordRow(id, 1)))
	rawAbove, _ := json.Marshal(upsert(a, protocol.TableProductionRecords, v+1, recordRow(id, 1)))
	for _, b := range []server.PushBatch{
		{BatchID: uuid.NewString(), Changes: []json.RawMessage{raw}, Timeline: uuid.NewString()},
		{BatchID: uuid.NewString(), Changes: []json.RawMessage{rawAbove}, Timeline: tl},
		{BatchID: uuid.NewString(), Changes: []json.RawMessage{raw, rawAbove}},
	} {
		_, _, err := p.e.Push(ctx, a, b)
		var te *server.TimelineError
		if !errors.As(err, &te) || te.Timeline != tl || te.Seq != v {
			t.Fatalf("push %+v: %v, want timeline changed at %s, %d", b.Timeline, err, tl, v)
		}
		if seq(t, p.st) != v {
			t.Fatal("a refused push wrote")
		}
	}
	if _, _, err := p.e.Push(ctx, a, server.PushBatch{BatchID: uuid.NewString(), Changes: []json.RawMessage{raw}, Timeline: tl}); err != nil {
		t.Fatalf("push on the timeline: %v", err)
	}
}

func testCreatedAtKept(t *testing.T, p *passes) {
	a, b := p.enroll(), p.enroll()
	const kept = int64(1700000000000)
	id, v := p.put(a, 0)
	push(t, p.e, a, upsert(a, protocol.TableProductionRecords, v, recordRow(id, 1600000000000)))                      // own write
	push(t, p.e, b, upsert(b, protocol.TableProductionRecords, 0, with(recordRow(id, 1500000000000), "quantity", 9))) // lww
	lc := uuid.NewString()
	now := time.Now().UnixMilli()
	cfg := map[string]any{"id": lc, "line_id": "L1", "recipe": "R1", "created_at": kept, "updated_at": now}
	lv := *push(t, p.e, a, upsert(a, protocol.TableLineConfigs, 0, cfg))[0].Version
	push(t, p.e, b, upsert(b, protocol.TableLineConfigs, lv, with(cfg, "created_at", int64(1), "recipe", "R2"))) // manual
	cur := current(t, p.st)
	for _, k := range []string{protocol.TableProductionRecords + "/" + id, protocol.TableLineConfigs + "/" + lc} {
		got := rowData(t, cur[k])["created_at"]
		if n, _ := got.(json.Number).Int64(); n != kept {
			t.Fatalf("%s created_at = %v, want %d", k, got, kept)
		}
	}
}
