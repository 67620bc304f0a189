package syncclient

import (
	"fmt"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 999830a (issue 15, seed 3033): the note of the fields a re-edit
// under review changed was written by the first edit under review only
// (beforeEdit starts from theirs once; a later edit starts from the row). A
// person who re-edits one field, then sets another to something else and
// back to the value theirs holds, leaves that field holding theirs' value
// with no note: a restore that loses the conflict record pushed mine again
// with the person's last choice replaced by mine's older value.
func TestRestoredServer_SeveralReEditsToTheirsValueSurvive(t *testing.T) {
	sc := newLineScene(t)
	srv, a, b, id := sc.srv, sc.a, sc.b, sc.id
	put := func(d *device, f map[string]any) string { t.Helper(); return putLine(t, d, f) }

	// After the backup: b renames the line and moves it to hall B; a moves
	// it to hall C: a conflict on area, theirs holding b's name.
	put(b, map[string]any{"name": "Line L1 – packing", "area": "Hall B"})
	b.sync(t)
	put(a, map[string]any{"area": "Hall C"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's push: %+v, want a conflict", rep.PushOutcome)
	}
	put(b, map[string]any{"name": "Line L1"})
	b.sync(t)
	// Under review, offline, a edits three times through the form (every
	// field sent as shown): it deactivates the line; renames it; then sets
	// the name theirs showed.
	edit := func(k string, v any) { t.Helper(); editLine(t, a, id, k, v) }
	edit("active", false)
	edit("name", "Line L1 – north")
	edit("name", "Line L1 – packing")

	sc.restore(t)
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool { return r["name"] == "Line L1 – packing" }) {
		t.Errorf("a's last edit (the name, set under review to theirs' value after another) is nowhere on the restored server")
	}
	if !onServer(t, srv, "d", protocol.TableLines, id, func(r protocol.Row) bool { a := fmt.Sprint(r["active"]); return a == "0" || a == "false" }) {
		t.Errorf("a's first re-edit (inactive) is nowhere on the restored server")
	}
	if !onServer(t, srv, "e", protocol.TableLines, id, func(r protocol.Row) bool { return r["area"] == "Hall C" }) {
		t.Errorf("a's conflicting edit (hall C) is nowhere on the restored server")
	}
}
