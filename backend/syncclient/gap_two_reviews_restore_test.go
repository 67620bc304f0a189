package syncclient

import (
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
	sc := newLineScene(t)
	srv, a, b, id := sc.srv, sc.a, sc.b, sc.id
	put := func(d *device, f map[string]any) string { t.Helper(); return putLine(t, d, f) }

	put(b, map[string]any{"name": "Line L1", "area": "Hall B"})
	b.sync(t)
	put(a, map[string]any{"name": "Line L1", "area": "Hall C"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's push: %+v, want a conflict", rep.PushOutcome)
	}
	edit := func(d *device, k string, v any) { t.Helper(); editLine(t, d, id, k, v) }
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

	sc.restore(t)
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – east" }) {
		t.Errorf("a's last edit (east) is nowhere on the restored server")
	}
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's first conflicting edit (hall C), undecided, is nowhere on the restored server")
	}
}
