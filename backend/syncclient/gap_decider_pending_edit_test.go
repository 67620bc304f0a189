package syncclient

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Issue 15 (found reading the decision paths for seed 136 of the efb90d4
// campaign): a manager's own edit of a row, made before it decides the
// row's conflict and not yet pushed, does not undo the decision. The app
// sends a decision at once (Resolve); the edit waits for the next sync and
// is pushed on the version the decision was made on. The resolution is
// the manager device's write, so the server took every write since that
// base for the manager's own (a lost acknowledgement) and applied the
// edit's full state: the temperature went back to b's 80 the manager had
// just decided against, with no conflict. The edit is merged with the
// decision instead: its speed is applied, the decided 90 is kept.
func TestManagerEditBeforeItsDecisionKeepsTheDecision(t *testing.T) {
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
	set := func(d *device, temp *float64, speed *int64) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		if temp != nil {
			in.TemperatureC = temp
		}
		if speed != nil {
			in.SpeedRPM = speed
		}
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	set(b, ptrTo(80.0), nil)
	b.sync(t)
	set(a, ptrTo(120.0), nil)
	a.sync(t)
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	// The manager edits the speed (pending), then decides 90.
	set(m, nil, ptrTo(int64(40)))
	decided := theirs.Clone()
	decided["temperature_c"] = 90.0
	res, err := m.c.Resolve(ctx, conflictID, decided, theirsVersion, "90 is the spec", Decider{})
	if err != nil || res.State != "" {
		t.Fatalf("the decision was not accepted: %+v, %v", res, err)
	}
	m.sync(t) // pushes the speed edit, on theirsVersion
	for _, d := range []*device{a, b, m} {
		d.sync(t)
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case float64:
			return x
		case int64:
			return float64(x)
		case json.Number:
			f, _ := x.Float64()
			return f
		}
		return -1
	}
	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	end := liveIDs(t, c, protocol.TableLineConfigs)[lc.ID]
	if num(end.Row["temperature_c"]) != 90 || num(end.Row["speed_rpm"]) != 40 {
		t.Errorf("server row: temperature %v, speed %v; want the decided 90 and the manager's speed 40 (its edit made before the decision merged with it)",
			end.Row["temperature_c"], end.Row["speed_rpm"])
	}
	for _, d := range []*device{a, b, m} {
		got := liveIDs(t, d, protocol.TableLineConfigs)[lc.ID]
		if got.Version != end.Version || got.State != store.StateClean {
			t.Errorf("device %s holds version %d (%s), the server %d", d.name, got.Version, got.State, end.Version)
		}
	}
}
