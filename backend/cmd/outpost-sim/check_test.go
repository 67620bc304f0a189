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
