package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Issue 15, seed 3033 of the 848956c campaign (PostgreSQL, 17 devices):
// device 2, a manager, set line L1's name to "Line L1 – packing" while its
// row awaited review (a re-edit under review), offline while the server was
// being restored; nothing on the server held that name at the end. The
// re-edit set the name to the value theirs held, so the row after the edit
// held theirs' value there, as it does for every field the person left
// (docs/design.md section 3: a re-edit starts from theirs). The restore lost the
// conflict record (made after the backup), and the timeline pass pushed
// mine again with "the re-edit's changes" over it, told apart from theirs
// by value: the name the person had just chosen took mine's old value, and
// the device's last edit was nowhere. What the person changed is kept with
// the re-edit, so that field stays as the person left it.
func TestRestoredServer_ReEditToTheirsValueSurvives(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	s := newDevice(t, srv, "s", "manager")
	a := newDevice(t, srv, "a", "manager")
	b := newDevice(t, srv, "b", "manager")
	put := func(d *device, f map[string]any) string { t.Helper(); return putLine(t, d, f) }
	id := put(s, map[string]any{"name": "Line L1", "area": "Hall A", "active": true})
	s.sync(t)
	a.sync(t)
	b.sync(t)
	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	// After the backup: b renames the line and moves it to hall B; a,
	// which has not pulled that, moves it to hall C: a conflict on area,
	// theirs holding b's name.
	put(b, map[string]any{"name": "Line L1 – packing", "area": "Hall B"})
	b.sync(t)
	put(a, map[string]any{"area": "Hall C"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's push: %+v, want a conflict", rep.PushOutcome)
	}
	// b moves on (its last write no longer holds that name).
	put(b, map[string]any{"name": "Line L1"})
	b.sync(t)
	// Under review, a sets the name theirs showed, offline: the edit form
	// sends every field, as shown (mine), with the name changed.
	cur, err := a.st.SiteRow(ctx, protocol.TableLines, id)
	if err != nil {
		t.Fatal(err)
	}
	f := map[string]any{}
	for k, v := range cur.Fields {
		f[k] = v
	}
	delete(f, "created_at")
	delete(f, "updated_at")
	delete(f, "server_updated_at")
	f["name"] = "Line L1 – packing"
	put(a, f)

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 3; i++ {
		for _, d := range []*device{a, b, s} {
			if _, err := d.c.Sync(ctx); err != nil {
				t.Logf("%s: sync: %v", d.name, err)
			}
		}
	}
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – packing" }) {
		t.Errorf("a's last edit (the name, set under review to theirs' value) is nowhere on the restored server")
	}
	// a's conflicting edit (hall C) lived only in the lost record: it is
	// pushed again too.
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's conflicting edit (hall C) is nowhere on the restored server")
	}
}
