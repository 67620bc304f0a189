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
			changed, err := reEditChanged(tx, nil, tb.Name, id, "", k.h)
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

// Enrolling again re-stamps the entry of a row awaiting review (and the
// row) with the new device id, keeping time and counter (restampIDs), but
// not the conflict record, which is the server's: a re-edit made after
// that is noted under the re-stamped hlc, and a restore that loses the
// record reads the note under the record's hlc (repushSide, once the
// re-edit met the server). The note must still match: the same stamp of
// this device under a former id.
func TestReEditNote_MatchesTheReviewReStampedAtReEnrollment(t *testing.T) {
	const (
		dev1 = "3b241101-e2bb-4255-8caf-4136c566a962"
		dev2 = "8f0c2f6e-62a4-4b1e-9d55-0a8a5a1d2c11"
		dev3 = "0a1b2c3d-62a4-4b1e-9d55-0a8a5a1d2c11"
	)
	ctx := context.Background()
	s := openTest(t, Options{})
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	own := ownIDs{dev2, dev1}
	var got, other map[string]bool
	err := s.write(ctx, func(tx *wtx) error {
		if err := noteReEditFields(tx, tb.Name, "r1", "001700000000000-00003-"+dev2, []string{"name"}); err != nil {
			return err
		}
		if err := noteReEditFields(tx, tb.Name, "r2", "001700000000000-00003-"+dev2, []string{"name"}); err != nil {
			return err
		}
		var err error
		// Another device's stamp with the same time and counter is not it.
		if other, err = reEditChanged(tx, own, tb.Name, "r2", "001700000000000-00003-"+dev3); err != nil {
			return err
		}
		got, err = reEditChanged(tx, own, tb.Name, "r1", "001700000000000-00003-"+dev1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got["name"] {
		t.Errorf("the note under the re-stamped review hlc, read under the record's (former id): %v, want name", got)
	}
	if other != nil {
		t.Errorf("read under another device's stamp: %v, want nothing", other)
	}
}

// A row's note keeps an entry per review: a re-edit under a second review
// adds its fields to the first's entry too and does not replace it; a note
// as 999830a wrote it (one review) is still read.
func TestReEditNote_KeepsEveryReview(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tb, _ := protocol.NewRegistry().Lookup(protocol.TableLines)
	var first, second, old map[string]bool
	err := s.write(ctx, func(tx *wtx) error {
		if err := noteReEditFields(tx, tb.Name, "r1", "h1", []string{"name", "area"}); err != nil {
			return err
		}
		if err := noteReEditFields(tx, tb.Name, "r1", "h2", []string{"active"}); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, upsertMeta, metaReEditPrefix+tb.Name+"/r2", `{"hlc":"h1","fields":["name"]}`); err != nil {
			return err
		}
		var err error
		if second, err = reEditChanged(tx, nil, tb.Name, "r1", "h2"); err != nil {
			return err
		}
		if first, err = reEditChanged(tx, nil, tb.Name, "r1", "h1"); err != nil {
			return err
		}
		old, err = reEditChanged(tx, nil, tb.Name, "r2", "h1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 1 || !second["active"] {
		t.Errorf("second review: %v, want active", second)
	}
	if len(first) != 3 || !first["name"] || !first["area"] || !first["active"] {
		t.Errorf("first review: %v, want name, area and active (changed since its conflict)", first)
	}
	if len(old) != 1 || !old["name"] {
		t.Errorf("a one-review note: %v, want name", old)
	}
}
