package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Central refuses row_deleted (its tombstone purged) two site writes of a
// line configuration deleted at headquarters during a cut: a site
// manager's edit, and the merge the hub made of it with another site
// manager's concurrent edit (stamped with the hub's own hlc since
// fbf0d7b). The hub keeps each refused state as an open conflict it owns
// (refusedRecord), whose writer is the hlc's node: for the merge, the hub
// itself. A record written by the hub's own id counts as central's state
// republished (isLocal), so UpstreamBatch never sends it: headquarters'
// inbox lacks the conflict holding both site edits together (design
// section 9: "the record reaches central with the hub's writes").
func TestAttack2_HubRefusedMergeRecordNeverReachesCentral(t *testing.T) {
	const site = "plant-x2"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	b1 := enrollDevice(t, hub, "hall office", site, protocol.RoleManager)
	b2 := enrollDevice(t, hub, "hall desk", site, protocol.RoleManager)
	cfg := uuid.NewString()
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, b1, b2)

	hub.cut(true)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpDelete)
	commitAll(mgr)
	purgeCentral(t, central)
	if _, _, ok := central.current(t, site, protocol.TableLineConfigs, cfg); ok {
		t.Fatal("central's retention kept the tombstone; the attack needs it purged")
	}
	b1.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves"), protocol.OpUpsert)
	if res := b2.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 80, "start"), protocol.OpUpsert); res.Status != protocol.StatusMerged {
		t.Fatalf("the hub answered %s; the attack needs its merge", res.Status)
	}
	hub.cut(false)
	mgr.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", 1), protocol.OpUpsert) // central's last change not a purged tombstone
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	atHub, atCentral := hub.openAt(t, site, cfg), central.openAt(t, site, cfg)
	if len(atHub) < 2 {
		t.Fatalf("the hub holds %d open record(s) about the refused writes; the attack needs one per refused write", len(atHub))
	}
	if len(atCentral) != len(atHub) {
		t.Fatalf("the hub holds %d open records about the site's refused writes, central %d: a record the hub owns never reached headquarters", len(atHub), len(atCentral))
	}
}
