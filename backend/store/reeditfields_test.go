package store

import (
	"context"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// A re-edit's note (reeditfields.go) keeps, over mine, the fields the
// re-edit changed to theirs' value; a note of another review (another
// hlc) changes nothing, and a note is read once.
func TestReEditNote_KeepsOnlyTheReviewsOwnChanges(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	mine := map[string]any{"name": "Line L1", "area": "Hall C"}
	theirs := map[string]any{"name": "Line L1 – packing", "area": "Hall B"}
	row := map[string]any{"name": "Line L1 – packing", "area": "Hall B"} // the re-edit: name set to theirs'
	got := map[string]map[string]any{}
	err := s.write(ctx, func(tx *wtx) error {
		if err := noteReEditFields(tx, tb.Name, "r1", "h-mine", []string{"name"}); err != nil {
			return err
		}
		if err := noteReEditFields(tx, tb.Name, "r2", "h-other", []string{"name"}); err != nil {
			return err
		}
		for _, k := range []struct{ id, h string }{{"r1", "h-mine"}, {"r2", "h-mine"}, {"r1#again", "h-mine"}} {
			id := k.id
			if id == "r1#again" {
				id = "r1"
			}
			changed, err := reEditChanged(tx, tb.Name, id, "", k.h)
			if err != nil {
				return err
			}
			got[k.id] = overlayOwnChanges(tb, mine, theirs, row, changed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g := got["r1"]; g["name"] != "Line L1 – packing" || g["area"] != "Hall C" {
		t.Errorf("noted re-edit: %v; want the name the person chose, mine's area (left as theirs)", g)
	}
	for _, k := range []string{"r2", "r1#again"} {
		if g := got[k]; g["name"] != "Line L1" || g["area"] != "Hall C" {
			t.Errorf("%s (another review's note, or one already read): %v; want mine's values where the row holds theirs'", k, g)
		}
	}
}
