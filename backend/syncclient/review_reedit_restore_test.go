package syncclient

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review finding: a's manual edit (temperature 120) meets b's 80 and is an
// OPEN conflict: the manager has not decided yet. a then re-edits another
// field (notes) while the row awaits review; by the re-edit rules that edit
// starts from theirs (80), so 120 lives only in the open conflict record's
// "mine". The server is restored from a backup taken before all of it. The
// restore drops the record; a's repush of "mine" (restoredmine.go) is
// skipped because the row has "a later local edit of its own" — but that
// later edit does not carry 120. 120 is then nowhere, and the manager never
// got to decide on it (invariant 1).
func TestReview_RestoreLosesOpenConflictMineAfterReEdit(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

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
	a.sync(t)
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateAwaitingReview {
		t.Fatalf("a's row is %s, want awaiting review", st)
	}
	// Re-edit under review: only the notes.
	edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("checked") })
	a.sync(t)
	b.sync(t)

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	temp := func(v float64) func(protocol.Row) bool {
		return func(r protocol.Row) bool {
			switch x := r["temperature_c"].(type) {
			case float64:
				return x == v
			case json.Number:
				f, err := x.Float64()
				return err == nil && f == v
			}
			return false
		}
	}
	if !onServer(t, srv, "c", protocol.TableLineConfigs, lc.ID, temp(120)) {
		t.Errorf("a's temperature 120 (an open conflict, never decided) is nowhere on the restored server after a's re-edit of the notes")
	}
}
