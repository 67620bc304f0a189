package syncclient

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// hubUp waits until the hub's /v1/health says its link to central is up
// (or down).
func hubUp(t *testing.T, hub *realServer, up bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var h protocol.HealthResponse
		if resp, err := http.Get(hub.url() + "/v1/health"); err == nil {
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if h.Upstream != nil && h.Upstream.Up == up {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub's link did not go up=%v: %+v", up, h.Upstream)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A terminal on a site hub says when the site is cut off from headquarters:
// the hub answers it (online), but what is entered on site waits there.
// Before, the status said only "online", and a manager's decision on a
// conflict of headquarters read "sent when the server can be reached"
// beside it (found in the real window, .ci/e2e-hub).
func TestStatus_SaysWhenTheHubIsCutOffFromHeadquarters(t *testing.T) {
	ctx := context.Background()
	central := startRealServer(t)
	hub := startRealServer(t, "--upstream", central.url(), "--upstream-code", central.enroll(protocol.RoleHub), "--upstream-every", "200ms")
	onSite := newDevice(t, hub, "deck", "operator")
	atHQ := newDevice(t, central, "office", "operator")

	atHQ.sync(t)
	if u := atHQ.c.Status(ctx).Upstream; u != nil {
		t.Fatalf("a terminal of central has a link to headquarters in its status: %+v", u)
	}
	hubUp(t, hub, true)
	onSite.sync(t)
	if u := onSite.c.Status(ctx).Upstream; u == nil || !u.Up {
		t.Fatalf("a terminal of a connected hub: upstream %+v, want up", u)
	}

	central.stop()
	hubUp(t, hub, false)
	if _, err := onSite.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 3, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	onSite.sync(t)
	s := onSite.c.Status(ctx)
	if !s.Online || s.Upstream == nil || s.Upstream.Up || s.Upstream.LastSync == 0 {
		t.Fatalf("cut off: online %v, upstream %+v; want online, headquarters down since its last sync", s.Online, s.Upstream)
	}
	// The record waits on the hub (the hub answered it at once).
	deadline := time.Now().Add(10 * time.Second)
	for onSite.c.Status(ctx).Upstream.Waiting == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the record entered while cut off is not counted as waiting: %+v", onSite.c.Status(ctx).Upstream)
		}
		time.Sleep(100 * time.Millisecond)
		onSite.sync(t)
	}

	central.start()
	hubUp(t, hub, true)
	onSite.sync(t)
	if u := onSite.c.Status(ctx).Upstream; u == nil || !u.Up {
		t.Fatalf("the link is back: upstream %+v, want up", u)
	}
}
