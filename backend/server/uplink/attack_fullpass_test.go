package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// purgeCentral runs central's retention as if every device, the hub
// included, had been unseen for longer than --stale-after (a ship away
// for months): everything central holds as a tombstone is purged.
func purgeCentral(t *testing.T, central *node) {
	t.Helper()
	time.Sleep(20 * time.Millisecond)
	if _, err := central.srv.Engine().Purge(t.Context(), server.Retention{StaleAfter: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// A hub away longer than central's --stale-after comes back behind
// central's purge horizon: its pull gets 410 and the link restarts from
// cursor 0 ("every row central still holds comes again"). A row deleted at
// central meanwhile is not in that pass, and the link never removes what
// the pass did not bring (design section 3, "Full passes": a clean row the
// pass did not bring is removed). The site keeps the deleted record for
// ever: every terminal on site, and every new one, shows it.
func TestAttack_HubFullPassKeepsRowsDeletedAtCentral(t *testing.T) {
	const site = "plant-p"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	gone, kept := uuid.NewString(), uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	hq.write(protocol.TableProductionRecords, record(kept, "L1", 2), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)

	hub.cut(true)
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	commitAll(hq)
	purgeCentral(t, central)
	if _, _, ok := central.current(t, site, protocol.TableProductionRecords, gone); ok {
		t.Fatal("central's retention kept the tombstone; the attack needs it purged")
	}
	hub.cut(false)
	// A new write at central ends the full-pass loop (see
	// TestAttack_HubFullPassRepeatsWhileCentralsLastChangeIsPurged).
	hq.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", 3), protocol.OpUpsert)
	settled(t, central, hub, site)

	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("the hub still holds the record deleted at central as a live row after its full pass")
	}
	fresh := enrollDevice(t, hub, "new terminal", site, protocol.RoleOperator)
	fresh.pull()
	if r, ok := fresh.rows[rowKey{protocol.TableProductionRecords, gone}]; ok && r["deleted_at"] == nil {
		t.Errorf("a terminal enrolled on site after the hub's return gets the record deleted at headquarters, live")
	}
}

// A record deleted at central (tombstone purged while the hub was away)
// and edited on site meanwhile: central refuses the site's edit
// row_deleted, and the hub deletes the row on site. Design section 9:
// "Any other rejection makes the hub write central's state (a tombstone
// for row_deleted) and keep the rejected state as an open conflict it
// owns, so a manager on site decides." No conflict is recorded: the
// operator's acknowledged edit is gone from every inbox (only the hub's
// history holds it, until the hub's retention purges it).
func TestAttack_HubRowDeletedRefusalKeepsNoConflict(t *testing.T) {
	const site = "plant-d"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	id := uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(id, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)

	hub.cut(true)
	hq.write(protocol.TableProductionRecords, record(id, "L1", 1), protocol.OpDelete)
	commitAll(hq)
	purgeCentral(t, central)
	a1.write(protocol.TableProductionRecords, record(id, "L1", 40), protocol.OpUpsert)
	hub.cut(false)
	hq.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", 3), protocol.OpUpsert)
	settled(t, central, hub, site)

	if _, deleted, _ := hub.current(t, site, protocol.TableProductionRecords, id); !deleted {
		t.Fatalf("the hub did not take central's deletion")
	}
	if len(hub.openAt(t, site, id)) == 0 && len(central.openAt(t, site, id)) == 0 {
		t.Errorf("central refused the site's edit (quantity 40) row_deleted and no open conflict keeps it, at the hub or at central: the acknowledged edit is lost")
	}
}

// A hub whose cursor is below central's purge horizon restarts from 0, but
// the pass ends at the version of the last *live* row, still below the
// horizon when central's latest changes were purged tombstones: the next
// sync is refused 410 again and the hub runs a full pass on every sync,
// each rewriting every row of the site as a new hub version (which every
// terminal on site pulls again) and publishing it, which kicks the link's
// next sync at once: a hot loop until someone writes at central.
func TestAttack_HubFullPassRepeatsWhileCentralsLastChangeIsPurged(t *testing.T) {
	const site = "plant-l"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	gone := uuid.NewString()
	for i := 0; i < 5; i++ {
		hq.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", i), protocol.OpUpsert)
	}
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)
	hub.cut(true)
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	commitAll(hq)
	purgeCentral(t, central)
	hub.cut(false)
	time.Sleep(time.Second)
	before, _ := hub.st.SiteState(t.Context(), site)
	time.Sleep(2 * time.Second)
	after, _ := hub.st.SiteState(t.Context(), site)
	if after.Seq > before.Seq {
		t.Fatalf("with nothing written anywhere, the hub's sequence went from %d to %d in 2 s: it republishes the whole site on every sync", before.Seq, after.Seq)
	}
}
