package syncclient

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 999830a (issue 15, seed 3033): a row with two open conflicts of
// this device. The first (hall C) was re-edited under review; the re-edit
// started from theirs and was accepted, so the row no longer carries hall
// C, which lives only in the first record. A later push of the row met
// another conflict. A restore to a backup taken before both loses both
// records; hall C, an undecided edit, must reach the server again.
func TestRestoredServer_EarlierOpenConflictUnderLaterReviewSurvives(t *testing.T) {
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

	put(b, map[string]any{"name": "Line L1", "area": "Hall B"})
	b.sync(t)
	put(a, map[string]any{"name": "Line L1", "area": "Hall C"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's push: %+v, want a conflict", rep.PushOutcome)
	}
	edit := func(d *device, k string, v any) {
		t.Helper()
		cur, err := d.st.SiteRow(ctx, protocol.TableLines, id)
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
		f[k] = v
		put(d, f)
	}
	// Under review, a renames the line: the re-edit is accepted.
	edit(a, "name", "Line L1 – north")
	a.sync(t)
	// b renames it too; a, not having pulled that, renames it again: a
	// second conflict, on the name.
	b.sync(t)
	edit(b, "name", "Line L1 – south")
	b.sync(t)
	edit(a, "name", "Line L1 – east")
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's second push: %+v, want a conflict", rep.PushOutcome)
	}

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
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – east" }) {
		t.Errorf("a's last edit (east) is nowhere on the restored server")
	}
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's first conflicting edit (hall C), undecided, is nowhere on the restored server")
	}
}
