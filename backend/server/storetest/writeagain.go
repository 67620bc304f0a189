package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// testVersionWithHLC: Tx.VersionWithHLC finds the greatest stored version
// of one row of the transaction's site written with an hlc — the
// transaction's own writes included, purged versions not.
func testVersionWithHLC(t *testing.T, st server.Store) {
	ctx := context.Background()
	tx, err := st.Begin(ctx, "s")
	must(t, err)
	defer tx.Rollback()
	put := func(id, h string) int64 {
		v, err := tx.NextSeq(ctx)
		must(t, err)
		must(t, tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: h, DeviceID: "a", Data: []byte(`{}`)}))
		return v
	}
	put(idA, "x1")       // 1
	put(idA, "x2")       // 2
	v3 := put(idA, "x1") // 3: a merge keeps the greater hlc, which may be an earlier version's
	put(idA, "x4")       // 4: the current version
	vB := put(idB, "y1")
	check := func(when, id, h string, want int64) {
		t.Helper()
		got, err := tx.VersionWithHLC(ctx, "t", id, h)
		if want == 0 {
			if !errors.Is(err, server.ErrNotFound) {
				t.Errorf("%s: VersionWithHLC(%s, %s) = %d, %v; want ErrNotFound", when, id[:2], h, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("%s: VersionWithHLC(%s, %s) = %d, %v; want %d", when, id[:2], h, got, err, want)
		}
	}
	cases := []struct {
		id, h string
		want  int64
	}{
		{idA, "x1", v3}, {idA, "x2", 2}, {idA, "x4", 4}, {idA, "x9", 0}, {idA, "y1", 0},
		{idB, "y1", vB}, {idB, "x1", 0}, {"8f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "x1", 0},
	}
	for _, c := range cases {
		check("own writes", c.id, c.h, c.want)
	}
	if _, err := tx.VersionWithHLC(ctx, "other table", idA, "x1"); !errors.Is(err, server.ErrNotFound) {
		t.Errorf("another table's row: %v, want ErrNotFound", err)
	}
	must(t, tx.Commit())

	tx, err = st.Begin(ctx, "s")
	must(t, err)
	for _, c := range cases {
		check("committed", c.id, c.h, c.want)
	}
	// Retention: versions below the horizon that are not current go.
	_, err = tx.PurgeVersions(ctx, 3)
	must(t, err)
	check("purged", idA, "x1", 0)
	check("purged", idA, "x2", 0)
	check("purged", idA, "x4", 4)
	check("purged", idB, "y1", vB) // a row's current version stays
	must(t, tx.Commit())

	tx, err = st.Begin(ctx, "other site")
	must(t, err)
	defer tx.Rollback()
	if _, err := tx.VersionWithHLC(ctx, "t", idA, "x4"); !errors.Is(err, server.ErrNotFound) {
		t.Errorf("another site's row: %v, want ErrNotFound", err)
	}
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
		want string // the status the step must get ("" = any but rejected)
	}
	type scenario struct {
		name string
		// steps run one batch each (or one batch for all, when oneBatch);
		// the last change is the write arriving again.
		steps    func(a, b server.Device, id string) []step
		oneBatch bool
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
				{a, first, protocol.StatusApplied},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "notes", "b's")}, protocol.StatusApplied},
				{a, again, protocol.StatusMerged},
			}
		}},
		{name: "manual/own_write_merged_into_a_version", steps: func(a, b server.Device, id string) []step {
			mine := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(a, time.Second), Row: lc(id, "notes", "a's")}
			again := mine
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "temperature_c", 90.0)}, protocol.StatusApplied},
				// merged with b's temperature, under a's (greater) hlc
				{a, mine, protocol.StatusMerged},
				// its acknowledgement lost, then a timeline change
				{a, again, protocol.StatusMerged},
			}
		}},
		{name: "manual/decision_moved_on_by_a_merged_push", steps: func(a, b server.Device, id string) []step {
			// The manager's own write kept, then another device's edit
			// merged on it (the gap's shape, without the resolve call).
			decided := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "temperature_c", 90.0)}
			again := decided
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied},
				{b, decided, protocol.StatusApplied},
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(a, time.Second), Row: lc(id, "notes", "checked")}, protocol.StatusMerged},
				{b, again, protocol.StatusMerged},
			}
		}},
		{name: "lww/moved_on_by_a_device_whose_clock_is_behind", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}
			return []step{
				{a, first, protocol.StatusApplied},
				{b, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, -time.Hour), Row: rec(id, "quantity", 7)}, protocol.StatusApplied},
				// a's hlc is the greater: judged again, it would win over b's later write
				{a, first, protocol.StatusMerged},
			}
		}},
		{name: "lww/current_version_lost_acknowledgement", steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}
			return []step{{a, first, protocol.StatusApplied}, {a, first, protocol.StatusMerged}}
		}},
		{name: "lww/delete_arriving_again", steps: func(a, b server.Device, id string) []step {
			del := chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpDelete, BaseVersion: 1, HLC: at(a, time.Second), Row: rec(id)}
			again := del
			again.BaseVersion = 0
			return []step{
				{a, chg{Table: protocol.TableProductionRecords, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: rec(id)}, protocol.StatusApplied},
				{a, del, protocol.StatusApplied},
				{a, again, protocol.StatusMerged},
			}
		}},
		{name: "manual/same_change_twice_in_one_batch", oneBatch: true, steps: func(a, b server.Device, id string) []step {
			first := chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}
			return []step{{a, first, protocol.StatusApplied}, {a, first, protocol.StatusMerged}}
		}},
		{name: "manual/new_write_on_base_0_still_judged", rejudged: true, steps: func(a, b server.Device, id string) []step {
			return []step{
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, 0), Row: lc(id)}, protocol.StatusApplied},
				{b, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, BaseVersion: 1, HLC: at(b, 0), Row: lc(id, "notes", "b's")}, protocol.StatusApplied},
				{a, chg{Table: protocol.TableLineConfigs, ID: id, Op: protocol.OpUpsert, HLC: at(a, time.Second), Row: lc(id, "notes", "a's")}, protocol.StatusConflict},
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
			var res []protocol.PushResult
			var before []server.StoredRow
			var seqBefore int64
			if sc.oneBatch {
				var cs []chg
				for _, s := range steps {
					cs = append(cs, s.c)
				}
				res = push(t, e, a, cs...)
			} else {
				for i, s := range steps {
					if i == last {
						h, err := st.History(ctx, a.SiteID, s.c.Table, id)
						must(t, err)
						before, seqBefore = h, seqNow()
					}
					res = append(res, push(t, e, s.d, s.c)...)
				}
			}
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
			if sc.oneBatch {
				if n := seqNow(); n != 1 {
					t.Errorf("sequence %d after one batch writing the row once, want 1", n)
				}
				return
			}
			if n := seqNow(); n != seqBefore {
				t.Errorf("sequence %d → %d: the write arriving again was written", seqBefore, n)
			}
			h, err := st.History(ctx, a.SiteID, steps[last].c.Table, id)
			must(t, err)
			if len(h) != len(before) {
				t.Errorf("history %d → %d versions", len(before), len(h))
			}
			for k, r := range rows() {
				if r.Table == protocol.TableConflicts {
					t.Errorf("conflict record %s after the write arrived again", k)
				}
			}
		})
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
