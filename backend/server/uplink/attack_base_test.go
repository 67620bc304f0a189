package uplink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// rate reads target_rate_per_hour of a stored line configuration.
func rate(row map[string]any) string { return fmt.Sprint(row["target_rate_per_hour"]) }

// A site manager edits the line's notes; central's manager changes its
// rate meanwhile. Central merges the hub's write (disjoint fields) and
// answers merged. While that push is on the wire the site manager edits
// the notes again, on the hub's row as it was (rate still the old one).
// UpstreamAnswer sets the row's base to central's merged version for
// every later hub write of the row, so the re-edit is pushed as if it had
// been made on the merged state: central applies it whole and the rate
// goes back to the old value, silently (no conflict, no auto_resolved
// record). Central's manager's change is lost.
func TestAttack_HubReEditDuringPushRevertsCentralsMergedChange(t *testing.T) {
	const site = "plant-m"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	// Drive the link by hand: one push, with a site write while it is on
	// the wire.
	hub.stop()
	ctx := t.Context()
	id := hub.link.Identity()
	eng := hub.srv.Engine()
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	body, ok, err := eng.UpstreamBatch(ctx, site, id.Device, 500)
	if err != nil || !ok {
		t.Fatalf("upstream batch: %v %v", ok, err)
	}
	resp, err := upstreamAPI(t, hub).Push(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if s := resp.Results[0].Status; s != protocol.StatusMerged {
		t.Fatalf("central's answer to the site's notes: %s, want merged", s)
	}
	// On the wire back: the site manager edits the notes again.
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves twice"), protocol.OpUpsert)
	if _, _, err := eng.UpstreamAnswer(ctx, site, id.Device, resp); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := hub.link.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(row) != "70" && len(central.openAt(t, site, cfg)) == 0 {
		t.Fatalf("central's row after the site's re-edit: rate %s, notes %v; want central's manager's rate 70 kept (or a conflict): the re-edit was pushed on the merged version it never saw", rate(row), row["notes"])
	}
}

// A site manager's decision on central's conflict is forwarded by the hub
// and taken by central; before the hub writes central's result on site
// (AdoptResolved), another site manager saves an unrelated edit of the
// row (notes) on the hub's row as it was. AdoptResolved leaves the row to
// that write ("it goes to central and meets the decision there"). Central
// stored the decision with the hub as its writer, so the risk is the push
// being taken as "a device never conflicting with itself" and applied
// whole over the decision. It holds: WrittenByOthers counts a resolution
// as another writer, so central merges the notes into the decision.
func TestAttack_HubForwardedDecisionOverturnedByConcurrentSiteEdit(t *testing.T) {
	const site = "plant-f"
	central := newNode(t, "central")
	var once sync.Once
	var interleave func()
	hub := newHookedHub(t, central, "hall", site, func(next forwardFunc) forwardFunc {
		return func(ctx context.Context, id string, req protocol.ResolveRequest) (int64, error) {
			v, err := next(ctx, id, req)
			if err == nil {
				once.Do(func() { interleave() })
			}
			return v, err
		}
	})
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	bm := enrollDevice(t, hub, "hall office", site, protocol.RoleManager)
	bm2 := enrollDevice(t, hub, "hall office 2", site, protocol.RoleManager)
	cfg := uuid.NewString()
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, bm, bm2)

	// A clash judged at central: central's record (owner null).
	hub.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 130, "start"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	hub.cut(false)
	var rec string
	waitFor(t, "central's record at the hub", func() bool { rec, _ = openRecord(bm, cfg); return rec != "" }, bm)
	settled(t, central, hub, site)
	bm2.pull()

	// The second manager's unrelated edit lands while the decision is
	// forwarded (after central took it).
	var wrote error
	interleave = func() {
		k := rowKey{protocol.TableLineConfigs, cfg}
		bm2.mu.Lock()
		base := bm2.versions[k]
		bm2.mu.Unlock()
		raw, _ := json.Marshal(lineConfig(cfg, "R1", 70, "pump replaced"))
		c := protocol.Change{Table: protocol.TableLineConfigs, ID: cfg, Op: protocol.OpUpsert, BaseVersion: base, HLC: bm2.hlc(), Row: raw}
		b, _ := json.Marshal(protocol.PushRequest{BatchID: uuid.NewString(), Changes: []protocol.Change{c}})
		resp, err := bm2.api.Push(context.Background(), b)
		if err == nil && resp.Results[0].Status != protocol.StatusApplied {
			err = fmt.Errorf("the unrelated edit at the hub: %+v", resp.Results[0])
		}
		wrote = err
	}
	// The link's loop stops so that its pull cannot bring the decision
	// before the edit (forwarding does not need the loop).
	hub.stop()
	if err := resolve(bm, rec, cfg, 95); err != nil {
		t.Fatalf("forwarded resolve: %v", err)
	}
	if wrote != nil {
		t.Fatal(wrote)
	}
	for i := 0; i < 3; i++ {
		if err := hub.link.Once(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the decision at central", func() bool { return mgr.conflicts()[rec]["status"] == protocol.ConflictResolved }, mgr)

	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(row) != "95" && len(central.openAt(t, site, cfg)) == 0 {
		t.Fatalf("central's row after the forwarded decision (95) and a concurrent notes edit on site: rate %s, notes %v, no open conflict: the decision was overturned silently", rate(row), row["notes"])
	}
}

// The same race with a clash: central answers the hub's rate (130)
// conflict (central's manager set 70; the row stays 70 under review). A
// notes edit made on site while that answer was on the wire, on the hub's
// row (rate 130), is pushed on central's version 70 as its base: central
// applies it whole, so the contested 130 replaces 70 with nobody having
// decided, and the open conflict no longer describes the row.
func TestAttack_HubReEditDuringPushBypassesCentralsOpenConflict(t *testing.T) {
	const site = "plant-c"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.stop()
	ctx := t.Context()
	id := hub.link.Identity()
	eng := hub.srv.Engine()
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 130, "start"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	body, ok, err := eng.UpstreamBatch(ctx, site, id.Device, 500)
	if err != nil || !ok {
		t.Fatalf("upstream batch: %v %v", ok, err)
	}
	resp, err := upstreamAPI(t, hub).Push(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if s := resp.Results[0].Status; s != protocol.StatusConflict {
		t.Fatalf("central's answer to the site's rate: %s, want conflict", s)
	}
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 130, "pump replaced"), protocol.OpUpsert)
	if _, _, err := eng.UpstreamAnswer(ctx, site, id.Device, resp); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := hub.link.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(row) != "70" {
		t.Fatalf("central's row while its conflict (130 vs 70) is open: rate %s, notes %v; want 70 until a manager decides", rate(row), row["notes"])
	}
}

// The same loss with no race at all, through the running link: while the
// link is cut the hub persists its batch on the first failed attempt
// (the notes edit) and re-sends it unchanged; every later site edit of the
// row made during the cut is outside that batch. When the link returns,
// central merges the batch (its manager changed the rate meanwhile), and
// the later edit is pushed on the merged version: the manager's rate is
// reverted. Any row edited twice on site during a cut, and changed at
// central meanwhile, loses central's change.
func TestAttack_HubSecondEditDuringCutRevertsCentralsMergedChange(t *testing.T) {
	const site = "plant-w"
	central, hub, mgr, bm, cfg := managersOnBothTiers(t, site, "hall", "hall office")

	hub.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves"), protocol.OpUpsert)
	// The link tries (and fails) while cut: its batch is persisted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := hub.st.Meta(t.Context(), site, "up/batch"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub never built its batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "checked valves twice"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 70, "start"), protocol.OpUpsert)
	hub.cut(false)
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)
	row, _, _ := central.current(t, site, protocol.TableLineConfigs, cfg)
	if rate(row) != "70" && len(central.openAt(t, site, cfg)) == 0 {
		t.Fatalf("central's row after the site's two edits during the cut: rate %s, notes %v; want central's manager's rate 70 kept (or a conflict)", rate(row), row["notes"])
	}
}

// The same with last-writer-wins (production records, the busiest table):
// a record edited twice on site during a cut (the first edit in the
// persisted batch, the second after it), then at headquarters, last. On
// return central judges the first site edit superseded by headquarters'
// later one and answers with its version; the hub then pushes the second
// site edit on that version, and central applies it without judging it:
// headquarters' later write is overwritten although the auto_resolved
// record of the first clash says it won, and the second clash is never
// judged (no record of it).
func TestAttack_HubSecondEditDuringCutOverwritesCentralsLaterWrite(t *testing.T) {
	const site = "plant-v"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	id := uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(id, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)

	hub.cut(true)
	a1.write(protocol.TableProductionRecords, record(id, "L1", 2), protocol.OpUpsert)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := hub.st.Meta(t.Context(), site, "up/batch"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hub never built its batch")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a1.write(protocol.TableProductionRecords, record(id, "L1", 3), protocol.OpUpsert)
	time.Sleep(20 * time.Millisecond)
	hq.write(protocol.TableProductionRecords, record(id, "L1", 50), protocol.OpUpsert) // the latest write of all
	hub.cut(false)
	settled(t, central, hub, site)
	time.Sleep(300 * time.Millisecond)
	settled(t, central, hub, site)
	row, _, _ := central.current(t, site, protocol.TableProductionRecords, id)
	if row["quantity"] != float64(50) {
		t.Fatalf("central's record after the cut: quantity %v; want headquarters' 50, the latest write (lww)", row["quantity"])
	}
}
