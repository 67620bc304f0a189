package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// TestResolveOpen_DecisionIsManagersWrite: the settling manager decides
// as the app does (syncclient's sendOne): an accepted decision is the
// manager's own accepted write at once (store.AcceptResolution), not only
// once a pull brings it. Seed 3 of the f430ea6 campaign (a replay's wire
// log): the manager decided a conflict for device 5's speed at v147 and
// never pulled v147 before a restore from an earlier backup; device 5's
// row had taken v147 (the manager's hlc), so nobody pushed the decision
// again and device 5's speed, the side it chose, was counted lost. The
// app's manager would have pushed its decision again on the new timeline.
func TestResolveOpen_DecisionIsManagersWrite(t *testing.T) {
	ctx := timeout(t, time.Minute)
	e := newEnv(t, 2)
	open := func(name string, idx int, code string) *device {
		d, err := openDevice(ctx, filepath.Join(e.dir, name), idx, nil, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.close)
		if _, err := d.cl.Enroll(ctx, e.srv.URL(), code); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := open("a", 0, e.code), open("b", 1, e.code)
	mgr := open("mgr", 2, e.managerCode)
	rate := func(n int64) *int64 { return &n }
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R-A"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{a, b, mgr} {
		if _, err := d.cl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.st.UpdateLineConfig(ctx, lc.ID, store.LineConfigInput{LineID: "L1", Recipe: "R-A", TargetRatePerHour: rate(100)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.UpdateLineConfig(ctx, lc.ID, store.LineConfigInput{LineID: "L1", Recipe: "R-A", TargetRatePerHour: rate(200)}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{a, b, mgr} {
		if _, err := d.cl.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, err := resolveOpen(ctx, mgr)
	if err != nil || n != 1 {
		t.Fatalf("resolveOpen: %d decided, %v; want 1", n, err)
	}
	mgr.mu.Lock()
	dc := mgr.decisions[len(mgr.decisions)-1]
	mgr.mu.Unlock()
	// No pull since the decision: the manager's row holds it already.
	got, err := mgr.st.GetLineConfig(ctx, lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := registry.Lookup(protocol.TableLineConfigs)
	var gotRate any
	if got.TargetRatePerHour != nil {
		gotRate = *got.TargetRatePerHour
	}
	if got.Version != dc.version || !fieldsEqual(tb, map[string]any{"target_rate_per_hour": dc.chosen["target_rate_per_hour"]},
		map[string]any{"target_rate_per_hour": gotRate}) {
		t.Fatalf("manager's row after its decision: version %d rate %v; want the decision's version %d and rate %v",
			got.Version, got.TargetRatePerHour, dc.version, dc.chosen["target_rate_per_hour"])
	}
	// What the lost check follows an edit through (carriers): the
	// decision's hlc is its version's, theirs is device a's applied write
	// (the version b's push met), and the side rejected is known.
	if got.HLC != dc.hlc {
		t.Errorf("decision's hlc %q, the manager's row holds %q", dc.hlc, got.HLC)
	}
	av, err := a.st.GetLineConfig(ctx, lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if dc.theirsVersion == 0 || dc.theirsVersion != av.Version {
		t.Errorf("decision's theirs version %d, device a's applied write is v%d", dc.theirsVersion, av.Version)
	}
	mineChosen := fieldsEqual(tb, map[string]any{"target_rate_per_hour": int64(200)}, dc.chosen)
	if dc.rejectedTheirs != mineChosen {
		t.Errorf("rejectedTheirs %v, chosen %v (b's mine is 200)", dc.rejectedTheirs, dc.chosen)
	}
}
