package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// The hub's retention (outpost-server serve runs it hourly on a hub too)
// purges what every device *of the hub* has committed; the hub's own
// upstream link is not one of them. While the link is cut, a delete made
// on site and pulled by the site's terminals is purged before it is
// pushed: central keeps the row for ever (and republishes it on its next
// change), and the edits made before the delete never reach central's
// history either.
func TestAttack_HubRetentionPurgesADeleteNotYetSentToCentral(t *testing.T) {
	const site = "plant-r"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	a2 := enrollDevice(t, hub, "line 2", site, protocol.RoleOperator)

	gone, kept := uuid.NewString(), uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(gone, "L1", 5), protocol.OpUpsert)
	a1.write(protocol.TableProductionRecords, record(kept, "L1", 5), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1, a2)

	hub.cut(true)
	// Edited twice, then deleted, on site while cut; another row edited
	// three times.
	a1.write(protocol.TableProductionRecords, record(gone, "L1", 6), protocol.OpUpsert)
	a1.write(protocol.TableProductionRecords, record(gone, "L1", 7), protocol.OpUpsert)
	a1.write(protocol.TableProductionRecords, record(gone, "L1", 7), protocol.OpDelete)
	for q := 6; q <= 8; q++ {
		a2.write(protocol.TableProductionRecords, record(kept, "L1", q), protocol.OpUpsert)
	}
	commitAll(a1, a2)
	// The hub's hourly retention runs while the link is still cut.
	if _, err := hub.srv.Engine().Purge(t.Context(), server.Retention{StaleAfter: 90 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	hub.cut(false)
	settled(t, central, hub, site)

	if row, deleted, ok := central.current(t, site, protocol.TableProductionRecords, gone); !ok || !deleted {
		t.Errorf("the record deleted on site is still live at central after the link returned (central: %v): the hub's retention purged the tombstone before pushing it", row)
	}
	for _, d := range []*device{a1, a2} {
		for _, a := range d.acked {
			if a.status == protocol.StatusApplied && !central.holdsHLC(t, site, a.key, a.hlc) {
				t.Errorf("%s's acknowledged write %s of %s is missing from central's history", a.where, a.hlc, a.key.id)
			}
		}
	}
}
