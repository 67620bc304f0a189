package uplink_test

import (
	"context"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
)

// When the link to central goes down or comes back, the hub wakes its
// site's event streams even though nothing was written: the terminals read
// the link's state in the hub's health after a sync, and a terminal sends
// the decisions the hub answered 503 upstream_unavailable for while cut off
// on its next sync, which, without news, came only with its poll (a minute
// in the real window, found by .ci/e2e-hub: the manager's decision stayed
// "queued" for 52 s after the link was back).
func TestHubs_LinkDownAndBackWakeTheSiteTerminals(t *testing.T) {
	const site = "ship-2"
	central := newNode(t, "central")
	hub := newHub(t, central, "bridge", site)
	dev := enrollDevice(t, hub, "deck terminal", site, protocol.RoleOperator)
	dev.write(protocol.TableProductionRecords, record("0f0c8a7e-1d2b-4c3d-9e8f-0a1b2c3d4e5f", "L1", 1), protocol.OpUpsert)

	events, cancel, ok := hub.srv.Subscribe(context.Background(), site)
	if !ok {
		t.Fatal("subscribe to the hub's events")
	}
	defer cancel()
	hub.cut(true)
	// Going down wakes them too: their status says headquarters is cut off.
	select {
	case <-events:
	case <-time.After(10 * time.Second):
		t.Fatal("the link went down and the hub's terminals were not told to sync")
	}
	if hub.link.Status().Up {
		t.Fatal("woken before the link was down")
	}
	// Nothing is written from here on: whatever the streams said before
	// is drained.
	time.Sleep(300 * time.Millisecond)
	for drained := false; !drained; {
		select {
		case <-events:
		default:
			drained = true
		}
	}
	hub.cut(false)
	select {
	case <-events:
	case <-time.After(10 * time.Second):
		t.Fatal("the link came back and the hub's terminals were not told to sync")
	}
	if !hub.link.Status().Up {
		t.Fatal("woken before the link was back up")
	}
}
