package uplink_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// Review of the first version of a hub's next write rebased on what
// central made of the previous one (server/upstreammade.go): each test
// failed on it, and passes now.

// newNodeWith is newNode served with cfg (a central with its own MaxSkew).
func newNodeWith(t *testing.T, name string, cfg server.Config) *node {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".db")
	st, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := &node{name: name, st: st, path: path}
	n.start(t, cfg)
	return n
}

// thirdEditHeldClockAhead plays the scene of the two tests below, with a
// central allowing 1 s of clock skew: the site's notes "one" merged with
// headquarters' rate, their answer lost (siteNotesMergedAnswerLost); the
// site then writes second (recipe, notes), and third from a terminal whose
// clock is 6 s ahead, which central refuses clock_ahead for about 5 s.
// Once central took second, headquarters' manager writes hq (recipe,
// notes) on it; third goes up again after. It returns central's row and
// open conflicts, or skips the test when third reached central before
// headquarters' write (the race the scene needs was lost).
func thirdEditHeldClockAhead(t *testing.T, site string, second, third, hq [2]string) (row map[string]any, open []map[string]any) {
	t.Helper()
	central := newNodeWith(t, "central", server.Config{MaxSkew: time.Second})
	hub := newHub(t, central, "hall", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	bm := enrollDevice(t, hub, "hall office", site, protocol.RoleManager)
	cfg := uuid.NewString()
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, bm)

	siteNotesMergedAnswerLost(t, central, hub, mgr, bm, site, cfg, "one")
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, second[0], 100, second[1]), protocol.OpUpsert)
	ahead := time.Now()
	bm.last = ahead.UnixMilli() + 6000
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, third[0], 100, third[1]), protocol.OpUpsert)
	hub.proxy.Set(faultproxy.Faults{})
	waitCentral(t, central, site, cfg, "took the site's second write", func(r map[string]any) bool {
		return r["recipe"] == second[0] && r["notes"] == second[1]
	})
	mgr.pull()
	if r := mgr.write(protocol.TableLineConfigs, lineConfig(cfg, hq[0], 70, hq[1]), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("headquarters' write: %+v", r)
	}
	if row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg); row["notes"] != hq[1] || time.Since(ahead) > 4*time.Second {
		t.Skipf("the third edit reached central before headquarters' write (%v): the race this test needs was lost", row)
	}
	time.Sleep(time.Until(ahead.Add(6500 * time.Millisecond)))
	settledTwice(t, central, hub, site)
	row, _, _ = central.current(t, site, protocol.TableLineConfigs, cfg)
	return row, central.openAt(t, site, cfg)
}

// The site edits the notes three times while its first edit's answer is
// lost (headquarters changed the rate meanwhile, so central merged it and
// the hub keeps what central made of it). The second and third edits go
// up in one batch, both rebased on that answer's version V1; central takes
// the second (applied, V2) but refuses the third clock_ahead. Headquarters
// then changes the recipe (V3). The hub's record of central's answer was
// updated only on the row's last result of a batch (the refused one), so
// the third edit went up again rebased on V1: central judged it three-way
// on V1 against the site's own second edit and opened a conflict of the
// site with itself. Each answered result now updates it.
func TestReviewRebase_ClockAheadAfterAppliedInBatchConflictsWithItself(t *testing.T) {
	row, open := thirdEditHeldClockAhead(t, "plant-rr1", [2]string{"R1", "two"}, [2]string{"R1", "three"}, [2]string{"R2", "two"})
	if len(open) != 0 || row["notes"] != "three" || row["recipe"] != "R2" || rate(row) != "70" {
		t.Fatalf("central: recipe %v, rate %s, notes %q, %d open conflict(s) (fields %v); want recipe R2, rate 70, notes \"three\", no conflict "+
			"(the site's third edit was made on its second, which central holds)", row["recipe"], rate(row), row["notes"], len(open), fieldsOf(open))
	}
}

// As above, but the site's second edit changes the recipe (R2) and its
// third, refused clock_ahead, the notes; headquarters' manager sees the
// site's recipe and takes it back (R1) before the third edit is sent
// again. Rebased on the stale record's V1, where the recipe was R1, the
// site's R2 in it read as the site's own change since V1 and was written
// over the manager's, with no conflict record.
func TestReviewRebase_ClockAheadAfterAppliedInBatchOverwritesManagersTakeBack(t *testing.T) {
	row, open := thirdEditHeldClockAhead(t, "plant-rr2", [2]string{"R2", "one"}, [2]string{"R2", "three"}, [2]string{"R1", "one"})
	if len(open) == 0 && row["recipe"] != "R1" {
		t.Fatalf("central: recipe %v, rate %s, notes %q, no open conflict; want the manager's recipe R1 "+
			"(the site's last write changed only the notes) or a conflict keeping it", row["recipe"], rate(row), row["notes"])
	}
}

// Guard (failed before hubs rebased): the site edits the notes during a cut
// while headquarters changes the rate; central merges the edit but the
// answer is lost, and the site edits the notes again. Headquarters'
// manager sees the site's first notes and takes them back ("start"). The
// second site edit goes up rebased on central's merged version (the
// answer replayed is the one central gave then), so central sees both
// changes of the notes and opens a conflict instead of writing the site's
// notes over the manager's.
func TestReviewRebase_SiteSecondEditOfNotesTheManagerTookBackIsAConflict(t *testing.T) {
	row, open := managerTakesBackSiteNotes(t, "plant-rr3", "R1", "checked valves twice")
	if len(open) == 0 && row["notes"] != "start" {
		t.Fatalf("central: notes %q, rate %s, no open conflict; want the manager's notes \"start\" kept in the row "+
			"or beside the site's in a conflict (both changed them from \"checked valves\")", row["notes"], rate(row))
	}
}

// upstreamStepByHand sends the hub's batch to central and takes the
// answer, as the link's push does, with the link stopped: nothing is
// pulled after it.
func upstreamStepByHand(t *testing.T, hub *node) []protocol.PushResult {
	t.Helper()
	e, id := hub.srv.Engine(), hub.link.Identity()
	body, ok, err := e.UpstreamBatch(t.Context(), id.Site, id.Device, 100)
	if err != nil || !ok {
		t.Fatalf("hub batch: %v, %v", ok, err)
	}
	resp, err := upstreamAPI(t, hub).Push(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.UpstreamAnswer(t.Context(), id.Site, id.Device, resp); err != nil {
		t.Fatal(err)
	}
	return resp.Results
}

// Central merges the site's notes edit with headquarters' rate change and
// answers the hub "merged". The hub leaves the merged row for its pull,
// but the row's base is central's merged version at once. A site write
// made in between (on the site's state, rate still 100: on a slow link the
// pull takes seconds) went up as stored on that version: central took it
// as made on its merged row and applied it, headquarters' rate silently
// lost, no conflict record (before hubs rebased too). The hub now keeps
// what central made of the notes until it takes central's row.
func TestReviewRebase_SiteWriteBeforeThePullAfterAMergedAnswerOverwritesHeadquarters(t *testing.T) {
	const site = "plant-rr4"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	siteNotesMergedByHand(t, hub, mgr, bm, cfg, "checked valves")
	// The site changes the recipe before the hub pulled the merged row.
	if r := bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R2", 100, "checked valves"), protocol.OpUpsert); r.Status != protocol.StatusApplied {
		t.Fatalf("the site's recipe: %+v", r)
	}
	hub.run(t)
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if len(open) == 0 && rate(row) != "70" {
		t.Fatalf("central: recipe %v, rate %s, notes %q, no open conflict; want headquarters' rate 70 "+
			"(the site's recipe write did not change the rate) or a conflict keeping it", row["recipe"], rate(row), row["notes"])
	}
}

// buildByHand persists the hub's next batch (the link stopped);
// upstreamStepByHand then sends it and takes central's answer.
func buildByHand(t *testing.T, hub *node) {
	t.Helper()
	e, id := hub.srv.Engine(), hub.link.Identity()
	if _, ok, err := e.UpstreamBatch(t.Context(), id.Site, id.Device, 100); err != nil || !ok {
		t.Fatalf("hub batch: %v, %v", ok, err)
	}
}

// Headquarters changes the rate and the temperature during a cut while
// the site edits the notes (W1); central merges W1 and the hub records
// what central made of it, a site recipe change (W2) waiting. W2 goes up
// rebased and is applied (V2), a site rate change (W3, made on W2, so on
// the site's rate 100 and temperature 21.5) waiting: the hub records V2
// and moves the row's base to V2. W3 changed the rate, which central's
// state changed too, so it cannot be rebased and goes up "as stored, for
// central to judge" — it went up on V2, whose rate and temperature are
// already headquarters': central applied it as made on V2, and
// headquarters' temperature (which no site write touched) and rate were
// silently replaced by the site's old values. It now goes up on the
// pre-cut base (the last version the site's states descend from) and
// central opens a conflict on the rate, keeping both.
func TestReviewRebase_UnrebasableWriteAfterAppliedRebasedOneOverwritesHeadquarters(t *testing.T) {
	const site = "plant-rr5"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.cut(true)
	hub.restartPaused(t, func(string) {})
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves"), protocol.OpUpsert)
	hq := lineConfig(cfg, "R1", 70, "start")
	hq["temperature_c"] = 30.5
	mgr.write(protocol.TableLineConfigs, hq, protocol.OpUpsert)
	hub.cut(false)

	buildByHand(t, hub) // W1
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R2", 100, "checked valves"), protocol.OpUpsert)
	if res := upstreamStepByHand(t, hub); len(res) != 1 || res[0].Status != protocol.StatusMerged {
		t.Fatalf("central's answer to the notes: %+v; want merged", res)
	}
	buildByHand(t, hub) // W2, rebased
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R2", 90, "checked valves"), protocol.OpUpsert)
	res := upstreamStepByHand(t, hub)
	t.Logf("central's answer to the recipe: %s", res[0].Status)
	hub.run(t)
	settledTwice(t, central, hub, site)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	open := central.openAt(t, site, cfg)
	if row["temperature_c"] != 30.5 || (len(open) == 0 && rate(row) != "70") {
		t.Fatalf("central: recipe %v, rate %s, temperature %v, notes %q, %d open conflict(s) (fields %v); want headquarters' temperature 30.5 "+
			"(no site write changed it) and its rate 70, or the site's 90 beside it in a conflict", row["recipe"], rate(row), row["temperature_c"], row["notes"], len(open), fieldsOf(open))
	}
}
