package uplink_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/syncclient"
)

// openRecord returns the open conflict record d holds about row id.
func openRecord(d *device, row string) (string, protocol.Row) {
	for id, r := range d.conflicts() {
		if r["row_id"] == row && r["status"] == protocol.ConflictOpen {
			return id, r
		}
	}
	return "", nil
}

func resolve(d *device, id, row string, rate int) error {
	d.pull()
	ver := d.versions[rowKey{protocol.TableLineConfigs, row}]
	chosen, _ := json.Marshal(lineConfig(row, "R1", rate, "start"))
	person, name := "b-17", "Dana Ortiz"
	reason := "checked on the line"
	_, err := d.api.Resolve(d.t.Context(), id, protocol.ResolveRequest{Row: chosen, HLC: d.hlc(), BaseVersion: &ver,
		Reason: &reason, PersonID: &person, PersonName: &name})
	return err
}

func apiCode(err error) (int, string) {
	var ae *syncclient.APIError
	if errors.As(err, &ae) {
		return ae.Status, ae.Code
	}
	return 0, ""
}

// waitFor polls cond (after pulls on devs) until it holds or fails the test.
func waitFor(t *testing.T, what string, cond func() bool, devs ...*device) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, d := range devs {
			d.pull()
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Who resolves (docs/design.md section 9): a conflict between two
// terminals of one hub is the hub's (owner: the hub), decided there by a
// site manager and sent to central with its decision; central and the
// other hub answer 409 resolve_at_owner. A conflict recorded at central
// is decided at central: a hub forwards a site manager's decision (503
// upstream_unavailable while its link is down). Revoking a hub hands its
// open records to central.
func TestHubs_ConflictsAreResolvedWhereTheyWereRecorded(t *testing.T) {
	const site = "plant-9"
	central := newNode(t, "central")
	hubA := newHub(t, central, "hall-a", site)
	hubB := newHub(t, central, "hall-b", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	a1 := enrollDevice(t, hubA, "line 1", site, protocol.RoleOperator)
	am := enrollDevice(t, hubA, "hall a office", site, protocol.RoleManager)
	bm := enrollDevice(t, hubB, "hall b office", site, protocol.RoleManager)
	all := []*device{a1, am, bm}

	// A clash between two terminals of hall A: judged at hall A.
	local := uuid.NewString()
	am.write(protocol.TableLineConfigs, lineConfig(local, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, all...)
	hubA.cut(true) // the clash happens while cut: it can only be judged on site
	a1.pull()
	am.write(protocol.TableLineConfigs, lineConfig(local, "R1", 120, "start"), protocol.OpUpsert)
	if res := a1.write(protocol.TableLineConfigs, lineConfig(local, "R1", 80, "start"), protocol.OpUpsert); res.Status != protocol.StatusConflict {
		t.Fatalf("a clash between hall A's terminals: %s, want conflict", res.Status)
	}
	am.pull()
	recA, rec := openRecord(am, local)
	if recA == "" || rec["owner"] != hubA.link.Identity().Device {
		t.Fatalf("hall A's record: %v, want open and owned by hall A (%s)", rec, hubA.link.Identity().Device)
	}
	hubA.cut(false)
	waitFor(t, "hall A's record at central", func() bool { id, _ := openRecord(mgr, local); return id == recA }, mgr)
	if st, code := apiCode(resolve(mgr, recA, local, 90)); st != 409 || code != protocol.CodeResolveAtOwner {
		t.Fatalf("central resolving hall A's record: %d %s, want 409 resolve_at_owner", st, code)
	}
	waitFor(t, "hall A's record at hall B", func() bool { id, _ := openRecord(bm, local); return id == recA }, bm)
	if st, code := apiCode(resolve(bm, recA, local, 90)); st != 409 || code != protocol.CodeResolveAtOwner {
		t.Fatalf("hall B resolving hall A's record: %d %s, want 409 resolve_at_owner", st, code)
	}
	if err := resolve(am, recA, local, 110); err != nil {
		t.Fatalf("hall A's manager resolving hall A's record: %v", err)
	}
	waitFor(t, "hall A's decision at central", func() bool {
		r := mgr.conflicts()[recA]
		return r["status"] == protocol.ConflictResolved && r["resolved_by_name"] == "Dana Ortiz"
	}, mgr)
	converge(t, 20*time.Second, mgr, all...)
	if got := mgr.state()[rowKey{protocol.TableLineConfigs, local}]; !contains(got, `"target_rate_per_hour":110`) {
		t.Fatalf("central holds %s after hall A's decision, want 110", got)
	}

	// A clash at central (hall B's write meets central's manager's):
	// central's record, decided at central through hall B.
	shared := uuid.NewString()
	mgr.write(protocol.TableLineConfigs, lineConfig(shared, "R1", 100, "start"), protocol.OpUpsert)
	converge(t, 20*time.Second, mgr, all...)
	hubB.cut(true)
	bm.write(protocol.TableLineConfigs, lineConfig(shared, "R1", 130, "start"), protocol.OpUpsert)
	mgr.write(protocol.TableLineConfigs, lineConfig(shared, "R1", 70, "start"), protocol.OpUpsert)
	hubB.cut(false)
	var recC string
	waitFor(t, "central's record at hall B", func() bool { recC, _ = openRecord(bm, shared); return recC != "" }, bm)
	if _, r := openRecord(bm, shared); r["owner"] != nil {
		t.Fatalf("central's record at hall B: owner %v, want null", r["owner"])
	}
	hubB.cut(true)
	if st, code := apiCode(resolve(bm, recC, shared, 95)); st != 503 || code != protocol.CodeUpstreamUnavailable {
		t.Fatalf("hall B resolving central's record while cut: %d %s, want 503 upstream_unavailable", st, code)
	}
	hubB.cut(false)
	if err := resolve(bm, recC, shared, 95); err != nil {
		t.Fatalf("hall B forwarding a decision on central's record: %v", err)
	}
	waitFor(t, "the forwarded decision at central", func() bool {
		return mgr.conflicts()[recC]["status"] == protocol.ConflictResolved
	}, mgr)
	converge(t, 20*time.Second, mgr, all...)
	if got := bm.state()[rowKey{protocol.TableLineConfigs, shared}]; !contains(got, `"target_rate_per_hour":95`) {
		t.Fatalf("hall B holds %s after its forwarded decision, want 95", got)
	}

	// Revoking hall A hands its open records to central.
	hubA.cut(true)
	a1.pull()
	am.write(protocol.TableLineConfigs, lineConfig(local, "R1", 150, "start"), protocol.OpUpsert)
	a1.write(protocol.TableLineConfigs, lineConfig(local, "R1", 60, "start"), protocol.OpUpsert)
	hubA.cut(false)
	var recA2 string
	waitFor(t, "hall A's second record at central", func() bool { recA2, _ = openRecord(mgr, local); return recA2 != "" }, mgr)
	hubDev := server.Device{ID: hubA.link.Identity().Device, SiteID: site}
	if err := central.st.RevokeDevice(t.Context(), hubDev.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if n, err := central.srv.Engine().HandOver(t.Context(), hubDev); err != nil || n != 1 {
		t.Fatalf("hand-over: %d records, %v; want 1", n, err)
	}
	if err := resolve(mgr, recA2, local, 100); err != nil {
		t.Fatalf("central resolving a revoked hub's record: %v", err)
	}
}
