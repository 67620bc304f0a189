package syncclient

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// dropPushAnswer lets the server apply a push, then loses its answer (the
// nemesis's "drop": answers dropped after commit) while armed.
type dropPushAnswer struct {
	mu    sync.Mutex
	armed bool
}

func (d *dropPushAnswer) arm(on bool) {
	d.mu.Lock()
	d.armed = on
	d.mu.Unlock()
}

func (d *dropPushAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	d.mu.Lock()
	armed := d.armed
	d.mu.Unlock()
	if err == nil && armed && r.URL.Path == "/v1/push" {
		resp.Body.Close()
		return nil, errors.New("answer dropped after commit")
	}
	return resp, err
}

// Outpost-sim seed 98 (pg2, drops on both instances): "decision on
// line_configs … overturned: speed_rpm = <nil>, decided 10".
//
// A pushes temperature 120 over B's 80: the server stores an open conflict
// and answers "conflict", but the answer is lost, so A's batch stays in
// flight. The manager pulls the conflict and decides for B's 80. A, still
// with its batch in flight, edits the notes (the row is in flight, not yet
// awaiting review: the edit starts from A's own 120). A's retry gets the
// stored "conflict"; the row awaits review with a newer local edit, so it is
// pending again, pushed on theirs' version with A's 120 in it, and the
// server's three-way merge takes 120 over the decision: the manager's
// decision is overturned by an edit that never saw it (docs/design.md section 3,
// "Re-edits under review": a decision is never overturned by a later
// unrelated edit of the same row).
func TestEditWhileConflictAnswerIsLost_KeepsTheManagersDecision(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	tr := &dropPushAnswer{}
	st := openStore(t, t.TempDir()+"/a.db")
	t.Cleanup(func() { st.Close() })
	a := &device{name: "a", st: st, c: New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: tr}})}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	b := newDevice(t, srv, "b", "operator")
	m := newDevice(t, srv, "m", "manager")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	m.sync(t)
	edit := func(d *device, fn func(in *store.LineConfigInput)) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		fn(&in)
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	edit(b, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(80.0) })
	b.sync(t)

	// A's conflicting push: applied (a conflict stored), its answer lost.
	edit(a, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(120.0) })
	tr.arm(true)
	if _, err := a.c.Sync(ctx); err == nil {
		t.Log("sync with the lost answer reported no error")
	}
	tr.arm(false)
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateInFlight {
		t.Fatalf("a's row is %s after the lost answer, want in flight", st)
	}

	// The manager decides for B's 80.
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	if _, err := m.c.Resolve(ctx, conflictID, theirs, theirsVersion, "80 is the spec", Decider{}); err != nil {
		t.Fatal(err)
	}

	// A edits the notes while its batch is still in flight, then syncs:
	// the retry gets the stored "conflict".
	edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("checked") })
	a.sync(t)
	a.sync(t)
	m.sync(t)
	for _, d := range []*device{m, a} {
		got, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TemperatureC == nil || *got.TemperatureC != 80 {
			t.Errorf("%s holds temperature %v, notes %v; the manager decided 80", d.name, deref(got.TemperatureC), deref(got.Notes))
		}
	}
}

// editDuringPush runs hook once, after the server has answered a push and
// before the client reads the answer: an edit made while the batch is in
// flight.
type editDuringPush struct {
	mu   sync.Mutex
	hook func()
}

func (e *editDuringPush) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	e.mu.Lock()
	hook := e.hook
	if r.URL.Path == "/v1/push" {
		e.hook = nil
	}
	e.mu.Unlock()
	if err == nil && hook != nil && r.URL.Path == "/v1/push" {
		hook()
	}
	return resp, err
}

// The same hole without any fault: A's notes edit made while its conflicting
// push is in flight. The answer is "conflict"; the row, edited since, is
// pending again and is pushed on theirs' version with A's 120 in it. No
// other device wrote since theirs, so the server applies it: the value the
// conflict holds for review is written over theirs unjudged, while the
// conflict is still open (docs/design.md section 3: the device "stops pushing"
// a conflicting edit).
func TestEditWhileConflictingPushInFlight_DoesNotWriteTheConflictingValue(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	tr := &editDuringPush{}
	st := openStore(t, t.TempDir()+"/a.db")
	t.Cleanup(func() { st.Close() })
	a := &device{name: "a", st: st, c: New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: tr}})}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	b := newDevice(t, srv, "b", "operator")
	m := newDevice(t, srv, "m", "manager")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	edit := func(d *device, fn func(in *store.LineConfigInput)) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		fn(&in)
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	edit(b, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(80.0) })
	b.sync(t)
	edit(a, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(120.0) })
	tr.mu.Lock()
	tr.hook = func() { edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("checked") }) }
	tr.mu.Unlock()
	a.sync(t)
	a.sync(t)
	m.sync(t)
	open, err := m.st.Conflicts(ctx, true)
	if err != nil || len(open) != 1 {
		t.Fatalf("manager's open conflicts: %d, %v", len(open), err)
	}
	got, err := m.st.GetLineConfig(ctx, lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TemperatureC == nil || *got.TemperatureC != 80 {
		t.Errorf("with the conflict open, the server holds temperature %v (notes %v); want B's 80 until a manager decides", deref(got.TemperatureC), deref(got.Notes))
	}
}
