package syncclient

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review of the class5 merge chain (issue 15): a device's accepted change
// must survive a restore when a later edit of the same row by that device
// is merged under another device's hlc. a's notes are applied (v2, a's
// hlc); c, which has not pulled them, changes the speed on v1: the server
// merges it with a's notes (v3, c's hlc, the newer) and c never gets the
// answer; a's later temperature edit, made on v2 before c's, is merged with
// v3 (v4, c's hlc). The server is restored from a backup taken before a's
// notes. c pushes again only its own pending state (the notes it never
// saw); a's first edit of the clean v2 row had started its note from the
// temperature alone, so a pushed the restored notes with its temperature
// over them: a's notes were nowhere on the restored server (invariant 1).
func TestRestoredServer_OwnChangeSurvivesALaterMergedEdit(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	st := openStore(t, filepath.Join(t.TempDir(), "c.db"))
	t.Cleanup(func() { st.Close() })
	drop := &pushAnswerDropper{}
	cc := New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: drop}})
	if _, err := cc.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	c := &device{name: "c", st: st, c: cc}

	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrTo(100.0), SpeedRPM: ptrTo(int64(100)), Notes: ptrTo("Line L3")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	c.sync(t)

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
	edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("Line L3 – assembly") })
	if rep := a.sync(t); rep.Applied != 1 {
		t.Fatalf("a's notes were not applied: %+v", rep)
	}
	// a's temperature (offline) before c's speed: both merges keep c's hlc.
	ha := edit(a, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(70.0) })
	for i := 0; ; i++ {
		if hc := edit(c, func(in *store.LineConfigInput) { in.SpeedRPM = ptrTo(int64(i % 2)) }); hc > ha {
			break
		}
		if i > 100 {
			t.Fatalf("c's hlc stays below a's %s", ha)
		}
		time.Sleep(10 * time.Millisecond)
	}
	drop.drop.Store(true)
	if _, err := cc.Sync(ctx); err == nil {
		t.Fatal("c's sync succeeded; the premise is a lost push answer")
	}
	if rep := a.sync(t); rep.Merged != 1 {
		t.Fatalf("a's temperature was not merged with c's speed: %+v", rep)
	}
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	if got.Row["notes"] != "Line L3 – assembly" || got.State != store.StateClean || got.HLC == ha {
		t.Fatalf("a holds notes %v (%s, hlc %s); the premise is c's merge holding a's notes under c's hlc", got.Row["notes"], got.State, got.HLC)
	}

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	drop.drop.Store(false)
	for i := 0; i < 2; i++ {
		a.sync(t)
		c.sync(t)
	}
	assembly := func(r protocol.Row) bool { return r["notes"] == "Line L3 – assembly" }
	if !onServer(t, srv, "d", protocol.TableLineConfigs, lc.ID, assembly) {
		t.Errorf("a's notes, applied before the restore, are nowhere on the restored server")
	}
	temp70 := func(r protocol.Row) bool {
		if f, err := strconv.ParseFloat(fmt.Sprint(r["temperature_c"]), 64); err == nil {
			return f == 70
		}
		return false
	}
	if !onServer(t, srv, "e", protocol.TableLineConfigs, lc.ID, temp70) {
		t.Errorf("a's temperature 70, merged before the restore, is nowhere on the restored server")
	}
}
