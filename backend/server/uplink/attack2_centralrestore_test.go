package uplink_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// restoreCentral replaces central's database by backup and marks it
// restored (`outpost-server restored`), as an operator does.
func restoreCentral(t *testing.T, central *node, backup string) {
	t.Helper()
	restartCentral(t, central, func(path string) {
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			os.Remove(f)
		}
		copyFile(t, backup, path)
		st, err := sqlitestore.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := server.Restored(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		st.Close()
	})
}

// A record deleted on site after central's last backup: central takes
// the delete, the hub's retention then purges the tombstone (every site
// terminal has it, central answered it: 00399d1's horizon allows it).
// Central is then restored from the backup (design section 9: central
// restored while linked "gets every site write back"). The hub resends
// its writes above central's mark from its own history, where the delete
// no longer is, and its pass from 0 brings central's live row back onto
// the site: the record deleted on site is live again everywhere.
func TestAttack2_HubRetentionThenCentralRestoredResurrectsASiteDelete(t *testing.T) {
	const site = "rig-r2"
	central := newNode(t, "central")
	hub := newHub(t, central, "deck", site)
	hq := enrollDevice(t, central, "office", site, protocol.RoleOperator)
	op := enrollDevice(t, hub, "deck 1", site, protocol.RoleOperator)

	gone := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)

	backup := central.path + ".backup"
	restartCentral(t, central, func(path string) { copyFile(t, path, backup) })

	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	converge(t, 20*time.Second, hq, op)
	settled(t, central, hub, site)
	commitAll(op)
	time.Sleep(20 * time.Millisecond)
	if _, err := hub.srv.Engine().Purge(t.Context(), server.Retention{StaleAfter: 90 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok {
		t.Skip("the hub's retention kept the tombstone; the attack needs it purged")
	}

	restoreCentral(t, central, backup)
	hq.cursor, hq.versions = 0, map[rowKey]int64{}
	// A later site write shows the link has caught up with the restore.
	marker := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(marker, "L2", 1), protocol.OpUpsert)
	waitFor(t, "the site's later write at central", func() bool {
		_, _, ok := central.current(t, site, protocol.TableProductionRecords, marker)
		return ok
	})
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)

	if row, deleted, ok := central.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("central holds the record deleted on site live again after its restore: %v", row)
	}
	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("the hub republished the record deleted on site, live, to every terminal of the site")
	}
}
