package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Deletes across the tiers with the link up and cut: a delete on site
// reaches central as a tombstone (op delete), a delete at central reaches
// the site's terminals, and a row deleted at central while edited on site
// (manual policy) is a conflict, never a silent resurrection or loss; every
// device converges. (Holds.)
func TestAttack_HubDeletesBothWays(t *testing.T) {
	const site = "plant-del"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	bm := enrollDevice(t, hub, "hall office", site, protocol.RoleManager)
	fromSite, fromHQ, clash := uuid.NewString(), uuid.NewString(), uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(fromSite, "L1", 1), protocol.OpUpsert)
	hq.write(protocol.TableProductionRecords, record(fromHQ, "L1", 2), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(clash, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, hq, a1, bm)

	hub.cut(true)
	a1.write(protocol.TableProductionRecords, record(fromSite, "L1", 1), protocol.OpDelete)
	hq.write(protocol.TableProductionRecords, record(fromHQ, "L1", 2), protocol.OpDelete)
	bm.write(protocol.TableLineConfigs, lineConfig(clash, "R1", 120, "start"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(clash, "R1", 100, "start"), protocol.OpDelete)
	hub.cut(false)
	settled(t, central, hub, site)

	if _, deleted, _ := central.current(t, site, protocol.TableProductionRecords, fromSite); !deleted {
		t.Error("a delete on site did not reach central")
	}
	if _, deleted, _ := hub.current(t, site, protocol.TableProductionRecords, fromHQ); !deleted {
		t.Error("a delete at central did not reach the hub")
	}
	if len(central.openAt(t, site, clash)) == 0 {
		t.Error("a row deleted at central while edited on site opened no conflict")
	}
	if _, deleted, _ := central.current(t, site, protocol.TableLineConfigs, clash); !deleted {
		t.Error("central's delete was overturned by the site's edit without a decision")
	}
	fresh := enrollDevice(t, hub, "new terminal", site, protocol.RoleOperator)
	freshHQ := enrollDevice(t, central, "new hq", site, protocol.RoleOperator)
	converge(t, 20*time.Second, freshHQ, fresh)
}
