package uplink_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of d8eabc4 (a non-empty final pull page answers at least the purge
// horizon), on the hub's link: a hub sent back to 0 while central's newest
// change is a purged tombstone ends its pass at central's horizon, which is
// central's sequence; its verification against central then compares (the
// probe at the hub's cursor and central's /v1/checksums agree on the
// cursor) and proves the hub holds central's live rows, the deleted one
// not among them.
func TestReview_HubPassEndsAtCentralsHorizonAndVerifies(t *testing.T) {
	const site = "plant-rh"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	gone := uuid.NewString()
	for i := 0; i < 3; i++ {
		hq.write(protocol.TableProductionRecords, record(uuid.NewString(), "L1", i), protocol.OpUpsert)
	}
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 9), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)
	hub.cut(true)
	hq.write(protocol.TableProductionRecords, record(gone, "L1", 9), protocol.OpDelete)
	commitAll(hq)
	purgeCentral(t, central)
	if _, _, ok := central.current(t, site, protocol.TableProductionRecords, gone); ok {
		t.Fatal("central's retention kept the tombstone; the test needs it purged")
	}
	st, _ := central.st.SiteState(t.Context(), site)
	if st.Horizon != st.Seq {
		t.Fatalf("central's horizon %d, sequence %d: the test needs its newest change purged", st.Horizon, st.Seq)
	}
	hub.cut(false)
	settled(t, central, hub, site)
	if cur, _ := hub.link.Cursor(t.Context()); cur != st.Seq {
		t.Fatalf("the hub's cursor is %d, central's sequence (and horizon) %d", cur, st.Seq)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := hub.link.Verify(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if r.Verified && r.Cursor == st.Seq {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub never verified against central at %d: %+v", st.Seq, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, deleted, ok := hub.current(t, site, protocol.TableProductionRecords, gone); ok && !deleted {
		t.Errorf("the hub holds the record deleted at central as a live row")
	}
}
