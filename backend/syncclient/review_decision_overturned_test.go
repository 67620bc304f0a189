package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/store"
)

// Review finding: a's manual edit 120 met b's 80; the manager decided for
// 80 (against 120). The backup predates all of it, and the row's last
// write in the backup is a's own (a created the line config). After the
// marked restore, a's timeline pass re-pushes 120 on base 0 with a fresh
// hlc (restoredmine.go: "manual as a three-way merge with no base (a field
// that differs is an open conflict for the manager)"). But the server's
// "a device never conflicts with itself" rule applies to base 0 too: the
// restored row was last written by a, so 120 is APPLIED silently. Until the
// manager's own device comes back and pushes its decision again, the site
// runs on the very value the manager decided against, with no open
// conflict anywhere.
func TestReview_RestoreSilentlyReappliesDecidedAgainstEdit(t *testing.T) {
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

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	// The manager's computer is off for the day; a and b sync.
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	got, err := c.st.GetLineConfig(ctx, lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	openNow, err := c.st.Conflicts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.TemperatureC != nil && *got.TemperatureC == 120 && len(openNow) == 0 {
		t.Errorf("the server's live temperature is 120, the value the manager decided against, and no conflict is open for anyone to decide")
	}
}
