package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review of the class5 merge chain (issue 15): a's notes are applied, b's
// later speed (made on them) carries them, and e deletes the row having
// seen both; the server is restored from a backup that holds the
// tombstone, before a pulled it. a's notes are in the tombstone: the
// restore lost nothing of a's, and the row must stay deleted with no
// conflict. Before the fix a pushed its live row over the tombstone on
// base 0: an open conflict asking a manager to bring back a row deleted
// by someone who saw a's change.
func TestRestoredServer_TombstoneHoldingCarriedOwnFieldsStaysDeleted(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	e := newDevice(t, srv, "e", "operator")

	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrTo(100.0), SpeedRPM: ptrTo(int64(100)), Notes: ptrTo("Line L3")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
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
	edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("Line L3 – assembly") })
	a.sync(t)
	b.sync(t)
	edit(b, func(in *store.LineConfigInput) { in.SpeedRPM = ptrTo(int64(0)) })
	b.sync(t)
	a.sync(t) // b's version carries a's notes
	got := liveIDs(t, a, protocol.TableLineConfigs)[lc.ID]
	if n, _ := toInt(got.Row["speed_rpm"]); n != 0 || got.Row["notes"] != "Line L3 – assembly" {
		t.Fatalf("a holds %v; the premise is b's version with a's notes", got.Row)
	}
	e.sync(t)
	if _, err := e.st.DeleteLineConfig(ctx, lc.ID); err != nil {
		t.Fatal(err)
	}
	e.sync(t)
	b.sync(t) // b holds the tombstone: not its own write any more

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
		e.sync(t)
	}
	for _, d := range []*device{a, b, e} {
		open, err := d.st.Conflicts(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 0 {
			t.Errorf("%s sees %d open conflicts; want none (the restored tombstone holds a's notes)", d.name, len(open))
		}
		c, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.DeletedAt == nil {
			t.Errorf("%s holds the row live; want it deleted", d.name)
		}
	}
}
