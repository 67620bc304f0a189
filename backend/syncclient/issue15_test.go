package syncclient

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// The defects of issue 15 on the device's side, each end to end with the
// real server: retention really purges, the restore really copies the
// server's file back.

func liveIDs(t *testing.T, d *device, table string) map[string]store.SyncedRow {
	t.Helper()
	rows, err := d.st.DumpTable(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	for id, r := range rows {
		if r.Row["deleted_at"] != nil {
			delete(rows, id)
		}
	}
	return rows
}

// Defect 2: a device unseen for longer than --stale-after does not hold the
// horizon back; the tombstone of a row it holds is purged; its 410 resync
// from 0 brings only live rows. The row must not stay live on it: the full
// pass removes a clean row it did not bring.
//
// With pages of 3 rows the pass also runs past the horizon (page 2 asks
// from a cursor below it): the server serves a pass whatever its horizon
// (defect 1, the server's side).
func TestFullPass_ResyncRemovesARowWhoseTombstoneWasPurged(t *testing.T) {
	for _, limit := range []int{protocol.MaxPullLimit, 3} {
		t.Run(strconv.Itoa(limit)+"_per_page", func(t *testing.T) { testResyncRemoves(t, limit) })
	}
}

func testResyncRemoves(t *testing.T, pageLimit int) {
	ctx := context.Background()
	srv := startRealServer(t, "--retention", "150ms", "--stale-after", "1500ms")
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	a.c.o.PullLimit = pageLimit
	var ids []string
	for i := 0; i < 5; i++ {
		r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: int64(i), OperatorID: "op"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	a.sync(t)
	b.sync(t)
	if _, err := b.st.DeleteRecord(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	// a stays away longer than --stale-after; b keeps syncing, so its
	// committed cursor passes the tombstone and retention purges it.
	time.Sleep(1700 * time.Millisecond)
	b.sync(t)
	b.sync(t)
	time.Sleep(500 * time.Millisecond)
	rep := a.sync(t)
	if !rep.Resynced {
		t.Fatalf("a was not sent back to 0 (the tombstone was not purged?): %+v", rep)
	}
	if _, ok := liveIDs(t, a, protocol.TableProductionRecords)[ids[0]]; ok {
		t.Fatalf("row %s, deleted on b and its tombstone purged, is still live on a after a full pass", ids[0])
	}
	if got := len(liveIDs(t, a, protocol.TableProductionRecords)); got != 4 {
		t.Fatalf("a holds %d live records, want 4", got)
	}
}

// Defect 3: A sets temperature 120, B's 80 came first: A's row awaits
// review. A manager resolves for 80. A, still offline, edits only the
// notes: the push must not carry 120 over the decision.
func TestReEditUnderReview_KeepsTheManagersDecision(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	m := newDevice(t, srv, "m", "manager")
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)
	m.sync(t)
	edit := func(d *device, fn func(in *store.LineConfigInput)) {
		t.Helper()
		cur, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		// What the edit form sends: the values it shows, one field changed.
		in := store.LineConfigInput{LineID: cur.LineID, Recipe: cur.Recipe, TargetRatePerHour: cur.TargetRatePerHour,
			TemperatureC: cur.TemperatureC, SpeedRPM: cur.SpeedRPM, Notes: cur.Notes}
		fn(&in)
		if _, err := d.st.UpdateLineConfig(ctx, lc.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	edit(b, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(80.0) })
	b.sync(t)
	edit(a, func(in *store.LineConfigInput) { in.TemperatureC = ptrTo(120.0) })
	a.sync(t)
	if st, _ := a.st.RowState(ctx, protocol.TableLineConfigs, lc.ID); st != store.StateAwaitingReview {
		t.Fatalf("a's row is %s, want awaiting review", st)
	}
	// The manager decides for B's 80.
	m.sync(t)
	conflictID, theirs, theirsVersion := theOpenConflict(t, m, lc.ID)
	if _, err := m.c.Resolve(ctx, conflictID, theirs, theirsVersion, "80 is the spec", Decider{}); err != nil {
		t.Fatal(err)
	}
	// A, still offline, edits only the notes, then syncs.
	edit(a, func(in *store.LineConfigInput) { in.Notes = ptrTo("checked") })
	a.sync(t)
	a.sync(t)
	m.sync(t)
	for _, d := range []*device{m, a} {
		got, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TemperatureC == nil || *got.TemperatureC != 80 || got.Notes == nil || *got.Notes != "checked" {
			t.Fatalf("%s holds temperature %v, notes %v; want the manager's 80 with a's notes", d.name, deref(got.TemperatureC), deref(got.Notes))
		}
	}
	if open, _ := m.st.Conflicts(ctx, true); len(open) != 0 {
		t.Fatalf("open conflicts after the notes edit: %d", len(open))
	}
}

func ptrTo[T any](v T) *T { return &v }

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// Defect 4: a server restored from an older backup. Writes made after the
// backup are gone from it: a's edit of r1 and its new r2, b's new r3 (all
// clean on the devices, at versions above the restored sequence). Every
// device must push its own lost writes again (on base 0) and pull every
// re-issued sequence number: at the end each device holds exactly the
// server's rows, and the server holds every write.
//
// "marked": the administrator ran `outpost-server restored` (a new
// timeline); b writes more before anyone syncs, so the restored sequence
// passes a's cursor and only the timeline can tell. "unmarked": no one ran
// it; the devices sync at once, and their cursors above the sequence the
// 410 answers tell them. Both need the server's side of issue 15 (the
// restored command, the 410's sequence).
func TestRestoredServer_DevicesRecoverWhatTheRestoreLost(t *testing.T) {
	for _, mark := range []bool{true, false} {
		name := map[bool]string{true: "marked", false: "unmarked"}[mark]
		t.Run(name, func(t *testing.T) { testRestore(t, mark) })
	}
}

func testRestore(t *testing.T, mark bool) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	create := func(d *device, q int64) string {
		t.Helper()
		r, err := d.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: q, OperatorID: d.name})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	r0 := create(a, 1)
	r1 := create(a, 2)
	a.sync(t)
	b.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	// After the backup: a edits r1 and creates r2, b creates r3.
	got, err := a.st.GetRecord(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.UpdateRecord(ctx, r1, store.RecordInput{LineID: got.LineID, ProductID: got.ProductID, Quantity: 50, OperatorID: got.OperatorID}); err != nil {
		t.Fatal(err)
	}
	r2 := create(a, 3)
	a.sync(t)
	b.sync(t)
	r3 := create(b, 4)
	b.sync(t)
	a.sync(t)

	srv.stop()
	if mark {
		if !srv.restoreFrom(backup, true) {
			t.Error("outpost-server has no `restored` command (the server's side of issue 15)")
		}
	} else {
		srv.restoreFrom(backup, false)
	}
	srv.start()
	r2Want := int64(3)
	if !mark {
		// a edits r2 (version 4, above the restored sequence) offline: its
		// push is on a base the server never issued (409 timeline_changed
		// by the safety net). b syncs before anyone writes: its cursor is
		// above the restored sequence (410 with the sequence).
		got, err := a.st.GetRecord(ctx, r2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.st.UpdateRecord(ctx, r2, store.RecordInput{LineID: got.LineID, ProductID: got.ProductID, Quantity: 33, OperatorID: got.OperatorID}); err != nil {
			t.Fatal(err)
		}
		r2Want = 33
		if rep := a.sync(t); !rep.TimelineChanged {
			t.Errorf("a's push on base %d: no timeline change seen (%+v)", got.Version, rep)
		}
		if rep := b.sync(t); !rep.TimelineChanged {
			t.Errorf("b's pull above the restored sequence: no timeline change seen (%+v)", rep)
		}
	}

	// b writes more after the restore: the restored sequence passes a's
	// cursor, reusing the numbers a has seen.
	var later []string
	for i := 0; i < 6; i++ {
		later = append(later, create(b, int64(10+i)))
	}
	for i := 0; i < 3; i++ {
		b.sync(t)
		a.sync(t)
	}
	c := newDevice(t, srv, "c", "operator") // a fresh device reads the server
	c.sync(t)

	want := map[string]int64{r0: 1, r1: 50, r2: r2Want, r3: 4}
	for i, id := range later {
		want[id] = int64(10 + i)
	}
	for _, d := range []*device{c, a, b} {
		rows := liveIDs(t, d, protocol.TableProductionRecords)
		for id, q := range want {
			r, ok := rows[id]
			if !ok {
				t.Errorf("%s: record %s (quantity %d) missing", d.name, id, q)
				continue
			}
			if n, _ := toInt(r.Row["quantity"]); n != q || r.State != store.StateClean {
				t.Errorf("%s: record %s has quantity %v, state %s; want %d, clean", d.name, id, r.Row["quantity"], r.State, q)
			}
		}
		if len(rows) != len(want) {
			t.Errorf("%s holds %d live records, want %d", d.name, len(rows), len(want))
		}
	}
	// Same versions everywhere: the devices follow the restored server's
	// sequence, not the numbers they knew before.
	cr := liveIDs(t, c, protocol.TableProductionRecords)
	for _, d := range []*device{a, b} {
		for id, r := range liveIDs(t, d, protocol.TableProductionRecords) {
			if cr[id].Version != r.Version {
				t.Errorf("%s: record %s at version %d, the server's is %d", d.name, id, r.Version, cr[id].Version)
			}
		}
	}
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// cancelAfterPull is a transport that cancels the sync (the app is closed)
// once the server has answered a pull from a cursor at or above at: the
// server has seen the device ask past pages it had not committed yet.
type cancelAfterPull struct {
	at     int64
	cancel context.CancelFunc
	fired  bool
	mu     sync.Mutex
}

func (c *cancelAfterPull) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if r.URL.Path == "/v1/pull" {
		cur, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
		c.mu.Lock()
		if cur >= c.at && c.cancel != nil && !c.fired {
			c.fired = true
			c.cancel()
		}
		c.mu.Unlock()
	}
	return resp, err
}

// Defect 2 as the issue tells it: the device asks for pages ahead of the
// batch that commits them; the app is closed mid catch-up; retention purges;
// the app reopens. The server counts only what the device said it
// committed, so the tombstone the device never applied is kept for it and
// the row it deletes leaves the device — with no resync.
func TestCommittedCursor_ClosedMidCatchUpKeepsTheTombstone(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t, "--retention", "100ms")
	b := newDevice(t, srv, "b", "operator")
	tr := &cancelAfterPull{at: 30}
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	t.Cleanup(func() { st.Close() })
	a := &device{name: "a", st: st, c: New(Options{Store: st, Tokens: &MemoryTokens{}, PullLimit: 3, PullBatchTime: time.Minute,
		HTTP: HTTPOptions{Transport: tr}})}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	var ids []string
	mk := func(n int) {
		for i := 0; i < n; i++ {
			r, err := b.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: int64(len(ids)), OperatorID: "b"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		b.sync(t)
	}
	mk(12)
	a.sync(t) // a holds the 12 rows, cursor 12
	mk(13)    // 13…25
	if _, err := b.st.DeleteRecord(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	b.sync(t) // the tombstone: 26
	mk(14)    // 27…40
	b.sync(t)
	// a catches up in pages of 3, batches of 1, 2, 4 pages: the tombstone
	// is in the third batch, and a asks from 30 before that batch commits.
	sctx, cancel := context.WithCancel(ctx)
	tr.mu.Lock()
	tr.cancel = cancel
	tr.mu.Unlock()
	if _, err := a.c.Sync(sctx); err == nil {
		t.Log("the catch-up finished before the close (the race went the other way)")
	}
	cur, _ := a.st.Cursor(ctx)
	t.Logf("a closed at committed cursor %d", cur)
	b.sync(t)
	b.sync(t)
	time.Sleep(400 * time.Millisecond) // retention runs
	rep := a.sync(t)
	if _, ok := liveIDs(t, a, protocol.TableProductionRecords)[ids[1]]; ok {
		t.Fatalf("row %s, deleted at 26, is live on a after it reopened (committed %d)", ids[1], cur)
	}
	if rep.Resynced {
		t.Fatalf("a needed a resync: retention purged past what a had committed (%d)", cur)
	}
	if n := len(liveIDs(t, a, protocol.TableProductionRecords)); n != len(ids)-1 {
		t.Fatalf("a holds %d live rows, want %d", n, len(ids)-1)
	}
}

// Defect 4, the lost write that loses: a's edit of r (clean on a, lost by
// the marked restore) is older than b's edit of r made after the restore.
// a's timeline pass brings b's write while a's row is pending on base 0;
// a's push is superseded at that very version. a must end with the
// server's row — its values, its version AND its hlc — not the server's
// values under a's own lost hlc at a version its pull has already passed
// (the nemesis found devices stuck that way: the restored server re-issued
// the sequence number to b's write).
func TestRestoredServer_SupersededLostWriteTakesTheServersHLC(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	b.sync(t)

	backup := t.TempDir()
	srv.stop()
	srv.backup(backup)
	srv.start()

	update := func(d *device, q int64) {
		t.Helper()
		got, err := d.st.GetRecord(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.st.UpdateRecord(ctx, r.ID, store.RecordInput{LineID: got.LineID, ProductID: got.ProductID, Quantity: q, OperatorID: got.OperatorID}); err != nil {
			t.Fatal(err)
		}
	}
	update(a, 50) // accepted, then lost by the restore
	a.sync(t)

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()

	time.Sleep(5 * time.Millisecond) // b's hlc is later than a's
	update(b, 70)
	if rep := b.sync(t); !rep.TimelineChanged {
		t.Fatalf("b did not see the restore: %+v", rep)
	}
	if rep := a.sync(t); !rep.TimelineChanged || rep.Superseded != 1 {
		t.Fatalf("a: want a timeline change and its lost write superseded by b's, got %+v", rep)
	}
	a.sync(t)
	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	want := liveIDs(t, c, protocol.TableProductionRecords)[r.ID]
	for _, d := range []*device{a, b} {
		got := liveIDs(t, d, protocol.TableProductionRecords)[r.ID]
		if got.Version != want.Version || got.HLC != want.HLC || got.State != store.StateClean {
			t.Errorf("%s holds %s at version %d hlc %s (%s); the server's is version %d hlc %s",
				d.name, r.ID, got.Version, got.HLC, got.State, want.Version, want.HLC)
		}
		if n, _ := toInt(got.Row["quantity"]); n != 70 {
			t.Errorf("%s: quantity %v, want b's 70", d.name, got.Row["quantity"])
		}
	}
}

// A new device's first sync on a site whose newest change is a purged
// tombstone is one full pass, and its next sync an ordinary pull. Before,
// the pass ended on the last live row's version, below the purge horizon:
// every later sync was a 410 and another full pass until somebody wrote
// again (review of issue 15, defect 5).
func TestFullPass_NewestDeletePurged_NextSyncIsOrdinary(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t, "--retention", "150ms")
	a := newDevice(t, srv, "a", "operator")
	var last string
	for i := 0; i < 4; i++ {
		r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: int64(i), OperatorID: "op"})
		if err != nil {
			t.Fatal(err)
		}
		last = r.ID
	}
	a.sync(t)
	if _, err := a.st.DeleteRecord(ctx, last); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	a.sync(t) // a's committed cursor passes the tombstone
	time.Sleep(600 * time.Millisecond)
	for _, d := range []string{"c (3 rows a page)", "d (one page)"} {
		n := newDevice(t, srv, d, "operator")
		if d[0] == 'd' {
			n.c.o.PullLimit = protocol.MaxPullLimit
		}
		n.sync(t)
		if got := len(liveIDs(t, n, protocol.TableProductionRecords)); got != 3 {
			t.Fatalf("%s holds %d live records after its first sync, want 3", d, got)
		}
		for i := 0; i < 2; i++ {
			if rep := n.sync(t); rep.Resynced {
				t.Fatalf("%s: sync %d after the first was sent back to 0 again: %+v", d, i+2, rep)
			}
		}
	}
}
