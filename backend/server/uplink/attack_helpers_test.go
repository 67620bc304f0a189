package uplink_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// Helpers of the review's attacks on site hubs (issue 19).

// managersOnBothTiers starts central and a hub (hubName) of site, enrolls a
// manager at central ("office") and one at the hub (hubDesk), and has the
// central manager write a line configuration (R1, 100, "start") both hold
// once they converge: the opening of most attacks on a row both tiers edit.
func managersOnBothTiers(t *testing.T, site, hubName, hubDesk string) (central, hub *node, mgr, bm *device, cfg string) {
	t.Helper()
	central = newNode(t, "central")
	hub = newHub(t, central, hubName, site)
	mgr = enrollDevice(t, central, "office", site, protocol.RoleManager)
	bm = enrollDevice(t, hub, hubDesk, site, protocol.RoleManager)
	cfg = uuid.NewString()
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, bm)
	return central, hub, mgr, bm, cfg
}

// current returns n's current state of a row (its last stored version) and
// whether it is a tombstone; ok is false when n holds no version of it.
func (n *node) current(t *testing.T, site, table, id string) (row map[string]any, deleted, ok bool) {
	t.Helper()
	h, err := n.st.History(context.Background(), site, table, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 {
		return nil, false, false
	}
	if err := json.Unmarshal(h[len(h)-1].Data, &row); err != nil {
		t.Fatal(err)
	}
	return row, row["deleted_at"] != nil, true
}

// settled waits until the hub's link is up with nothing waiting for
// central and its cursor at central's sequence, or fails the test.
func settled(t *testing.T, central, hub *node, site string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		h := hub.link.Health(t.Context())
		cur, _ := hub.link.Cursor(t.Context())
		st, _ := central.st.SiteState(t.Context(), site)
		if h.Up && h.Waiting == 0 && cur >= st.Seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's link did not settle: %+v, cursor %d of %d", hub.name, h, cur, st.Seq)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settledTwice waits until the link settles, then once more after the
// hub's next round (the pull and push the last answers woke).
func settledTwice(t *testing.T, central, hub *node, site string) {
	t.Helper()
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)
}

// waitCentral waits until central's line configuration id satisfies ok.
func waitCentral(t *testing.T, central *node, site, id, what string, ok func(map[string]any) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		row, _, _ := central.current(t, site, protocol.TableLineConfigs, id)
		if ok(row) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("central never %s: %v", what, row)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// siteNotesMergedAnswerLost opens the rebase attacks (rebase_test.go):
// during a cut the hub's manager (bm) sets the notes of cfg while
// headquarters' (mgr) sets its rate to 70; the link comes back with every
// answer of central lost, until central holds the site's notes merged with
// the rate. Answers stay lost: the caller lets them through
// (hub.proxy.Set(faultproxy.Faults{})).
func siteNotesMergedAnswerLost(t *testing.T, central, hub *node, mgr, bm *device, site, cfg, notes string) {
	t.Helper()
	hub.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, notes), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	hub.proxy.Set(faultproxy.Faults{DropResponseRate: 1})
	waitCentral(t, central, site, cfg, "took the site's notes", func(r map[string]any) bool { return r["notes"] == notes })
}

// siteNotesMergedByHand is siteNotesMergedAnswerLost with the hub's link
// stopped (hub.restartPaused): the site's notes and headquarters' rate 70
// are written during a cut, then one upstream step by hand has central
// merge the notes; nothing is pulled after it.
func siteNotesMergedByHand(t *testing.T, hub *node, mgr, bm *device, cfg, notes string) {
	t.Helper()
	hub.cut(true)
	hub.restartPaused(t, func(string) {})
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, notes), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	hub.cut(false)
	if res := upstreamStepByHand(t, hub); len(res) != 1 || res[0].Status != protocol.StatusMerged {
		t.Fatalf("central's answer to the site's notes: %+v; want merged", res)
	}
}

// commitAll makes every device pull twice, so the hub (or central) records
// the whole feed as committed by each (a pull commits the cursor it asks
// from).
func commitAll(devs ...*device) {
	for _, d := range devs {
		d.pull()
		d.pull()
	}
}

// upstreamAPI is the hub's own wire client to central (its token), to
// drive the link's steps by hand.
func upstreamAPI(t *testing.T, h *node) *syncclient.API {
	t.Helper()
	id := h.link.Identity()
	api, err := syncclient.NewAPI(id.URL, id.Token, syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// newHookedHub is newHub whose forwarded resolves go through wrap (to
// interleave a site write with a forward deterministically).
func newHookedHub(t *testing.T, central *node, name, site string, wrap func(forwardFunc) forwardFunc) *node {
	t.Helper()
	return newHubOpts(t, central, name, site, hubOptions{wrap: wrap})
}

// newHubWith is newHub with forwarded resolves through wrap and the link's
// log written to logw.
func newHubWith(t *testing.T, central *node, name, site string, wrap func(forwardFunc) forwardFunc, logw io.Writer) *node {
	t.Helper()
	return newHubOpts(t, central, name, site, hubOptions{wrap: wrap, log: logw})
}

// openAt returns the open conflict records n holds about row id.
func (n *node) openAt(t *testing.T, site, row string) []map[string]any {
	t.Helper()
	rows, err := n.st.Changes(context.Background(), site, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range rows {
		if r.Table != protocol.TableConflicts {
			continue
		}
		var rec map[string]any
		if json.Unmarshal(r.Data, &rec) == nil && rec["row_id"] == row && rec["status"] == protocol.ConflictOpen {
			out = append(out, rec)
		}
	}
	return out
}
