package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
)

// Retention on a hub never purges a write central has not answered: every
// version written on site while the link is down, tombstones included,
// reaches central's history when it returns, however often the hub purged
// meanwhile.
func TestHubs_RetentionKeepsWhatCentralLacks(t *testing.T) {
	const site = "mine-2"
	central := newNode(t, "central")
	hub := newHub(t, central, "pit", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	op := enrollDevice(t, hub, "shaft", site, protocol.RoleOperator)

	id, gone := uuid.NewString(), uuid.NewString()
	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, op)
	hub.cut(true)
	for q := 1; q <= 5; q++ {
		op.write(protocol.TableProductionRecords, record(id, "L1", q), protocol.OpUpsert)
	}
	op.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	op.pull()
	op.pull() // says it committed everything: only the link holds retention back
	if _, err := hub.srv.Engine().Purge(t.Context(), server.Retention{StaleAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	hub.cut(false)
	converge(t, 20*time.Second, mgr, op)
	for _, a := range op.acked {
		if !central.holdsHLC(t, site, a.key, a.hlc) {
			t.Errorf("the site's write of %s (%s) never reached central: the hub purged it first", a.key.id, a.hlc)
		}
	}
	if got := mgr.state()[rowKey{protocol.TableProductionRecords, gone}]; !contains(got, `"deleted_at":1`) {
		t.Errorf("central holds %s, want the site's delete", got)
	}
}
