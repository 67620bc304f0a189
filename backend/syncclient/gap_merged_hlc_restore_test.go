package syncclient

import (
	"context"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/hlc"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Issue 15, known gap 1 (soak seed 2027 on c6ab3de, seed 2028; fixed: the
// merged version is noted as an own accepted write, sync_own_versions): a push the
// server merges (manual policy, three-way) is stored under the newer side's
// hlc, which may name another device. a pushes speed_rpm 0 on an old base;
// b's temperature 80, pushed first but stamped later, is on the server: the
// merged version v keeps b's hlc. a's row is clean at v under b's hlc, so
// after a marked restore from a backup taken before v, a does not push it
// again (its own accepted writes are the clean rows whose hlc names it); b,
// which never pulled v, pushes again its own state, without a's 0. a's
// speed_rpm 0, accepted by the server, is then in no version and no
// conflict record.
func TestRestoredServer_MergedPushUnderAnotherDevicesHLCSurvives(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), SpeedRPM: ptrTo(int64(100))})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	edit := func(d *device, fn func(in *store.LineConfigInput)) string {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		fn(&in)
		got, err := d.st.UpdateLineConfig(ctx, lc.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		return got.HLC
	}
	// a's edit first (offline), b's later: b's hlc is the greater.
	ha := edit(a, func(in *store.LineConfigInput) { in.SpeedRPM = ptrTo(int64(0)) })
	for i := 0; ; i++ {
		if hb := edit(b, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(80.0 + float64(i%2)) }); hb > ha {
			break
		}
		if i > 100 {
			t.Fatalf("b's hlc stays below a's %s", ha)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.sync(t) // applied
	if rep := a.sync(t); rep.Merged != 1 {
		t.Fatalf("a's speed_rpm 0 was not merged with b's temperature: %+v", rep)
	}
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	ts, err := hlc.Parse(got.HLC)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := toInt(got.Row["speed_rpm"]); n != 0 || got.State != store.StateClean || ts.Node == a.c.Status(ctx).DeviceID {
		t.Fatalf("a holds speed_rpm %v (%s) under hlc %s; the premise is a clean merged row naming b's hlc", got.Row["speed_rpm"], got.State, got.HLC)
	}
	// b does not pull the merged version before the restore.

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	speed0 := func(r protocol.Row) bool { n, ok := toInt(r["speed_rpm"]); return ok && n == 0 }
	d := newDevice(t, srv, "d", "operator")
	d.sync(t)
	end := liveIDs(t, d, protocol.TableLineConfigs)[lc.ID]
	t.Logf("the restored server ends with temperature %v, speed_rpm %v (hlc %s)", end.Row["temperature_c"], end.Row["speed_rpm"], end.HLC)
	if !onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, speed0) {
		t.Errorf("a's speed_rpm 0, accepted (merged) before the restore under b's hlc, is nowhere on the restored server (neither in the row's history nor in a conflict's mine)")
	}
}
