package app

import (
	"encoding/json"
	"testing"
)

// TestConflictService_DecidedOffline: a resolved conflict carries the row
// version its decision made and, while the local row is clean at that
// version, the decided row itself, read from this computer: the inbox shows
// the decision with the network cut. The row edited here since, or moved on
// on the server since, gives no decided row (only the server's history
// holds it then); an open conflict gives none either.
func TestConflictService_DecidedOffline(t *testing.T) {
	url, codeA := startServer(t)
	db := lastServerDB
	bNet := &cuttable{}
	a := newDevice(t, url, codeA)
	b := newDevice(t, url, enrollCode(t, db, "manager"), bNet)
	for _, d := range []device{a, b} {
		eventually(t, "enrollment", func() bool { st, err := d.sync.Status(); return err == nil && st.Enrolled && st.Online })
	}
	temp := func(v float64) *float64 { return &v }
	lc, err := a.lines.Create(LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(180)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B to pull the line config", func() bool { _, err := b.lines.Get(lc.ID); return err == nil })

	find := func(d device, status string) (Conflict, bool) {
		t.Helper()
		cs, err := d.conflicts.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.RowID == lc.ID && c.Status == status {
				return c, true
			}
		}
		return Conflict{}, false
	}

	// A manual conflict: A edits offline, B's edit reaches the server first.
	a.sync.Shutdown()
	if _, err := a.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(185)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(190)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's edit on the server", func() bool { st, _ := b.sync.Status(); return st.Pending == 0 && st.InFlight == 0 })
	if _, err := a.sync.SyncNow(); err != nil {
		t.Fatal(err)
	}
	var open Conflict
	eventually(t, "the open conflict in A's inbox", func() bool { var ok bool; open, ok = find(a, "open"); return ok })
	if open.Decided != nil || open.RowVersion != open.TheirsVersion {
		t.Fatalf("open conflict: rowVersion %d (theirs %d), decided %v", open.RowVersion, open.TheirsVersion, open.Decided)
	}

	chosen := map[string]any{}
	for k, v := range open.Theirs.(map[string]any) {
		chosen[k] = v
	}
	chosen["temperature_c"] = 187.5
	if state, err := a.conflicts.Resolve(open.ID, chosen, open.TheirsVersion, "summer recipe"); err != nil || state != "sent" {
		t.Fatalf("resolve: %q, %v", state, err)
	}
	if _, err := a.sync.SyncNow(); err != nil {
		t.Fatal(err)
	}
	decided := func(c Conflict) map[string]any { m, _ := c.Decided.(map[string]any); return m }
	var onB Conflict
	eventually(t, "B to take the decision", func() bool {
		var ok bool
		onB, ok = find(b, "resolved")
		return ok && decided(onB) != nil
	})

	// B offline: the decision is still shown, from local data alone.
	bNet.down.Store(true)
	if _, err := b.conflicts.History("line_configs", lc.ID); err == nil {
		t.Fatal("History answered with the network cut")
	}
	onB, _ = find(b, "resolved")
	row := decided(onB)
	if onB.RowVersion <= open.TheirsVersion || row == nil || row["temperature_c"] != 187.5 || row["recipe"] != "R" || row["id"] != lc.ID {
		t.Fatalf("resolved conflict offline on B: rowVersion %d, decided %v", onB.RowVersion, onB.Decided)
	}
	// The same state the server's history keeps at that version.
	hist, err := a.conflicts.History("line_configs", lc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var atDecision map[string]any
	for _, h := range hist {
		if h.Version == onB.RowVersion {
			atDecision, _ = h.Row.(map[string]any)
		}
	}
	if atDecision == nil {
		t.Fatalf("the server's history has no version %d: %+v", onB.RowVersion, hist)
	}
	for _, f := range []string{"id", "line_id", "recipe", "temperature_c", "target_rate_per_hour", "speed_rpm", "notes", "deleted_at"} {
		if js(t, atDecision[f]) != js(t, row[f]) {
			t.Fatalf("%s: decided row on B has %v, the server's version %d %v", f, row[f], onB.RowVersion, atDecision[f])
		}
	}
	if onA, _ := find(a, "resolved"); decided(onA) == nil || onA.RowVersion != onB.RowVersion {
		t.Fatalf("resolved conflict on A: rowVersion %d (B %d), decided %v", onA.RowVersion, onB.RowVersion, onA.Decided)
	}

	// Edited on B since (pending): the local row is no longer the decision.
	if _, err := b.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: temp(186)}); err != nil {
		t.Fatal(err)
	}
	if c, _ := find(b, "resolved"); c.Decided != nil || c.RowVersion != onB.RowVersion {
		t.Fatalf("after a local edit: rowVersion %d, decided %v", c.RowVersion, c.Decided)
	}

	// Moved on on the server since (A's own later edit, synced: clean at a
	// newer version): not the decision either.
	if _, err := a.lines.Update(lc.ID, LineConfigInput{LineID: "L1", Recipe: "R3", TemperatureC: temp(187.5)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A's later edit accepted", func() bool {
		st, err := a.sync.SyncNow()
		return err == nil && st.Pending == 0 && st.InFlight == 0
	})
	if c, _ := find(a, "resolved"); c.Decided != nil || c.RowVersion != onB.RowVersion {
		t.Fatalf("after the row moved on: rowVersion %d, decided %v", c.RowVersion, c.Decided)
	}
}

// js is v as JSON: the WebView's view of a value (a number read from the
// local database and one decoded from the server compare equal).
func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
