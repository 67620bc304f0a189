package uplink_test

import (
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Second review of a hub's write rebased on what central made of the row's
// previous write (server/upstreammade.go).

// The site edits the notes during a cut while headquarters changes the
// rate (70); central merges the notes (V2) and the hub records it. Before
// the hub pulls, headquarters' manager puts the line back as it was before
// the cut (notes "start", rate 100: the site's notes taken back), and the
// site changes the rate (90). The rate write cannot be rebased on the
// record (the record says central changed the rate too). It went up as
// stored on the pre-cut base, where the notes were "start" and the rate
// 100, as on central now: central found no conflict, read the site's old
// notes in the write ("one") as the site's change since then and applied
// them over the manager's take-back, with no conflict record. The hub now
// judges that conflict itself: central's rate goes up on V2 (central sees
// no change of the site's and keeps the manager's row), the site's 90 in a
// conflict the hub owns.
func TestReview2Rebase_UnrebasableWriteOnFallbackOverturnsManagersTakeBack(t *testing.T) {
	const site = "plant-r2a"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	siteNotesMergedByHand(t, hub, mgr, bm, cfg, "one")
	// Headquarters' manager puts the line back as it was before the cut:
	// the site's notes taken back, and its own rate too.
	mgr.pull()
	if r := mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("the manager's take-back: %+v", r)
	}
	// The site changes the rate (its own state: rate 100, notes "one").
	if r := bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 90, "one"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("the site's rate: %+v", r)
	}
	res := upstreamStepByHand(t, hub)
	t.Logf("central's answer to the site's rate: %+v", res)
	hub.run(t)
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	notesInConflict := false
	for _, f := range fieldsOf(open) {
		if fs, ok := f.([]any); ok {
			for _, n := range fs {
				notesInConflict = notesInConflict || n == "notes"
			}
		}
	}
	if row["notes"] != "start" && !notesInConflict {
		t.Fatalf("central: notes %q, rate %s, %d open conflict(s) (fields %v); want the manager's notes \"start\" "+
			"(the site's rate write did not change them) or a conflict on the notes", row["notes"], rate(row), len(open), fieldsOf(open))
	}
}

// Guard: two site writes of the row go up in one batch, both rebased on
// the record of the merged answer (both on its version): central takes
// them in order, headquarters' rate kept, no conflict.
func TestReview2Rebase_TwoSiteWritesInOneBatchBothRebased(t *testing.T) {
	const site = "plant-r2b"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	siteNotesMergedByHand(t, hub, mgr, bm, cfg, "one")
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "two"), protocol.OpUpsert)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R2", 100, "two"), protocol.OpUpsert)
	res := upstreamStepByHand(t, hub)
	t.Logf("central's answers: %+v", res)
	hub.run(t)
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if len(open) != 0 || rate(row) != "70" || row["notes"] != "two" || row["recipe"] != "R2" {
		t.Fatalf("central: recipe %v, rate %s, notes %q, %d open conflict(s) (fields %v); want R2, 70, \"two\", no conflict",
			row["recipe"], rate(row), row["notes"], len(open), fieldsOf(open))
	}
	hrow, _, _ := hub.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(hrow) != "70" || hrow["notes"] != "two" || hrow["recipe"] != "R2" {
		t.Fatalf("hub: recipe %v, rate %s, notes %q; want central's R2, 70, \"two\"", hrow["recipe"], rate(hrow), hrow["notes"])
	}
}
