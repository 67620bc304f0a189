package uplink_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// The hub's own write comes back from central (an echo) with other values
// than the hub holds: central answered it applied but kept its own
// created_at for a row it held (the simulator's hub runs, seed 405: a
// person created on site and at headquarters with one badge). The hub
// takes central's state instead of skipping it as an echo; skipped, hub and
// central held one stamp with two created_at for good.
func TestHubs_EchoWithOtherValuesIsTaken(t *testing.T) {
	const site = "quay-6"
	central := newNode(t, "central")
	hub := newHub(t, central, "quay", site)
	op := enrollDevice(t, hub, "quay 1", site, protocol.RoleOperator)
	id := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(id, "L1", 3), protocol.OpUpsert)
	waitFor(t, "the write at central", func() bool { return len(central.rowHLCs(t, site, protocol.TableProductionRecords, id)) == 1 })
	// Its answer taken too: stopped before, the write would still wait
	// and the republish below hold central's change instead of taking it.
	settled(t, central, hub, site)
	hub.stop() // the link stops: the echo is played by hand
	ctx := context.Background()
	eng := hub.srv.Engine()
	ident := hub.link.Identity()
	h, err := hub.st.History(ctx, site, protocol.TableProductionRecords, id)
	if err != nil || len(h) == 0 {
		t.Fatalf("hub history: %v", err)
	}
	cur := h[len(h)-1]
	var row protocol.Row
	if err := json.Unmarshal(cur.Data, &row); err != nil {
		t.Fatal(err)
	}
	row["created_at"] = time.Now().Add(-time.Hour).UnixMilli() // central's own created_at
	tx, err := hub.st.Begin(ctx, site)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SetMeta(ctx, "up/echo/"+protocol.TableProductionRecords+"/"+id, []byte("4242")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	cursor, _ := eng.UpstreamCursor(ctx, site)
	page := protocol.PullResponse{Changes: []protocol.PullChange{{Table: protocol.TableProductionRecords, ID: id, Version: 4242, HLC: cur.HLC, Row: row}}, Cursor: cursor}
	if _, err := eng.Republish(ctx, site, ident.Device, page); err != nil {
		t.Fatal(err)
	}
	h, _ = hub.st.History(ctx, site, protocol.TableProductionRecords, id)
	var got protocol.Row
	if err := json.Unmarshal(h[len(h)-1].Data, &got); err != nil {
		t.Fatal(err)
	}
	if got["created_at"] != row["created_at"].(int64) && got["created_at"] != float64(row["created_at"].(int64)) {
		t.Fatalf("the hub kept created_at %v, central holds %v", got["created_at"], row["created_at"])
	}
}
