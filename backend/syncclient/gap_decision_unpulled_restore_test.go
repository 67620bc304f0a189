package syncclient

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Issue 15, known gap 2 (soak seed 2028 on 64285a8; fixed: the accepted
// decision is written as the decider's own write, AcceptResolution): a manager's decision the
// server acknowledged but the deciding device has not pulled yet is lost by
// a restore from a backup taken before it. a's temperature 120 meets b's 80
// (an open conflict); the manager decides 90 and its device drops the
// accepted decision from its queue (a decision reaches the decider's store
// only by a pull, which has not happened). a and b pull the decision: their
// rows are clean under the manager's hlc. After the marked restore nobody
// pushes the decision again: a's and b's rows name another device, the
// manager's row still holds b's 80 under b's hlc, the resolved record is
// never pushed again (restoredmine.go). The decided 90 is in no version and
// no conflict record, and the server is back at 100 with no conflict open.
func TestRestoredServer_DecisionNotPulledByTheDeciderSurvives(t *testing.T) {
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
	decided := theirs.Clone()
	decided["temperature_c"] = 90.0
	res, err := m.c.Resolve(ctx, conflictID, decided, theirsVersion, "90 is the spec", Decider{})
	if err != nil || res.State != "" {
		t.Fatalf("the decision was not accepted: %+v, %v", res, err)
	}
	// a and b pull the decision; the manager's device does not.
	a.sync(t)
	b.sync(t)
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	if ts, err := hlc.Parse(got.HLC); err != nil || ts.Node != m.c.Status(ctx).DeviceID || got.State != store.StateClean {
		t.Fatalf("a holds hlc %s (%s); the premise is a clean row under the manager's hlc", got.HLC, got.State)
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
	temp90 := func(r protocol.Row) bool {
		switch x := r["temperature_c"].(type) {
		case float64:
			return x == 90
		case json.Number:
			f, err := x.Float64()
			return err == nil && f == 90
		}
		return false
	}
	d := newDevice(t, srv, "d", "operator")
	d.sync(t)
	end := liveIDs(t, d, protocol.TableLineConfigs)[lc.ID]
	t.Logf("the restored server ends with temperature %v, speed_rpm %v (hlc %s)", end.Row["temperature_c"], end.Row["speed_rpm"], end.HLC)
	if !onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, temp90) {
		t.Errorf("the manager's decision (temperature 90), accepted before the restore and not yet pulled by the manager's device, is nowhere on the restored server")
	}
}
