package uplink_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/checksum"
	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/uplink"
)

// verifyNow syncs the hub and verifies it against central, again while a
// round compares nothing (central one write ahead of the hub's pull).
func verifyNow(t *testing.T, hub *node) uplink.VerifyResult {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := hub.link.Once(t.Context()); err == nil {
			res, err := hub.link.Verify(t.Context())
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if res.Skipped == "" {
				return res
			}
			if time.Now().After(deadline) {
				t.Fatalf("verification compared nothing for 10 s: %s", res.Skipped)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// corrupt rewrites one row of the hub's store behind the engine's back, as
// a bad disk or a partial restore would: a state with the hub's id as
// writer (as if central's, republished) at a new hub version, its checksum
// moved as the engine moves it, and central's version of it set to base (0:
// left as it is).
func corrupt(t *testing.T, hub *node, table, id string, edit func(row map[string]any), deleted bool, base int64) {
	t.Helper()
	ctx := context.Background()
	idn := hub.link.Identity()
	tx, err := hub.st.Begin(ctx, idn.Site)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	old, err := tx.GetRow(ctx, table, id)
	exists := err == nil
	row := map[string]any{}
	if exists {
		if err := json.Unmarshal(old.Data, &row); err != nil {
			t.Fatal(err)
		}
	}
	edit(row)
	data, _ := json.Marshal(row)
	seq, err := tx.NextSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := server.StoredRow{Table: table, ID: id, Version: seq, HLC: old.HLC, DeviceID: idn.Device, Deleted: deleted, Data: data, Bucket: old.Bucket}
	if !exists {
		r.HLC = "000000000000001-00000-" + idn.Device
		r.Bucket = checksum.RowBucket(protocol.NewRegistry(), table, id, data)
	}
	if err := tx.PutRow(ctx, r); err != nil {
		t.Fatal(err)
	}
	var d checksum.Sum
	if exists && !old.Deleted {
		d.Sub(checksum.Hash(table, id, old.Version))
	}
	if !deleted {
		d.Add(checksum.Hash(table, id, seq))
	}
	tx.AddSum(table, r.Bucket, d)
	if base != 0 {
		if err := tx.SetMeta(ctx, "up/base/"+table+"/"+id, []byte(strconv.FormatInt(base, 10))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	hub.srv.Publish(idn.Site, seq)
}

// The hub proves it holds central's state (docs/design.md section 8, run
// on the hub's link, section 9), and when its store was damaged behind the
// engine's back — a row lost, a row rolled back to an older version, a row
// central never had — it finds the buckets that differ, repairs them from
// central's listings, and its terminals get central's state again. A clean
// hub repairs nothing, and a hub with a write on its way compares nothing.
func TestHubs_VerifyRepairsADamagedHub(t *testing.T) {
	const site = "rig-4"
	central := newNode(t, "central")
	hub := newHub(t, central, "deck", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	op := enrollDevice(t, hub, "control room", site, protocol.RoleOperator)

	lost, stale, own := uuid.NewString(), uuid.NewString(), uuid.NewString()
	cfg := uuid.NewString()
	mgr.write(protocol.TableProductionRecords, record(lost, "L1", 1), protocol.OpUpsert)
	first := mgr.write(protocol.TableProductionRecords, record(stale, "L1", 1), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	op.write(protocol.TableProductionRecords, record(own, "L2", 7), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, op)
	mgr.write(protocol.TableProductionRecords, record(stale, "L1", 2), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, op)

	// Clean: everything settled, nothing to repair.
	res := verifyNow(t, hub)
	if !res.Verified || res.Buckets != 0 || res.Rewritten+res.Removed != 0 {
		t.Fatalf("a clean hub: %+v, want verified without repairs", res)
	}
	if h := hub.link.Health(t.Context()); h.VerifiedAt == 0 {
		t.Fatalf("health after a verification: %+v, want verified_at", h)
	}

	// Damage: a row lost, a row rolled back to central's first version,
	// a row central never held.
	extra := uuid.NewString()
	corrupt(t, hub, protocol.TableProductionRecords, lost, func(r map[string]any) { r["deleted_at"] = time.Now().UnixMilli() }, true, 0)
	corrupt(t, hub, protocol.TableProductionRecords, stale, func(r map[string]any) { r["quantity"] = 1 }, false, *first.Version)
	corrupt(t, hub, protocol.TableLineConfigs, extra, func(r map[string]any) {
		for k, v := range lineConfig(extra, "R9", 1, "ghost") {
			r[k] = v
		}
	}, false, 999999)
	op.pull()
	if got := op.state()[rowKey{protocol.TableProductionRecords, lost}]; !contains(got, `"deleted_at":1`) {
		t.Fatalf("the terminal did not get the damage (the test damaged nothing): %s", got)
	}

	res = verifyNow(t, hub)
	if !res.Verified || res.Rewritten != 2 || res.Removed != 1 {
		t.Fatalf("a damaged hub: %+v, want verified after 2 rows rewritten and 1 removed", res)
	}
	if s := hub.link.Status().Verify; s.Repaired != 3 || s.Problem != "" || s.Verified != res.Cursor {
		t.Fatalf("status after the repair: %+v", s)
	}
	// The terminal holds central's state again; the row central never
	// held is gone from it.
	op.pull()
	got := op.state()
	if !contains(got[rowKey{protocol.TableLineConfigs, extra}], `"deleted_at":1`) {
		t.Fatalf("the row central never held is still live on site: %s", got[rowKey{protocol.TableLineConfigs, extra}])
	}
	delete(got, rowKey{protocol.TableLineConfigs, extra})
	mgr.pull()
	if df := diff(mgr.state(), got); len(df) > 0 {
		t.Fatalf("the terminal differs from central after the repair on %d rows, first %s", len(df), df[0])
	}

	// Repaired for good: the next round repairs nothing, and tells
	// central the cursor the hub verified at (its devices list shows it).
	if res = verifyNow(t, hub); !res.Verified || res.Rewritten+res.Removed != 0 {
		t.Fatalf("after the repair: %+v, want verified without repairs", res)
	}
	devs, err := central.st.ListDevices(t.Context(), site)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.ID == hub.link.Identity().Device && d.Verified <= 0 {
			t.Errorf("central's record of the hub: verified %d, want the cursor it verified at", d.Verified)
		}
	}

	// A write of the site on its way to central: nothing is compared.
	hub.cut(true)
	op.write(protocol.TableProductionRecords, record(uuid.NewString(), "L2", 8), protocol.OpUpsert)
	res, err = hub.link.Verify(t.Context())
	if err != nil || res.Skipped == "" || res.Rewritten+res.Removed != 0 {
		t.Fatalf("with a write waiting for central: %+v, %v; want nothing compared", res, err)
	}
	hub.cut(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		mgr.pull()
		op.pull()
		got := op.state()
		delete(got, rowKey{protocol.TableLineConfigs, extra})
		df := diff(mgr.state(), got)
		if len(df) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged after the link returned: %d rows differ, first %s", len(df), df[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res = verifyNow(t, hub); !res.Verified || res.Rewritten+res.Removed != 0 {
		t.Fatalf("after the link returned: %+v, want verified without repairs", res)
	}
}
