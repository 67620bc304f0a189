package syncclient

import (
	"fmt"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 999830a (issue 15, seed 3033): the re-edit under review (the
// line renamed, and its area set to the hall theirs showed, accepting it)
// met a second conflict on the name, and the person re-edited the row under
// that review too (deactivated it). The first review's note was replaced by
// the second's, so a restore that lost both records folded the first
// record's mine back over the area the person had accepted: hall C again,
// and the person's choice nowhere on the restored server. A row's note
// keeps every review's fields.
func TestRestoredServer_ReEditUnderTwoReviewsSurvives(t *testing.T) {
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
	// Under review a renames the line and accepts theirs' hall; b renamed
	// it since: a second conflict, on the name.
	editLineFields(t, a, id, map[string]any{"name": "Line L1 – north", "area": "Hall B"})
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's re-edit: %+v, want a conflict", rep.PushOutcome)
	}
	// Under the second review a deactivates the line, offline.
	edit("active", false)

	sc.restore(t)
	if !onServer(t, srv, "c", protocol.TableLines, id, func(r protocol.Row) bool {
		a := fmt.Sprint(r["active"])
		return r["name"] == "Line L1 – north" && r["area"] == "Hall B" && (a == "0" || a == "false")
	}) {
		t.Errorf("a's last state (north, hall B accepted under the first review, inactive under the second) is nowhere on the restored server")
	}
}
