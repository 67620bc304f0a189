package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// testHLCsHeld: Tx.HLCsHeld finds which writes (a row and an hlc) the rows'
// stored histories of the transaction's site hold — the current state and
// earlier versions, the transaction's own writes included, versions purged
// by retention not.
func testHLCsHeld(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	put := func(id, h string) {
		v, err := tx.NextSeq(ctx)
		must(t, err)
		must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: h, DeviceID: "a", Data: []byte(`{}`)}))
	}
	put(idA, "x1") // version 1
	put(idA, "x2")
	put(idA, "x1") // a merge keeps the greater hlc, which may be an earlier version's
	put(idA, "x4") // version 4, the current one
	put(idB, "y1")
	const idC = "8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a" // no such row
	ask := []server.RowHLC{{ID: idA, HLC: "x1"}, {ID: idA, HLC: "x2"}, {ID: idA, HLC: "x4"}, {ID: idA, HLC: "x9"}, {ID: idA, HLC: "y1"}, {ID: idB, HLC: "y1"}, {ID: idB, HLC: "x1"}, {ID: idC, HLC: "x1"}}
	check := func(when, table string, want ...server.RowHLC) {
		t.Helper()
		got, err := tx.HLCsHeld(ctx, table, ask)
		must(t, err)
		wanted := map[server.RowHLC]bool{}
		for _, w := range want {
			wanted[w] = true
			if !got[w] {
				t.Errorf("%s: %s/%s not held", when, w.ID[:2], w.HLC)
			}
		}
		for w, ok := range got {
			if ok && !wanted[w] {
				t.Errorf("%s: %s/%s held, want not", when, w.ID[:2], w.HLC)
			}
		}
	}
	all := []server.RowHLC{{ID: idA, HLC: "x1"}, {ID: idA, HLC: "x2"}, {ID: idA, HLC: "x4"}, {ID: idB, HLC: "y1"}}
	check("own writes", "t", all...)
	check("another table", "other table")
	if got, err := tx.HLCsHeld(ctx, "t", nil); err != nil || len(got) != 0 {
		t.Errorf("nothing asked: %v, %v", got, err)
	}
	must(t, tx.Commit())

	tx, err = st.Begin(ctx, "s")
	must(t, err)
	check("committed", "t", all...)
	// Retention: versions below the horizon that are not current go.
	_, err = tx.PurgeVersions(ctx, 3)
	must(t, err)
	check("purged", "t", server.RowHLC{ID: idA, HLC: "x4"}, server.RowHLC{ID: idB, HLC: "y1"})
	must(t, tx.Commit())

	tx, err = st.Begin(ctx, "other site")
	must(t, err)
	defer tx.Rollback()
	check("another site", "t")
}

// testWriteArrivingAgain (issue 15, known gap 4): a pushed change whose hlc
// is already in the row's history is that very write arriving again — for
// instance a device's own write that a restored server kept, moved on by
// another device before the device's timeline pass, pushed again on base 0.
// It is not judged a second time: nothing is written (no version, no
// conflict record, no checksum move) and the answer is "merged" with the
// row's current state and version, which replaces the device's.
func testWriteArrivingAgain(t *testing.T, st server.Store) {
	e := newEngine(st)
	ctx := context.Background()
	lc := func(id string, over ...any) map[string]any {
		return with(map[string]any{"id": id, "line_id": "L1", "recipe": "R1", "target_rate_per_hour": 100,
			"temperature_c": 100.0, "speed_rpm": 1200, "notes": "n0", "created_at": 1700000000000, "updated_at": 1700000000001}, over...)
	}
	rec := func(id string, over ...any) map[string]any {
		return with(map[string]any{"id": id, "line_id": "L1", "product_id": "P1", "quantity": 5, "operator_id": "op",
			"created_at": 1700000000000, "updated_at": 1700000000001}, over...)
	}
	// at stamps d's hlc at now+offset: b's clock may run behind a's.
	at := func(d server.Device, offset time.Duration) string {
		return hlc.Timestamp{Wall: time.Now().Add(offset).UnixMilli(), Counter: int(hlcCounter.Add(1) % 100000), Node: d.ID}.String()
	}
	type step struct {
		d    server.Device
		c    chg
		want string // the status the step must get
		// join puts the change in the previous step's batch (same device).
		join bool
	}
	type scenario struct {
		name string
		// steps run one batch each but where they join; the last change
		// is the write arriving again.
		steps func(a, b server.Device, id string) []step
		// rejudged is true when the last change is a new write, judged
		// as ever (the rule must not swallow it): its status is checked
		// by the step, and writes are allowed.
		rejudged bool
	}
	scenarios := []scenario{
		{name: "manual/moved_on_by_another_device", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}
			again := first // the timeline pass left it pending on base 0
			return []step{
				{a, first, protocol.StatusApplied, false},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "notes", "b's")}, protocol.StatusApplied, false},
				{a, again, protocol.StatusMerged, false},
			}
		}},
		{name: "manual/own_write_merged_into_a_version", steps: func(a, b server.Device, id string) []step {
			mine := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(a, time.Second), Row: lc(id, "notes", "a's")}
			again := mine
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied, false},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "temperature_c", 90.0)}, protocol.StatusApplied, false},
				// merged with b's temperature, under a's (greater) hlc
				{a, mine, protocol.StatusMerged, false},
				// its acknowledgement lost, then a timeline change
				{a, again, protocol.StatusMerged, false},
			}
		}},
		{name: "manual/decision_moved_on_by_a_merged_push", steps: func(a, b server.Device, id string) []step {
			// The manager's own write kept, then another device's edit
			// merged on it (the gap's shape, without the resolve call).
			decided := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "temperature_c", 90.0)}
			again := decided
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied, false},
				{b, decided, protocol.StatusApplied, false},
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(a, time.Second), Row: lc(id, "notes", "checked")}, protocol.StatusMerged, false},
				{b, again, protocol.StatusMerged, false},
			}
		}},
		{name: "lww/moved_on_by_a_device_whose_clock_is_behind", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}
			return []step{
				{a, first, protocol.StatusApplied, false},
				{b, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, -time.Hour), Row: rec(id, "quantity", 7)}, protocol.StatusApplied, false},
				// a's hlc is the greater: judged again, it would win over b's later write
				{a, first, protocol.StatusMerged, false},
			}
		}},
		{name: "lww/current_version_lost_acknowledgement", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}
			return []step{{a, first, protocol.StatusApplied, false}, {a, first, protocol.StatusMerged, false}}
		}},
		{name: "lww/delete_arriving_again", steps: func(a, b server.Device, id string) []step {
			del := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpDelete, BaseVersion: 1, HLC: at(a, time.Second), Row: rec(id)}
			again := del
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}, protocol.StatusApplied, false},
				{a, del, protocol.StatusApplied, false},
				{a, again, protocol.StatusMerged, false},
			}
		}},
		{name: "manual/same_change_twice_in_one_batch", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}
			return []step{{a, first, protocol.StatusApplied, false}, {a, first, protocol.StatusMerged, true}}
		}},
		{name: "lww/written_earlier_in_the_same_batch", steps: func(a, b server.Device, id string) []step {
			// The batch's lookup runs before its changes write: it finds
			// no mid in the history, which the batch's first change then
			// writes. The last change is looked up again. (The second
			// change, on base 2 too, follows a's own write: no conflict.)
			mid := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, BaseVersion: 2, HLC: at(a, time.Second), Row: rec(id, "quantity", 8)}
			again := mid
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}, protocol.StatusApplied, false},
				{b, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: rec(id, "quantity", 7)}, protocol.StatusApplied, false},
				{a, mid, protocol.StatusApplied, false},
				{a, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, BaseVersion: 2, HLC: at(a, 2*time.Second), Row: rec(id, "quantity", 9)}, protocol.StatusApplied, true},
				// judged again, mid would be applied over its own
				// successor (a device never conflicts with itself)
				{a, again, protocol.StatusMerged, true},
			}
		}},
		{name: "manual/new_write_on_base_0_still_judged", rejudged: true, steps: func(a, b server.Device, id string) []step {
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied, false},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "notes", "b's")}, protocol.StatusApplied, false},
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, time.Second), Row: lc(id, "notes", "a's")}, protocol.StatusConflict, false},
			}
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// A site of its own: versions start at 1.
			a, b := dev(protocol.RoleOperator), dev(protocol.RoleOperator)
			a.SiteID, b.SiteID = "again "+sc.name, "again "+sc.name
			id := uuid.NewString()
			seqNow := func() int64 {
				ss, err := st.SiteState(ctx, a.SiteID)
				must(t, err)
				return ss.Seq
			}
			rows := func() map[string]server.StoredRow {
				rs, err := st.Changes(ctx, a.SiteID, 0, 1000)
				must(t, err)
				out := map[string]server.StoredRow{}
				for _, r := range rs {
					out[r.Table+"/"+r.ID] = r
				}
				return out
			}
			steps := sc.steps(a, b, id)
			last := len(steps) - 1
			// The last batch begins at step first; the steps before the
			// last in it each write the row once.
			first := last
			for first > 0 && steps[first].join {
				first--
			}
			var res []protocol.PushResult
			var before []server.StoredRow
			var seqBefore int64
			for i := 0; i < len(steps); {
				j := i + 1
				for j < len(steps) && steps[j].join {
					j++
				}
				if i == first {
					h, err := st.History(ctx, a.SiteID, steps[last].c.Table, id)
					must(t, err)
					before, seqBefore = h, seqNow()
				}
				var cs []chg
				for _, s := range steps[i:j] {
					cs = append(cs, s.c)
				}
				res = append(res, push(t, e, steps[i].d, cs...)...)
				i = j
			}
			writes := int64(last - first)
			for i, s := range steps {
				if res[i].Status != s.want {
					t.Fatalf("step %d: %s (%s), want %s", i, res[i].Status, res[i].Error, s.want)
				}
			}
			if sc.rejudged {
				return
			}
			got := res[last]
			cur := rows()[steps[last].c.Table+"/"+id]
			if got.Version == nil || *got.Version != cur.Version {
				t.Errorf("version %v, want the current %d", got.Version, cur.Version)
			}
			if got.ConflictID != "" {
				t.Errorf("conflict_id %s: the write arriving again made a conflict record", got.ConflictID)
			}
			want, err := protocol.DecodeRow(cur.Data)
			must(t, err)
			for k, v := range want {
				if g, ok := got.Row[k]; !ok || !sameValue(g, v) {
					t.Errorf("answer's row %s = %v, the server's %v", k, got.Row[k], v)
				}
			}
			if n := seqNow(); n != seqBefore+writes {
				t.Errorf("sequence %d → %d with %d other write(s): the write arriving again was written", seqBefore, n, writes)
			}
			h, err := st.History(ctx, a.SiteID, steps[last].c.Table, id)
			must(t, err)
			if int64(len(h)) != int64(len(before))+writes {
				t.Errorf("history %d → %d versions with %d other write(s)", len(before), len(h), writes)
			}
			for k, r := range rows() {
				if r.Table == protocol.TableConflicts {
					t.Errorf("conflict record %s after the write arrived again", k)
				}
			}
		})
	}
}

// testWritesArrivingAgainInOneBatch: a batch of several rows (a device's
// own writes after a timeline change), some arriving again and some not,
// looked up together: each is told apart.
func testWritesArrivingAgainInOneBatch(t *testing.T, st server.Store) {
	e := newEngine(st)
	a, b := dev(protocol.RoleOperator), dev(protocol.RoleOperator)
	rec := func(id string, q int) map[string]any {
		return map[string]any{"id": id, "line_id": "L1", "product_id": "P1", "quantity": q, "operator_id": "op",
			"created_at": 1700000000000, "updated_at": 1700000000001}
	}
	var firsts []chg
	for i := 0; i < 6; i++ {
		id := uuid.NewString()
		firsts = append(firsts, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: stamp(a), Row: rec(id, 1)})
	}
	for _, r := range push(t, e, a, firsts...) {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("setup: %s %s", r.Status, r.Error)
		}
	}
	// b moves every row on; a's later writes of rows 3-5 are new ones.
	var moved []chg
	for _, c := range firsts {
		moved = append(moved, chg{Table: c.Table, ID: c.ID, Op: protocol.OpUpsert, BaseVersion: current(t, st)[c.Table+"/"+c.ID].Version,
			HLC: stamp(b), Row: rec(c.ID, 2)})
	}
	push(t, e, b, moved...)
	var again []chg
	for i, c := range firsts {
		if i >= 3 {
			c.HLC, c.Row = stamp(a), rec(c.ID, 3)
		}
		again = append(again, c)
	}
	for i, r := range push(t, e, a, again...) {
		want := protocol.StatusMerged
		if i >= 3 {
			want = protocol.StatusApplied // lww: a's new write is the later
		}
		if r.Status != want {
			t.Errorf("row %d: %s (%s), want %s", i, r.Status, r.Error, want)
		}
	}
}

// sameValue compares two row values as JSON numbers and text alike.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return jsonText(a) == jsonText(b)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
