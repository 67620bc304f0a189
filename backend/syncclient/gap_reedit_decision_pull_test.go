package syncclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// editDuringPull runs hook once, when the server has answered the nth pull
// request and before the client reads the answer: an edit made while the
// pull that brings a decision (or a timeline pass) is under way.
type editDuringPull struct {
	mu    sync.Mutex
	n     int
	pulls int
	hook  func()
}

func (e *editDuringPull) arm(n int, hook func()) {
	e.mu.Lock()
	e.n, e.pulls, e.hook = n, 0, hook
	e.mu.Unlock()
}

func (e *editDuringPull) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	var hook func()
	e.mu.Lock()
	if r.URL.Path == "/v1/pull" && e.hook != nil {
		e.pulls++
		if e.pulls == e.n {
			hook, e.hook = e.hook, nil
		}
	}
	e.mu.Unlock()
	if err == nil && hook != nil {
		hook()
	}
	return resp, err
}

// Soak seed 12 (docs/benchmarks.md, soak section): device 1's rename made
// 3.2 s after a restore was in no version and no conflict side; the row's
// only version left was a manager's decision. The hypothesis checked here:
// the rename was a re-edit of a row awaiting review, and the pulled
// decision overwrote the pending re-edit. a's temperature 120 meets b's 80
// (an open conflict); the manager decides 90; a re-edits the notes while
// its row awaits review — before syncing, while the pull that brings the
// decision is under way, and across a restore (before the timeline change,
// during the timeline pass, with the record in the backup or lost by the
// restore). Every time, a's notes must reach the server (a version or a
// conflict's mine), and where the record survives, merge with the decision.
func TestReview_DecisionPulledKeepsTheReEdit(t *testing.T) {
	cases := []struct {
		name string
		// backup: "" (no restore), "before" (before the conflict: the
		// restore loses the record), "decided" (after the decision).
		backup string
		// pull: 0 = re-edit before a's sync; n = during a's nth pull.
		pull int
	}{
		{name: "no_restore/reedit_before_sync", pull: 0},
		{name: "no_restore/reedit_during_decisions_pull", pull: 1},
		{name: "record_lost/reedit_before_sync", backup: "before", pull: 0},
		{name: "record_lost/reedit_during_pass", backup: "before", pull: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { testReEditKeptAcrossDecisionPull(t, tc.backup, tc.pull) })
	}
}

// Issue 15, known gap 3 (fixed: the in-flight entry keeps the review's
// conflict id, and a dropped batch gives the entry its review back), found
// by the test above: a re-edit under review made before the
// device learns of a restore is pushed, on theirs' version, in a batch the
// server refuses with 409 timeline_changed. NewBatch replaced the row's
// awaiting_review entry (conflict id, theirs, its version) by an in_flight
// one, and ChangeTimeline drops in-flight entries: the re-edit is then a
// plain pending row on base 0. The pass brings the resolved record and the
// decided row back, but nothing ties the row to them any more (the record is
// resolved, so restoredmine.go pushes nothing), and the push on base 0 opens
// a new conflict on every field the decision changed (temperature 80 vs the
// decided 90, and the notes): the manager is asked again about a decision the
// backup kept, and the re-edit is not merged with it.
func TestRestoredServer_ReEditInFlightAtTimelineChangeKeepsItsReviewBase(t *testing.T) {
	testReEditKeptAcrossDecisionPull(t, "decided", 0)
}

// Found by the test above (known gap 4, closed by the server's rule for a
// write arriving again, 540c6d5): a's re-edit, made during a's timeline
// pass, is pushed on theirs' version and merged with the decision the backup
// kept (90 and "checked", under a's hlc). The manager's device, whose own
// accepted write is the decision (clean under its hlc), then changes
// timeline: its row is pending on base 0, and its pass brings the merged
// version, which names a's hlc, not the manager's: the decision is not
// recognised as kept, and is pushed again on base 0, opening a conflict on
// the notes (mine: the decided state without the re-edit; theirs: the
// merge). A manager taking "mine" would drop a's re-edit: the kind of loss
// soak seed 12 showed (an edit after a restore, the row's last version a
// decision between two other states).
func TestRestoredServer_OwnWriteKeptThenMergedIsNotPushedAgain(t *testing.T) {
	t.Run("reedit_during_first_pull", func(t *testing.T) { testReEditKeptAcrossDecisionPull(t, "decided", 1) })
	t.Run("reedit_during_pass", func(t *testing.T) { testReEditKeptAcrossDecisionPull(t, "decided", 3) })
}

func testReEditKeptAcrossDecisionPull(t *testing.T, backupAt string, pull int) {
	ctx := context.Background()
	srv := startRealServer(t)
	tr := &editDuringPull{}
	st := openStore(t, t.TempDir()+"/a.db")
	t.Cleanup(func() { st.Close() })
	a := &device{name: "a", st: st, c: New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, HTTP: HTTPOptions{Transport: tr}})}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	b := newDevice(t, srv, "b", "operator")
	m := newDevice(t, srv, "m", "manager")
	// Rows before the line configuration: a timeline pass takes pages.
	for i := 0; i < 9; i++ {
		if _, err := b.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: fmt.Sprintf("P%d", i), Quantity: 1, OperatorID: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	b.sync(t)
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	m.sync(t)
	backup := t.TempDir()
	takeBackup := func() {
		srv.stop()
		srv.backup(backup)
		srv.start()
	}
	if backupAt == "before" {
		takeBackup()
	}
	edit := func(d *device, fn func(in *store.LineConfigInput)) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Error(err)
			return
		}
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		fn(&in)
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Error(err)
		}
	}
	edit(b, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(80.0) })
	b.sync(t)
	edit(a, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(120.0) })
	a.sync(t)
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateAwaitingReview {
		t.Fatalf("a's row is %s, want awaiting review", st)
	}
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	decided := theirs.Clone()
	decided["temperature_c"] = 90.0
	if res, err := m.c.Resolve(ctx, conflictID, decided, theirsVersion, "90 is the spec", Decider{}); err != nil || res.State != "" {
		t.Fatalf("the decision was not accepted: %+v, %v", res, err)
	}
	m.sync(t)
	b.sync(t)
	if backupAt == "decided" {
		takeBackup()
	}
	if backupAt != "" {
		srv.stop()
		if !srv.restoreFrom(backup, true) {
			t.Fatal("outpost-server restored failed")
		}
		srv.start()
	}

	reEdit := func() { edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("checked") }) }
	if pull == 0 {
		reEdit()
	} else {
		tr.arm(pull, reEdit)
	}
	for i := 0; i < 3; i++ {
		a.sync(t)
		b.sync(t)
		m.sync(t)
	}
	tr.mu.Lock()
	fired := tr.hook == nil
	tr.mu.Unlock()
	if !fired {
		t.Fatalf("a made no more than %d pulls: the re-edit was never made", pull-1)
	}
	checked := func(r protocol.Row) bool { s, _ := r["notes"].(string); return s == "checked" }
	if !onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, checked) {
		got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
		t.Errorf("a's re-edit (notes \"checked\") is nowhere on the server; a holds %v (%s)", got.Row["notes"], got.State)
	}
	if backupAt == "before" {
		return // the decision was lost with the record: the manager decides again
	}
	if open, err := m.st.Conflicts(ctx, true); err != nil || len(open) != 0 {
		t.Errorf("%d open conflict(s) (%v) after the decision; want 0 (the re-edit merges with the decision)", len(open), err)
		for _, c := range open {
			var r struct {
				Mine, Theirs protocol.Row
				Fields       []string
			}
			json.Unmarshal(c.Record, &r)
			t.Logf("open record on %v: mine %v/%v, theirs %v/%v", r.Fields, r.Mine["temperature_c"], r.Mine["notes"], r.Theirs["temperature_c"], r.Theirs["notes"])
		}
	}
	d := newDevice(t, srv, "d", "operator")
	d.sync(t)
	want := liveIDs(t, d, protocol.TableLineConfigs)[lc.ID]
	if s, _ := want.Row["notes"].(string); s != "checked" || fmt.Sprint(want.Row["temperature_c"]) != "90" {
		t.Errorf("the server holds temperature %v, notes %v; want the decision's 90 merged with a's re-edit \"checked\"", want.Row["temperature_c"], want.Row["notes"])
	}
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	if got.Version != want.Version || got.State != store.StateClean {
		t.Errorf("a holds version %d (%s), the server version %d", got.Version, got.State, want.Version)
	}
}
