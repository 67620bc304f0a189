package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review finding: a's manual edit (120) meets b's 80: open conflict, a's row
// awaits review. The manager decides for 80 while a is offline. The backup
// is taken AFTER the decision, and the server is then restored from it
// (nothing about this conflict is lost: record, decision and row are all in
// the backup). a, still awaiting review, comes back: the pull shows the new
// timeline, ChangeTimeline makes the awaiting-review row pending on base 0
// with 120, the pass brings the resolved record and the decided row but
// nothing turns the row back (the entry was dropped, so pullConflict does
// not settle it), and a pushes 120 again: a new open conflict asks the
// manager to decide again on an edit already decided before the backup
// ("only what the restore really lost is pushed again", docs/design.md section 3).
func TestReview_RestoreReopensADecisionTheBackupKept(t *testing.T) {
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
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateAwaitingReview {
		t.Fatalf("a's row is %s, want awaiting review", st)
	}
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	if _, err := m.c.Resolve(ctx, conflictID, theirs, theirsVersion, "80 is the spec", Decider{}); err != nil {
		t.Fatal(err)
	}
	m.sync(t)
	b.sync(t)
	// a stays offline. The backup holds the decision.
	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		for _, d := range []*device{a, b, m} {
			d.sync(t)
		}
	}
	open, err := m.st.Conflicts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 0 {
		t.Errorf("%d open conflict(s) after a restore from a backup that holds the decision; want 0 (the manager already decided a's 120)", len(open))
	}
	got, err := a.st.GetLineConfig(ctx, lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID)
	if got.TemperatureC == nil || *got.TemperatureC != 80 || st != store.StateClean {
		t.Errorf("a holds temperature %v (%s); want the manager's decided 80, clean", deref(got.TemperatureC), st)
	}
}
