package syncclient

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Issue 15, the restore gap: an edit a device made between the backup and
// the restore that the server kept only as a conflict record's "mine" (it
// lost under lww, or a manager decided against it) must not vanish with
// the record when the server is restored. The restored server must again
// hold it, in the row's history or in a conflict record's "mine".

// onServer reports whether the server holds, for table/id, a version of the
// row or a conflict record's "mine" for which match is true, as a device
// enrolled afresh reads them.
func onServer(t *testing.T, srv *realServer, name, table, id string, match func(protocol.Row) bool) bool {
	t.Helper()
	ctx := context.Background()
	r := newDevice(t, srv, name, "operator")
	r.sync(t)
	hist, err := r.c.API().History(ctx, table, id)
	if err != nil {
		t.Fatalf("history of %s %s: %v", table, id, err)
	}
	for _, v := range hist {
		if match(v.Row) {
			return true
		}
	}
	recs, err := r.st.Conflicts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range recs {
		var rec struct {
			RowID string       `json:"row_id"`
			Mine  protocol.Row `json:"mine"`
		}
		if err := json.Unmarshal(c.Record, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.RowID == id && match(rec.Mine) {
			return true
		}
	}
	return false
}

func quantityIs(q int64) func(protocol.Row) bool {
	return func(r protocol.Row) bool { n, ok := toInt(r["quantity"]); return ok && n == q }
}

// a's edit (50) loses under lww to b's later one (70); the server keeps 50
// only in an auto_resolved record. The backup predates both; after the
// marked restore, 50 must be on the server again, and every device ends
// with b's 70 (the later hlc), clean. Both orders of the devices' first
// sync after the restore.
func TestRestoredServer_LWWLoserMadeAfterTheBackupSurvives(t *testing.T) {
	for _, aFirst := range []bool{true, false} {
		name := map[bool]string{true: "loser_syncs_first", false: "winner_syncs_first"}[aFirst]
		t.Run(name, func(t *testing.T) { testLWWLoserSurvives(t, aFirst) })
	}
}

func testLWWLoserSurvives(t *testing.T, aFirst bool) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	update := func(d *device, q int64) {
		t.Helper()
		got, err := d.st.GetRecord(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.st.UpdateRecord(ctx, r.ID, store.RecordInput{LineID: got.LineID, ProductID: got.ProductID, Quantity: q, OperatorID: got.OperatorID}); err != nil {
			t.Fatal(err)
		}
	}
	update(a, 50) // offline
	hlcOf := func(d *device) string {
		t.Helper()
		got, err := d.st.GetRecord(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.HLC
	}
	// b's edit must carry the later hlc (each device's clock carries its
	// measured offset from the server's).
	for i := 0; ; i++ {
		if i > 0 {
			update(b, 69) // writing 70 over 70 changes nothing and keeps the old hlc
		}
		update(b, 70)
		if hlcOf(b) > hlcOf(a) {
			break
		}
		if i > 100 {
			t.Fatalf("b's hlc %s stays below a's %s", hlcOf(b), hlcOf(a))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.sync(t)
	if rep := a.sync(t); rep.Superseded != 1 {
		t.Fatalf("a's 50 was not superseded by b's 70: %+v", rep)
	}
	b.sync(t)

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()

	first, second := a, b
	if !aFirst {
		first, second = b, a
	}
	for i := 0; i < 2; i++ {
		first.sync(t)
		second.sync(t)
	}
	if !onServer(t, srv, "c", protocol.TableProductionRecords, r.ID, quantityIs(50)) {
		t.Errorf("a's edit 50, made between the backup and the restore, is nowhere on the restored server (neither in the row's history nor in a conflict's mine)")
	}
	d := newDevice(t, srv, "d", "operator")
	d.sync(t)
	want := liveIDs(t, d, protocol.TableProductionRecords)[r.ID]
	if n, _ := toInt(want.Row["quantity"]); n != 70 {
		t.Errorf("the server holds quantity %v, want b's 70 (the later hlc)", want.Row["quantity"])
	}
	for _, dv := range []*device{a, b} {
		got := liveIDs(t, dv, protocol.TableProductionRecords)[r.ID]
		if got.Version != want.Version || got.HLC != want.HLC || got.State != store.StateClean {
			t.Errorf("%s holds version %d hlc %s (%s); the server's is version %d hlc %s",
				dv.name, got.Version, got.HLC, got.State, want.Version, want.HLC)
		}
	}
}

// The manual variant: a's temperature 120 met b's 80 (an open conflict); the
// manager decided for 80. The backup predates all of it; after the marked
// restore, a's 120 is not pushed again (issue 15, review finding 1: a
// decision exists, and on base 0 the server's "own write is no conflict"
// rule would apply 120 over it unjudged); the manager's device pushes its
// decided state again, and no device is left stuck.
func TestRestoredServer_DecidedAgainstEditIsNotPushedAgain(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	m := newDevice(t, srv, "m", "manager")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0)})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	m.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	setTemp := func(d *device, v float64) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: ptrTo(v), SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	setTemp(b, 80)
	b.sync(t)
	setTemp(a, 120)
	a.sync(t)
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	if _, err := m.c.Resolve(ctx, conflictID, theirs, theirsVersion, "80 is the spec", Decider{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{a, b, m} {
		d.sync(t)
	}
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateClean {
		t.Fatalf("a's row is %s after the decision, want clean", st)
	}

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		for _, d := range []*device{a, b, m} {
			d.sync(t)
		}
	}
	temp := func(v float64) func(protocol.Row) bool {
		return func(r protocol.Row) bool {
			switch x := r["temperature_c"].(type) {
			case float64:
				return x == v
			case json.Number:
				f, err := x.Float64()
				return err == nil && f == v
			}
			return false
		}
	}
	if onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, temp(120)) {
		t.Errorf("a's temperature 120, decided against before the restore, is the server's again")
	}
	m.sync(t)
	open, err := m.st.Conflicts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	// The manager's decision, pushed again on base 0, meets what the
	// restored server holds: the manager decides anew.
	if len(open) != 1 || open[0].RowID != lc.ID {
		t.Errorf("open conflicts after the restore: %d, want one on %s for the manager to decide again", len(open), lc.ID)
	}
	for _, d := range []*device{a, b, m} {
		if st, _ := d.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateClean && st != store.StateAwaitingReview {
			t.Errorf("%s's row is %s, want clean or awaiting review", d.name, st)
		}
	}
}
