package uplink_test

import (
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Second review of site hubs (issue 19).
//
// A site manager corrects the same field twice during a cut (notes
// "checked valves", then "checked valves twice"); central's manager changes
// another field (the rate) meanwhile. A device doing this offline against
// central holds one pending state (design section 3) and is merged
// cleanly: rate 70, notes "checked valves twice". Through a hub, each
// site version goes up as its own change, every one on the row's base
// before the cut (UpstreamBatch's base, kept since 3a5ec18 when central
// answers the first one merged). Central merged the first edit, then
// judged the second one three-way against the pre-cut base: its notes
// differed from the merged row's notes, which were the site's own first
// edit, so it opened a conflict of the site against itself, and central
// and every terminal on site showed the first edit's notes until a
// manager decided. The hub now sends the second edit rebased on what
// central made of the first (server/upstreammade.go).
func TestAttack2_HubTwoEditsOfOneFieldDuringCutConflictWithThemselves(t *testing.T) {
	const site = "plant-s2"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves"), protocol.OpUpsert)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves twice"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	hub.cut(false)
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if len(open) != 0 || rate(row) != "70" || row["notes"] != "checked valves twice" {
		t.Fatalf("central after two site edits of the notes and headquarters' rate change: rate %s, notes %q, %d open conflict(s) (fields %v); "+
			"want rate 70, notes \"checked valves twice\", no conflict (what a device offline against central gets)",
			rate(row), row["notes"], len(open), fieldsOf(open))
	}
}

func fieldsOf(recs []map[string]any) []any {
	var out []any
	for _, r := range recs {
		out = append(out, r["fields"])
	}
	return out
}
