package uplink_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

func record(id, line string, qty int) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": id, "line_id": line, "product_id": "P-100", "quantity": qty,
		"operator_id": "op-7", "created_at": now, "updated_at": now}
}

func lineConfig(id, recipe string, rate int, notes string) map[string]any {
	now := time.Now().UnixMilli()
	return map[string]any{"id": id, "line_id": "L1", "recipe": recipe, "target_rate_per_hour": rate,
		"temperature_c": 21.5, "speed_rpm": 1200, "notes": notes, "created_at": now, "updated_at": now}
}

// TestHubs_SiteKeepsWorkingWhileCut is issue 19's end-to-end check: a
// central server, two hubs of one site, operators on each hub, an operator
// and a manager on central. While a hub's link is cut its terminals see
// each other's writes within the sync of one pull; when links return,
// every version written on site reaches central's history, clashes are
// judged at central like any device's, the manager's decision reaches the
// site, and every device of every tier ends with the same rows.
func TestHubs_SiteKeepsWorkingWhileCut(t *testing.T) {
	const site = "plant-7"
	central := newNode(t, "central")
	hubA := newHub(t, central, "hall-a", site)
	hubB := newHub(t, central, "hall-b", site)

	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	hq := enrollDevice(t, central, "hq terminal", site, protocol.RoleOperator)
	a1 := enrollDevice(t, hubA, "line 1", site, protocol.RoleOperator)
	a2 := enrollDevice(t, hubA, "line 2", site, protocol.RoleOperator)
	b1 := enrollDevice(t, hubB, "line 3", site, protocol.RoleOperator)
	bm := enrollDevice(t, hubB, "hall b office", site, protocol.RoleManager)
	all := []*device{hq, a1, a2, b1, bm}

	// Links up: everyone's writes reach everyone.
	shared := uuid.NewString()
	cfg := uuid.NewString()
	hq.write(protocol.TableProductionRecords, record(shared, "L1", 10), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 100, "start"), protocol.OpUpsert)
	for i, d := range []*device{a1, a2, b1} {
		d.write(protocol.TableProductionRecords, record(uuid.NewString(), "L2", i+1), protocol.OpUpsert)
	}
	converge(t, 20*time.Second, mgr, all...)

	// Hall A's link is cut (the LAN stays up): its terminals keep
	// working together, and central and hall B go on on their own.
	hubA.cut(true)
	cutRec := uuid.NewString()
	a1.write(protocol.TableProductionRecords, record(cutRec, "L2", 42), protocol.OpUpsert)
	a2.pull()
	if _, ok := a2.state()[rowKey{protocol.TableProductionRecords, cutRec}]; !ok {
		t.Fatal("a write on hall A's terminal 1 did not reach terminal 2 through the hub while the link was cut")
	}
	// Edited several times while cut: central's history must hold every
	// version, not only the last.
	for q := 43; q <= 45; q++ {
		r := record(cutRec, "L2", q)
		a2.write(protocol.TableProductionRecords, r, protocol.OpUpsert)
	}
	// A clash across tiers: the same record edited at central and on
	// site (lww: the later write wins everywhere, the loser is kept).
	a1.pull()
	hq.write(protocol.TableProductionRecords, record(shared, "L1", 11), protocol.OpUpsert)
	a1.write(protocol.TableProductionRecords, record(shared, "L1", 12), protocol.OpUpsert)
	// A manual clash: hall B's manager and central's manager change the
	// same field of the line's configuration.
	bm.pull()
	mgr.pull()
	bm.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 120, "start"), protocol.OpUpsert)
	time.Sleep(300 * time.Millisecond) // hall B's write reaches central first
	mgr.write(protocol.TableLineConfigs, lineConfig(cfg, "R1", 90, "start"), protocol.OpUpsert)

	time.Sleep(500 * time.Millisecond) // a few link syncs fail meanwhile
	if got := central.rowHLCs(t, site, protocol.TableProductionRecords, cutRec); len(got) != 0 {
		t.Fatalf("central holds hall A's record while the link is cut: %v", got)
	}
	if h := hubA.link.Health(t.Context()); h.Up || h.Waiting == 0 {
		t.Fatalf("hall A's health while cut: %+v, want down with writes waiting", h)
	}

	hubA.cut(false)
	converge(t, 20*time.Second, mgr, all...)

	// Lost answers on hall A's link (central commits, the hub never
	// hears): batches are re-sent unchanged and applied once. Hall B is
	// killed and restarted on its file meanwhile.
	hubA.proxy.Set(faultproxy.Faults{DropResponseRate: 0.3, ResetRate: 0.1})
	for i := range 20 {
		a1.write(protocol.TableProductionRecords, record(uuid.NewString(), "L4", i), protocol.OpUpsert)
		if i == 10 {
			hubB.restart(t, func(string) {})
			b1.write(protocol.TableProductionRecords, record(uuid.NewString(), "L5", i), protocol.OpUpsert)
		}
	}
	time.Sleep(time.Second)
	if hubA.proxy.Drops.Load()+hubA.proxy.Resets.Load() == 0 {
		t.Fatal("no answer was lost on hall A's link: the phase tested nothing")
	}
	hubA.cut(false)
	converge(t, 20*time.Second, mgr, all...)

	// Every version written on site is in central's history, once.
	for _, d := range all {
		for _, a := range d.acked {
			if a.status != protocol.StatusApplied {
				continue
			}
			if n := central.countHLC(t, site, a.key, a.hlc); n != 1 {
				t.Errorf("%s's write of %s/%s (%s) is %d times in central's history, want once", a.where, a.key.table, a.key.id, a.hlc, n)
			}
		}
	}
	// The lww clash: decided at central, the loser kept as a record.
	if n := len(central.records(t, site, shared)); n == 0 {
		t.Error("the clash on the shared record left no record at central")
	}
	// The manual clash: open at central, seen on site, decided at central
	// by the manager, and that decision reaches hall B's devices.
	var open string
	for id, r := range mgr.conflicts() {
		if r["row_id"] == cfg && r["status"] == protocol.ConflictOpen {
			open = id
		}
	}
	if open == "" {
		t.Fatal("the clash on the line's configuration opened no conflict at central")
	}
	ver := mgr.versions[rowKey{protocol.TableLineConfigs, cfg}]
	chosen, _ := json.Marshal(lineConfig(cfg, "R1", 110, "start"))
	if _, err := mgr.api.Resolve(t.Context(), open, protocol.ResolveRequest{Row: chosen, HLC: mgr.hlc(), BaseVersion: &ver}); err != nil {
		t.Fatalf("resolve at central: %v", err)
	}
	converge(t, 20*time.Second, mgr, all...)
	if got := bm.state()[rowKey{protocol.TableLineConfigs, cfg}]; got == "" || !contains(got, `"target_rate_per_hour":110`) {
		t.Fatalf("hall B's manager holds %s, want central's decision (110)", got)
	}
	// The site's conflicts are on site too.
	seen := false
	for _, r := range bm.conflicts() {
		if r["row_id"] == cfg {
			seen = true
		}
	}
	if !seen {
		t.Error("the line's conflict record never reached hall B's devices")
	}
	// Both hubs end at central's rows, and nothing waits.
	for _, h := range []*node{hubA, hubB} {
		if hs := h.link.Health(t.Context()); !hs.Up || hs.Waiting != 0 {
			t.Errorf("%s health after the links returned: %+v", h.name, hs)
		}
		rec := httptest.NewRecorder()
		h.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range []string{"outpost_upstream_up 1", "outpost_upstream_waiting_changes 0", "outpost_upstream_oldest_waiting_seconds 0"} {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("%s metrics lack %q", h.name, want)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// rowHLCs returns the hlc of every stored version of a row at n.
func (n *node) rowHLCs(t *testing.T, site, table, id string) []string {
	t.Helper()
	h, err := n.st.History(context.Background(), site, table, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range h {
		out = append(out, r.HLC)
	}
	return out
}

func (n *node) countHLC(t *testing.T, site string, k rowKey, hlc string) int {
	c := 0
	for _, h := range n.rowHLCs(t, site, k.table, k.id) {
		if h == hlc {
			c++
		}
	}
	return c
}

func (n *node) holdsHLC(t *testing.T, site string, k rowKey, hlc string) bool {
	for _, h := range n.rowHLCs(t, site, k.table, k.id) {
		if h == hlc {
			return true
		}
	}
	return false
}

// records returns the conflict records at n about row id.
func (n *node) records(t *testing.T, site, id string) []string {
	t.Helper()
	rows, err := n.st.Changes(context.Background(), site, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		if r.Table == protocol.TableConflicts && contains(string(r.Data), id) {
			out = append(out, r.ID)
		}
	}
	return out
}
