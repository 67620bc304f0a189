package main

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
	"github.com/outpost-app/outpost/backend/syncclient/faultproxy"
)

// onFirstHistory is a transport that runs fn before the first history
// read it carries goes on: a write made while the snapshot before a
// restore is being read.
type onFirstHistory struct {
	base http.RoundTripper
	once sync.Once
	fn   func()
}

func (o *onFirstHistory) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/v1/history" {
		o.once.Do(o.fn)
	}
	return o.base.RoundTrip(r)
}

// TestRestoreSnapshotIsServersLastState: the histories read before a
// restore (keepHistories) are the server's last state before it: a write
// the server accepts before the restore is in them, with the edit it
// carried. Seeds 3 and 117 of the campaigns (replays): the simulator
// listed the devices' last edits when the reads began, while the servers
// kept accepting pushes until the restore killed them (in 117 the reads
// were retried through a partition, ~3 s of writes unread), so an edit
// pushed meanwhile was judged without its pre-restore history and a run
// was counted lost that lost nothing. Here a device edits a record again
// and pushes it while the first history is being read: either its push
// does not reach the server before the restore (the devices' network is
// held from the snapshot on, as a stopped server's is), or the snapshot
// holds that edit and its version.
func TestRestoreSnapshotIsServersLastState(t *testing.T) {
	ctx := timeout(t, 2*time.Minute)
	dir := t.TempDir()
	c, err := startCluster(ctx, serverBin, dir, storeSQLite, "", time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	site := "site-restore-snapshot"
	code, err := enrollCode(ctx, serverBin, c.db, site, "operator", 1)
	if err != nil {
		t.Fatal(err)
	}
	mgrCode, err := enrollCode(ctx, serverBin, c.db, site, "manager", 1)
	if err != nil {
		t.Fatal(err)
	}
	var a *device
	var e2 edit
	hook := &onFirstHistory{base: http.DefaultTransport}
	open := func(name string, idx int, base http.RoundTripper, code string) *device {
		d, err := openDevice(ctx, filepath.Join(dir, name), idx, base, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.close)
		if _, err := d.cl.Enroll(ctx, c.URLs()[0], code); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a = open("a", 1, nil, code)
	mgr := open("mgr", 2, hook, mgrCode)
	mgr.manager = true
	write := func(rec store.Record, err error) edit {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		a.rememberAt(protocol.TableProductionRecords, rec.ID, recordFields(rec), rec.HLC)
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.last[protocol.TableProductionRecords+"/"+rec.ID]
	}
	in := store.RecordInput{LineID: "L1", ProductID: "P-100", Quantity: 1, OperatorID: "o"}
	rec, err := a.st.CreateRecord(ctx, in)
	write(rec, err)
	if err := a.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Backup(ctx); err != nil {
		t.Fatal(err)
	}
	in.Quantity = 2
	e1 := write(a.st.UpdateRecord(ctx, rec.ID, in))
	if err := a.sync(ctx); err != nil {
		t.Fatal(err)
	}
	// While the first history is read: the device edits the record again
	// and pushes it.
	ran := false
	hook.fn = func() {
		ran = true
		in.Quantity = 3
		e2 = write(a.st.UpdateRecord(ctx, rec.ID, in))
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		a.sync(sctx) // fails when the network is held
	}
	n := &Nemesis{Cluster: c}
	devs := []*device{a}
	deviceAt := func(i int) *device { return devs[i%len(devs)] }
	everyDevice := func() []*device { return []*device{a, mgr} }
	if err := n.play(ctx, Fault{Kind: faultRestore, Arg: 1}, Config{}, deviceAt, everyDevice, mgr, nil); err != nil {
		t.Fatal(err)
	}
	if !ran {
		t.Fatal("no history was read before the restore")
	}
	k := protocol.TableProductionRecords + "/" + rec.ID
	a.mu.Lock()
	answers := append([]pushAnswer(nil), a.pushes[k]...)
	pre := append([]preRestoreEdit(nil), a.preRestore[k]...)
	a.mu.Unlock()
	// Every version the server answered before the restore is in the
	// snapshot.
	for _, ans := range answers {
		found := false
		for _, pe := range pre {
			for _, v := range pe.h {
				found = found || v.Version == ans.Version
			}
		}
		if !found {
			t.Errorf("the server accepted v%d (hlc %s) before the restore; the snapshot lacks it", ans.Version, ans.HLC)
		}
	}
	// The device's last edit the server accepted before the restore is
	// the one the snapshot keeps, with its fields in the history.
	want, which := e1, "the edit pushed before the restore"
	for _, ans := range answers {
		if ans.HLC == e2.hlc {
			want, which = e2, "the edit pushed while the snapshot was read"
		}
	}
	tb, _ := registry.Lookup(protocol.TableProductionRecords)
	kept := false
	for _, pe := range pre {
		if sameEdit(pe.e, want) {
			for _, v := range pe.h {
				kept = kept || v.HLC == want.hlc && fieldsEqual(tb, want.fields, v.Row)
			}
		}
	}
	if !kept {
		var got []string
		for _, pe := range pre {
			got = append(got, pe.e.hlc)
		}
		t.Fatalf("%s (hlc %s, accepted) is not in the snapshot with its version; the snapshot keeps the edits %v", which, want.hlc, got)
	}
}

// TestNetworkHoldOutlastsFaultWindows: a network fault whose window ends
// while the network is held (a partition scheduled just before a restore)
// does not bring the proxy back up under the snapshot; when the hold ends,
// each proxy gets the faults last asked of it.
func TestNetworkHoldOutlastsFaultWindows(t *testing.T) {
	var pxs []*faultproxy.Proxy
	for i := 0; i < 2; i++ {
		px, err := faultproxy.New("127.0.0.1:1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { px.Close() })
		pxs = append(pxs, px)
	}
	c := &cluster{proxies: pxs}
	c.SetFaults(0, faultproxy.Faults{Down: true}) // a partition's window opens
	c.holdNetwork()
	c.SetFaults(0, faultproxy.Faults{})                              // and closes under the hold
	c.SetFaults(1, faultproxy.Faults{Latency: 5 * time.Millisecond}) // a delay's opens
	for i, px := range pxs {
		if !px.Get().Down {
			t.Fatalf("proxy %d up while the network is held", i)
		}
	}
	c.releaseNetwork()
	if f := pxs[0].Get(); f != (faultproxy.Faults{}) {
		t.Errorf("proxy 0 after the hold: %+v, want no fault", f)
	}
	if f := pxs[1].Get(); f != (faultproxy.Faults{Latency: 5 * time.Millisecond}) {
		t.Errorf("proxy 1 after the hold: %+v, want the delay asked meanwhile", f)
	}
}
