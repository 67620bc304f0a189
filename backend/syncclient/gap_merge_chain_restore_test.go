package syncclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// pushAnswerDropper lets every push reach the server and, while drop is
// set, loses its answer: the server committed the batch, the device never
// learns how.
type pushAnswerDropper struct {
	drop atomic.Bool
}

func (p *pushAnswerDropper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !p.drop.Load() || r.URL.Path != "/v1/push" {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("test: push answer lost after commit")
}

// Issue 15, campaign seed 117 (a real client loss): device 1's edit of a
// row was merged by the server (remembered as its own version in
// sync_own_versions); device 0's later push, on an older base, was
// committed as a merge that kept device 1's change under device 0's hlc,
// and the server was restored (from a backup taken before device 1's
// merge) before device 0 got the answer. Device 1 had pulled device 0's
// merge, so its clean row named device 0 and was no longer at its own
// version: after the restore it pushed nothing again; device 0 pushed
// again only its own state, without device 1's change. Device 1's notes
// must be on the restored server (in the row's history or a conflict's
// "mine").
func TestRestoredServer_OwnChangeCarriedByAnotherDevicesMergeSurvives(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	st := openStore(t, filepath.Join(t.TempDir(), "b.db"))
	t.Cleanup(func() { st.Close() })
	drop := &pushAnswerDropper{}
	bc := New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: drop}})
	if _, err := bc.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	b := &device{name: "b", st: st, c: bc}

	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrTo(100.0), SpeedRPM: ptrTo(int64(100)), Notes: ptrTo("Line L3")})
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
	// a's notes first (offline), b's temperature later: a's merge keeps
	// b's hlc, as in the campaign (a's own version is remembered, not
	// named by the row's hlc).
	ha := edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("Line L3 – assembly") })
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
		t.Fatalf("a's notes were not merged with b's temperature: %+v", rep)
	}
	// b, which has not pulled a's merge, changes the speed on its older
	// base: the server merges it with a's notes under b's hlc; b never
	// gets the answer.
	edit(b, func(in *store.LineConfigInput) { in.SpeedRPM = ptrTo(int64(0)) })
	drop.drop.Store(true)
	if _, err := bc.Sync(ctx); err == nil {
		t.Fatal("b's sync succeeded; the premise is a lost push answer")
	}
	a.sync(t) // pulls b's merge: a's row names b's hlc, past a's own version
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	if got.Row["notes"] != "Line L3 – assembly" || got.State != store.StateClean {
		t.Fatalf("a holds notes %v (%s); the premise is b's merge keeping a's notes", got.Row["notes"], got.State)
	}
	if n, _ := toInt(got.Row["speed_rpm"]); n != 0 {
		t.Fatalf("a holds speed_rpm %v; the premise is b's merged speed pulled", got.Row["speed_rpm"])
	}

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	drop.drop.Store(false)
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	assembly := func(r protocol.Row) bool { return r["notes"] == "Line L3 – assembly" }
	if !onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, assembly) {
		t.Errorf("a's notes, accepted (merged) before the restore and carried by b's merge that a pulled, are nowhere on the restored server")
	}
	speed0 := func(r protocol.Row) bool { n, ok := toInt(r["speed_rpm"]); return ok && n == 0 }
	if !onServer(t, srv, "d", protocol.TableLineConfigs, lc.ID, speed0) {
		t.Errorf("b's speed_rpm 0, whose answer was lost before the restore, is nowhere on the restored server")
	}
}
