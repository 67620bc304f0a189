package uplink_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server/uplink"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// A full pass of central's feed that central sends back to 0 midway
// (410: a tombstone above the pass's position was purged since it began;
// design section 3: "the row may be one the pass already brought", so the
// pass starts again). The hub restarts the pass (BeginUpstreamPass) but
// keeps the rows its first attempt marked seen (up/seen/…): a row the
// first attempt brought and central deleted and purged meanwhile is still
// "seen" when the second attempt ends, and EndUpstreamPass keeps it. The
// record deleted at headquarters stays live on site for good (the next
// full pass comes only after another 410 or a restore).
//
// The link's steps are driven by hand up to the first page of the pass
// (a pass of a big site spans many pages; a cut or a kill after its first
// one leaves the hub exactly here), then the link runs as usual, with its
// verification against central off: the verification (at most once a
// minute) does find the row and removes it, so on a running hub the row
// stays live until the next verification, or for good when the site
// never settles (a hub write always waiting) or verification is off.
func TestAttack2_HubPassRestartedByCentralKeepsRowsSeenBeforeTheRestart(t *testing.T) {
	const site = "plant-f2"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	op := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	gone, kept := uuid.NewString(), uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpUpsert)
	hq.write(protocol.TableProductionRecords, record(kept, "L1", 2), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)
	settled(t, central, hub, site)

	hub.restartPaused(t, func(string) {}) // the link's loop stays stopped
	ctx := t.Context()
	e, id := hub.srv.Engine(), hub.link.Identity()
	if err := e.BeginUpstreamPass(ctx, site); err != nil {
		t.Fatal(err)
	}
	page, err := upstreamAPI(t, hub).PullPage(ctx, syncclient.PullParams{Cursor: 0, Limit: 1, Committed: 0, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Changes) != 1 || page.Changes[0].ID != gone || !page.HasMore {
		t.Fatalf("the pass's first page: %+v; the attack needs the deleted row alone on it", page.Changes)
	}
	if _, err := e.Republish(ctx, site, id.Device, page); err != nil {
		t.Fatal(err)
	}

	hq.write(protocol.TableProductionRecords, record(gone, "L1", 1), protocol.OpDelete)
	commitAll(hq)
	purgeCentral(t, central)
	if _, _, ok := central.current(t, site, protocol.TableProductionRecords, gone); ok {
		t.Fatal("central's retention kept the tombstone; the attack needs it purged")
	}
	hq.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", 3), protocol.OpUpsert)

	var logs syncBuffer
	// The link as it runs, its verification aside (it runs at most once a
	// minute, and repairs this row when it does: see below).
	link, err := uplink.New(uplink.Config{Engine: e, ID: id, VerifyEvery: -1, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := link.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if cur, _ := link.Cursor(ctx); cur == 0 {
		t.Fatal("the link did not finish its pass")
	}
	if !strings.Contains(logs.String(), "central asks for a full pass") {
		t.Fatalf("central did not send the pass back to 0; the link's log: %s", logs.String())
	}
	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("the hub still holds the record deleted (and purged) at central as a live row after its restarted full pass")
	}
	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, kept); !ok || deleted {
		t.Errorf("the pass removed a row central holds")
	}
}

// Guard (held): a full pass interrupted after its first page, the site
// writing meanwhile (a new row and an edit of a row the pass has not
// reached yet); the next sync pushes them (central answers applied: the
// hub records echoes) before it resumes the pass, which skips those
// echoes. The pass must still count them as brought: EndUpstreamPass
// removes only rows central does not hold.
func TestAttack2_HubPassResumedAfterSiteWritesRemovesNothingCentralHolds(t *testing.T) {
	const site = "plant-g2"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	op := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	first, later := uuid.NewString(), uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(first, "L1", 1), protocol.OpUpsert)
	hq.write(protocol.TableProductionRecords, record(later, "L1", 2), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, op)
	settled(t, central, hub, site)

	hub.restartPaused(t, func(string) {})
	ctx := t.Context()
	e, id := hub.srv.Engine(), hub.link.Identity()
	if err := e.BeginUpstreamPass(ctx, site); err != nil {
		t.Fatal(err)
	}
	page, err := upstreamAPI(t, hub).PullPage(ctx, syncclient.PullParams{Cursor: 0, Limit: 1, Committed: 0, Full: true})
	if err != nil || !page.HasMore {
		t.Fatalf("the pass's first page: %+v, %v", page, err)
	}
	if _, err := e.Republish(ctx, site, id.Device, page); err != nil {
		t.Fatal(err)
	}
	fresh := uuid.NewString()
	op.write(protocol.TableProductionRecords, record(fresh, "L2", 1), protocol.OpUpsert)
	op.write(protocol.TableProductionRecords, record(later, "L1", 9), protocol.OpUpsert)

	link, err := uplink.New(uplink.Config{Engine: e, ID: id, VerifyEvery: -1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := link.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := hub.st.MetaPrefix(ctx, site, "up/pass"); len(m) != 0 {
		t.Fatal("the pass did not end")
	}
	for _, r := range []string{first, later, fresh} {
		if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, r); !ok || deleted {
			t.Errorf("the resumed pass removed on site row %s, which central holds", r)
		}
	}
}
