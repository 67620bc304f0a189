package main

import (
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// TestEditRecorded: an edit survives when some version of the row's
// history holds it, or either side of one of its conflict records: "mine"
// (the push that lost) or "theirs" (the server's version it met, perhaps
// purged since, whose loss to a manager's decision is no loss; seed 1108
// of the 89cbc57 campaign counted such an edit of a line's area as lost).
func TestEditRecorded(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	edit := map[string]any{"area": "hall 2"}
	other := map[string]any{"area": nil}
	cases := []struct {
		name  string
		h     []syncclient.HistoryEntry
		sides []map[string]any
		want  bool
	}{
		{"in the history", []syncclient.HistoryEntry{{Version: 3, Row: edit}}, nil, true},
		{"in a conflict's mine", []syncclient.HistoryEntry{{Version: 3, Row: other}}, []map[string]any{edit}, true},
		{"in a conflict's theirs, its version purged", []syncclient.HistoryEntry{{Version: 9, Row: other}}, []map[string]any{other, edit}, true},
		{"nowhere", []syncclient.HistoryEntry{{Version: 9, Row: other}}, []map[string]any{other}, false},
	}
	for _, c := range cases {
		if got := editRecorded(tb, edit, c.h, c.sides); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEditRecordedAcrossRestore: a restore truncates the rows' histories,
// so an edit the server had applied and then superseded with a later
// version (no conflict: the later writer had seen it, or won it by lww)
// is in no version and no conflict record at the end, while nothing was
// lost: the later writer pushed its own write again after the restore
// (DESIGN.md section 3). Seed 12 of the de8b859 campaign counted such an
// edit as lost. The edit is excused only when the history read just before
// the restore holds it followed by a later version whose contents are on
// the server at the end (a version or a conflict's side); anything else
// still counts as lost.
func TestEditRecordedAcrossRestore(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	edit := map[string]any{"area": "hall 2"}
	mine := map[string]any{"area": "hall 2", "updated_at": int64(10), "updated_by": "B-1"}
	later := map[string]any{"area": nil, "updated_at": int64(20), "updated_by": "B-2"}
	other := map[string]any{"area": "hall 9", "updated_at": int64(30), "updated_by": "B-3"}
	pre := []syncclient.HistoryEntry{{Version: 3, HLC: "a", Row: mine}, {Version: 4, HLC: "b", Row: later}}
	cases := []struct {
		name  string
		pre   []syncclient.HistoryEntry
		final []syncclient.HistoryEntry
		sides []map[string]any
		want  bool
	}{
		{"superseded, the later version pushed again", pre, []syncclient.HistoryEntry{{Version: 2, HLC: "b", Row: later}}, nil, true},
		{"superseded, the later version on a conflict's side", pre, []syncclient.HistoryEntry{{Version: 2, Row: other}}, []map[string]any{other, later}, true},
		{"superseded, the later version gone too", pre, []syncclient.HistoryEntry{{Version: 2, Row: other}}, []map[string]any{other}, false},
		{"the later version's fields on the server, written again later", pre,
			[]syncclient.HistoryEntry{{Version: 2, Row: map[string]any{"area": nil, "updated_at": int64(40), "updated_by": "B-2"}}}, nil, false},
		{"the last version before the restore", pre[:1], []syncclient.HistoryEntry{{Version: 2, Row: other}}, nil, false},
		{"not on the server before the restore", pre[1:], []syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
		{"only an earlier version on the server at the end", []syncclient.HistoryEntry{{Version: 3, Row: later}, {Version: 4, Row: mine}},
			[]syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
		{"no history read before a restore", nil, []syncclient.HistoryEntry{{Version: 2, Row: later}}, nil, false},
	}
	for _, c := range cases {
		if got := supersededBeforeRestore(tb, edit, c.pre, c.final, c.sides); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestForcedMoot: an operator's forced write of site data that was never
// refused is excused only when the server's final row holds every field it
// set (seed 174 on 8deb348: the timeline pass made the pending flip clean,
// equal to what the restore brought back); otherwise it is still counted.
func TestForcedMoot(t *testing.T) {
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableProducts)
	forced := map[string]any{"code": "P-100", "active": int64(1)}
	cases := []struct {
		name   string
		fields map[string]any
		final  map[string]any
		want   bool
	}{
		{"the server holds it", forced, map[string]any{"code": "P-100", "active": int64(1), "name": "x"}, true},
		{"the server holds another value", forced, map[string]any{"code": "P-100", "active": int64(0)}, false},
		{"the server has no such row", forced, nil, false},
		{"no fields recorded", nil, map[string]any{"code": "P-100", "active": int64(1)}, false},
	}
	for _, c := range cases {
		if got := forcedMoot(tb, c.fields, c.final); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
