package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// A write at central that repeats a row's values under a new stamp is a
// new write: the hub takes it with its stamp (lww on site compares
// stamps), not only its version (found by the simulator's hub runs, seed
// 3: hub and central held the same values under different stamps).
func TestHubs_SameValuesNewStampIsTaken(t *testing.T) {
	const site = "yard-5"
	central := newNode(t, "central")
	hub := newHub(t, central, "gate", site)
	hq := enrollDevice(t, central, "office", site, protocol.RoleManager)
	op := enrollDevice(t, hub, "gate 1", site, protocol.RoleOperator)
	id := uuid.NewString()
	row := record(id, "L1", 4)
	hq.write(protocol.TableProductionRecords, row, protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)
	hq.write(protocol.TableProductionRecords, row, protocol.OpUpsert) // the same values, a new stamp
	want := hq.acked[len(hq.acked)-1].hlc
	waitFor(t, "central's new stamp at the hub", func() bool {
		return len(hub.rowHLCs(t, site, protocol.TableProductionRecords, id)) > 0 &&
			last(hub.rowHLCs(t, site, protocol.TableProductionRecords, id)) == want
	}, op)
}

func last(s []string) string { return s[len(s)-1] }
