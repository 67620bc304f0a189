package uplink_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// hlcCount counts the versions of a row at n carrying hlc.
func (n *node) hlcCount(t *testing.T, site string, k rowKey, hlc string) int {
	c := 0
	for _, h := range n.rowHLCs(t, site, k.table, k.id) {
		if h == hlc {
			c++
		}
	}
	return c
}

// checkOnce fails unless every write the devices were acknowledged is in
// central's history exactly once.
func checkOnce(t *testing.T, central *node, site string, devs ...*device) {
	t.Helper()
	for _, d := range devs {
		for _, a := range d.acked {
			if a.status != protocol.StatusApplied {
				continue
			}
			if n := central.hlcCount(t, site, a.key, a.hlc); n != 1 {
				t.Errorf("%s's write %s of %s is %d times in central's history, want once", a.where, a.hlc, a.key.id, n)
			}
		}
	}
}

// Lost answers and resets on the hub's link while two site terminals
// write: every batch is re-sent until answered, central replays its
// stored answer, and every acknowledged site write is in central's
// history exactly once; every device converges. (Holds.)
func TestAttack_HubLostAnswersApplyEachSiteWriteOnce(t *testing.T) {
	const site = "plant-x"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	a2 := enrollDevice(t, hub, "line 2", site, protocol.RoleOperator)
	shared := uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(shared, "L1", 0), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1, a2)

	hub.proxy.Set(faultproxy.Faults{DropResponseRate: 0.3, ResetRate: 0.1})
	var wg sync.WaitGroup
	for i, d := range []*device{a1, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := uuid.NewString()
			for q := 1; q <= 15; q++ {
				d.write(protocol.TableProductionRecords, record(own, "L1", q), protocol.OpUpsert)
				if q%5 == 0 {
					d.pull()
					d.write(protocol.TableProductionRecords, record(shared, "L1", 100*i+q), protocol.OpUpsert)
				}
				if q == 15 {
					d.write(protocol.TableProductionRecords, record(own, "L1", q), protocol.OpDelete)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	hub.proxy.Set(faultproxy.Faults{})
	settled(t, central, hub, site)
	converge(t, 20*time.Second, hq, a1, a2)
	checkOnce(t, central, site, a1, a2)
	if hub.proxy.Drops.Load() == 0 {
		t.Log("no answer was dropped; the attack did not exercise replays")
	}
}

// A hub killed after central applied its batch and before it recorded the
// answer, and central's stored answer expired meanwhile (a hub away
// longer than --stale-after): the hub re-sends the same batch on restart,
// central no longer knows the batch id and falls back to the hub's
// origin_seq mark. Nothing is applied twice, and the hub takes central's
// state (a central write made meanwhile is not overwritten). (Holds.)
func TestAttack_HubKilledBeforeAnswerAfterCentralForgotTheBatch(t *testing.T) {
	const site = "plant-k"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hub, "line 1", site, protocol.RoleOperator)
	id := uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(id, "L1", 1), protocol.OpUpsert)
	converge(t, 20*time.Second, hq, a1)

	hub.stop()
	ident := hub.link.Identity()
	eng := hub.srv.Engine()
	a1.write(protocol.TableProductionRecords, record(id, "L1", 2), protocol.OpUpsert)
	other := uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(other, "L1", 3), protocol.OpUpsert)
	body, ok, err := eng.UpstreamBatch(t.Context(), site, ident.Device, 500)
	if err != nil || !ok {
		t.Fatalf("batch: %v %v", ok, err)
	}
	if _, err := upstreamAPI(t, hub).Push(t.Context(), body); err != nil {
		t.Fatal(err)
	}
	// The answer is lost with the hub; central forgets the batch; a
	// central terminal moves one row on.
	if err := central.st.DeleteExpired(t.Context(), time.Now().Add(time.Hour).UnixMilli(), 0, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	hq.pull()
	hq.write(protocol.TableProductionRecords, record(id, "L1", 50), protocol.OpUpsert)
	// Restart on the same database.
	// (a1 keeps the first server's address: the same database.)
	hub.srv.Close()
	hub.ts.Close()
	hub.serveHub(t, ident)
	hub.run(t)
	settled(t, central, hub, site)
	converge(t, 20*time.Second, hq, a1)
	checkOnce(t, central, site, a1)
	row, _, _ := central.current(t, site, protocol.TableProductionRecords, id)
	if q := row["quantity"]; q != float64(50) {
		t.Fatalf("central's row after the re-sent batch: quantity %v, want central's later 50", q)
	}
}

// A hub carries one site (design section 9: "the hub serves site S
// only"), but enrollment codes can be made in the hub's database for any
// site (outpost-server enroll --db <hub db> --site S2: a typo). Devices of
// that site enroll at the hub, and their writes are acknowledged and
// shared on the LAN, but the link syncs the hub's upstream site only:
// they never reach headquarters, and nothing says so.
func TestAttack_HubAcceptsWritesForASiteItNeverSyncs(t *testing.T) {
	const site = "plant-s"
	central := newNode(t, "central")
	hub := newHub(t, central, "hall", site)
	hq := enrollDevice(t, central, "hq", "plant-S", protocol.RoleOperator)
	_ = hq
	api, err := syncclient.NewAPI(hub.ts.URL, "", syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := api.Enroll(t.Context(), protocol.EnrollRequest{Code: hub.code(t, "plant-S", protocol.RoleOperator), DeviceName: "typo", Platform: "linux"})
	if err != nil {
		return // refused: the hub serves its own site only
	}
	d := enrollAs(t, hub, "typo terminal", resp)
	id := uuid.NewString()
	res := d.write(protocol.TableProductionRecords, record(id, "L1", 9), protocol.OpUpsert)
	if res.Status != protocol.StatusApplied {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, s := range []string{"plant-S", site} {
			if _, _, ok := central.current(t, s, protocol.TableProductionRecords, id); ok {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the hub of %s enrolled a device of site %q and acknowledged its write (%s), which never reaches central", site, resp.SiteID, strings.ToLower(res.Status))
}

// enrollAs is the device resp made at n.
func enrollAs(t *testing.T, n *node, name string, resp protocol.EnrollResponse) *device {
	t.Helper()
	api, err := syncclient.NewAPI(n.ts.URL, resp.Token, syncclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &device{t: t, name: name + "@" + n.name, id: resp.DeviceID, role: resp.Role, api: api,
		rows: map[rowKey]protocol.Row{}, versions: map[rowKey]int64{}}
}
