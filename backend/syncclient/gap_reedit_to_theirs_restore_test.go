package syncclient

import (
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
	sc := newLineScene(t)
	srv, a, b, id := sc.srv, sc.a, sc.b, sc.id
	put := func(d *device, f map[string]any) string { t.Helper(); return putLine(t, d, f) }

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
	editLineFields(t, a, id, map[string]any{"name": "Line L1 – packing"})

	sc.restore(t)
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – packing" }) {
		t.Errorf("a's last edit (the name, set under review to theirs' value) is nowhere on the restored server")
	}
	// a's conflicting edit (hall C) lived only in the lost record: it is
	// pushed again too.
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's conflicting edit (hall C) is nowhere on the restored server")
	}
}
