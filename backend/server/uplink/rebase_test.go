package uplink_test

import (
	"fmt"
	"testing"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// managerTakesBackSiteNotes plays the scene of the take-back tests: the
// site's notes "checked valves" merged with headquarters' rate, their
// answer lost (siteNotesMergedAnswerLost); the site then writes recipe and
// notes on its own state, and headquarters' manager takes the site's
// notes back ("start") before the answers come through. It returns
// central's row and open conflicts once the link settled.
func managerTakesBackSiteNotes(t *testing.T, site, recipe, notes string) (row map[string]any, open []map[string]any) {
	t.Helper()
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")
	siteNotesMergedAnswerLost(t, central, hub, mgr, bm, site, cfg, "checked valves")
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, recipe, 100, notes), protocol.OpUpsert)
	mgr.pull()
	if r := mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("the manager's notes: %+v", r)
	}
	hub.proxy.Set(faultproxy.Faults{})
	settledTwice(t, central, hub, site)
	row, _, _ = central.current(t, site, protocol.TableLineConfigs, cfg)
	return row, central.openAt(t, site, cfg)
}

// Review of site hubs, end to end (found attacking a central-side merge
// rule that was not kept). The site manager edits the notes during a cut
// while headquarters changes the rate: central merges the site's edit, but
// the answer is lost on the link, so the site's next write (the recipe, its
// notes still its own) waits. Meanwhile headquarters' manager sees the
// site's notes and takes them back. The hub sent the recipe change as
// stored, on the row's base before the cut: central read the site's notes
// as a site edit of that base and overwrote the manager's, with no conflict
// record. The hub now sends it rebased on what central made of the notes
// edit (server/upstreammade.go): its own change is the recipe alone.
func TestRebase_ManagerTakesBackSiteNotesTheSitesNextWriteKeepsThem(t *testing.T) {
	// The site changes the recipe on its own state (notes its own).
	row, open := managerTakesBackSiteNotes(t, "plant-rv", "R2", "checked valves")
	if len(open) == 0 && row["notes"] != "start" {
		t.Fatalf("central: notes %q, recipe %v, rate %s, no open conflict; want the manager's notes \"start\" "+
			"(the site's last write did not touch them) or a conflict keeping them", row["notes"], row["recipe"], rate(row))
	}
}

// The hub is restored from a backup that held the site's first write (the
// notes) unsent; the site's recipe change RB, made after the backup, had
// reached central, then headquarters changed the rate. A site manager at
// the restored hub edits the notes on the backup's state (recipe R1). What
// the hub knew of central's answers before the backup must not make that
// edit pass for one made on RB: central keeps RB, or opens a conflict.
func TestRebase_RestoredHubDoesNotOverwriteSiteWriteCentralTook(t *testing.T) {
	const site = "plant-rv2"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "n0"), protocol.OpUpsert)
	backup := hub.path + ".backup"
	hub.restart(t, func(path string) { backupFile(t, path, backup) })
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "RB", 100, "n0"), protocol.OpUpsert)
	hub.cut(false)
	settled(t, central, hub, site)
	if row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg); row["recipe"] != "RB" {
		t.Fatalf("central never took the site's recipe: %v", row)
	}
	mgr.pull()
	if r := mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "RB", 70, "n0"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("headquarters' rate: %+v", r)
	}

	hub.restartPaused(t, func(path string) { restoreFile(t, path, backup) })
	if err := hub.link.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The site manager's terminal moves to the hub's new timeline and
	// edits the notes of the row as the restored hub holds it.
	bm.cursor, bm.versions = 0, map[rowKey]int64{}
	bm.pull()
	if r := bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "x"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("the site's notes at the restored hub: %+v", r)
	}
	hub.run(t)
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if len(open) == 0 && row["recipe"] != "RB" {
		t.Fatalf("central: recipe %v, notes %q, rate %s, no open conflict; want the site's recipe RB central took before the hub was restored "+
			"(the restored site's write changed only the notes) or a conflict keeping it", row["recipe"], row["notes"], rate(row))
	}
}

// The site's next write changes the rate, which headquarters changed too
// while the site's notes edit was on its way: no version of central holds
// the state both were made on, so the hub judges it as central would.
// Headquarters' rate goes up and stays, the site's 90 is kept in one open
// conflict the hub owns (a manager on site decides; central holds the
// record too), and hub and terminal end at central's row.
func TestRebase_SiteNextWriteOnAFieldHeadquartersChangedIsAConflict(t *testing.T) {
	const site = "plant-rv3"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	siteNotesMergedAnswerLost(t, central, hub, mgr, bm, site, cfg, "checked valves")
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 90, "checked valves"), protocol.OpUpsert)
	hub.proxy.Set(faultproxy.Faults{})
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if len(open) != 1 || rate(row) != "70" || row["notes"] != "checked valves" {
		t.Fatalf("central: rate %s, notes %q, %d open conflict(s) (fields %v); want headquarters' rate 70 kept, the site's 90 in one open conflict, the site's notes",
			rate(row), row["notes"], len(open), fieldsOf(open))
	}
	if f := fieldsOf(open); len(f) != 1 || fmt.Sprint(f[0]) != "[target_rate_per_hour]" {
		t.Errorf("the conflict's fields: %v; want the rate alone", f)
	}
	mine, _ := open[0]["mine"].(map[string]any)
	if open[0]["owner"] != hub.link.Identity().Device || mine == nil || rate(mine) != "90" {
		t.Errorf("the conflict: owner %v, mine %v; want the hub's, with the site's rate 90", open[0]["owner"], mine)
	}
	hrow, _, _ := hub.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(hrow) != "70" || hrow["notes"] != "checked valves" {
		t.Errorf("hub: rate %s, notes %q; want central's row", rate(hrow), hrow["notes"])
	}
}
