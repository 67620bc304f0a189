package syncclient

import (
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 999830a (issue 15, seed 3033): the re-edit under review met the
// server (accepted on theirs' version; the conflict stays open), and the
// person edited the row again afterwards: renamed it, then set the name
// back to the value theirs held. A restore that lost the record pushed
// mine again with "the later write's own changes" over it (repushSide), and
// the name, equal to theirs', took mine's older value: the person's last
// edit was nowhere on the server. Later edits add their fields to the note.
func TestRestoredServer_EditAfterAcceptedReEditToTheirsValueSurvives(t *testing.T) {
	sc := newLineScene(t)
	srv, a, b, id := sc.srv, sc.a, sc.b, sc.id
	put := func(d *device, f map[string]any) string { t.Helper(); return putLine(t, d, f) }

	put(b, map[string]any{"name": "Line L1 – packing", "area": "Hall B"})
	b.sync(t)
	put(a, map[string]any{"area": "Hall C"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's push: %+v, want a conflict", rep.PushOutcome)
	}
	put(b, map[string]any{"name": "Line L1"})
	b.sync(t)
	edit := func(k string, v any) { t.Helper(); editLine(t, a, id, k, v) }
	// Under review a deactivates the line; the re-edit is accepted.
	edit("active", false)
	a.sync(t)
	// Then, offline, a renames it and sets the name theirs held.
	edit("name", "Line L1 – north")
	edit("name", "Line L1 – packing")

	sc.restore(t)
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – packing" }) {
		t.Errorf("a's last edit (the name, set to theirs' value after an accepted re-edit) is nowhere on the restored server")
	}
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's conflicting edit (hall C) is nowhere on the restored server")
	}
}
