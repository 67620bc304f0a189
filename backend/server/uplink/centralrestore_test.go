package uplink_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// restartCentral stops central, runs between on its database file, and
// serves it again at the same address.
func restartCentral(t *testing.T, c *node, between func(path string)) {
	t.Helper()
	c.srv.Close()
	c.ts.Close()
	if err := c.st.Close(); err != nil {
		t.Fatal(err)
	}
	between(c.path)
	st, err := sqlitestore.Open(context.Background(), c.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.st = st
	c.start(t, server.Config{})
}

// restoreCentral replaces central's database by backup and marks it
// restored (`outpost-server restored`), as an operator does.
func restoreCentral(t *testing.T, central *node, backup string) {
	t.Helper()
	restartCentral(t, central, func(path string) { restoreFile(t, path, backup) })
}

// Central restored from a backup while a hub is linked (design section 3's
// timelines, on the hub's link): central lost what it took after the
// backup, the site's writes included. The hub sees central's new timeline,
// asks which of its writes central still holds, sends the others again,
// and pulls the site again; nothing written on site is lost.
func TestHubs_CentralRestoredGetsTheSiteBack(t *testing.T) {
	const site = "rig-4"
	central := newNode(t, "central")
	hub := newHub(t, central, "deck", site)
	hq := enrollDevice(t, central, "office", site, protocol.RoleManager)
	op := enrollDevice(t, hub, "deck 1", site, protocol.RoleOperator)

	first := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(first, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)

	backup := central.path + ".backup"
	restartCentral(t, central, func(path string) { backupFile(t, path, backup) })

	later := []string{uuid.NewString(), uuid.NewString()}
	for i, id := range later {
		op.write(protocol.TableProductionRecords, record(id, "L2", i), protocol.OpUpsert)
	}
	op.write(protocol.TableProductionRecords, record(first, "L1", 7), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)

	restoreCentral(t, central, backup)
	// The office terminal moves to central's new timeline.
	hq.cursor, hq.versions = 0, map[rowKey]int64{}
	waitFor(t, "the site's writes back at central", func() bool {
		for _, a := range op.acked {
			if !central.holdsHLC(t, site, a.key, a.hlc) {
				return false
			}
		}
		return true
	})
	converge(t, 20*time.Second, hq, op)
	if got := hq.state()[rowKey{protocol.TableProductionRecords, first}]; !contains(got, `"quantity":7`) {
		t.Fatalf("central's office holds %s, want the site's edit made after the backup (7)", got)
	}
}
