package syncclient

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review of the re-enrollment change (issue 15): a device enrolled again at
// the same server, which lost nothing (IT revoked it, or its token was
// lost), while another device moved on rows the device had written. Its own
// accepted writes are made pending on base 0 by the enrollment; the pass
// brings the other device's later versions, so they stay pending and are
// pushed again, re-stamped with the new id. The server's rule for a write
// arriving again looks the write up by its hlc, which the re-stamp changed:
// the old write is judged a second time against the later one — an open
// conflict under manual (its "mine" drops the later edit, and the device
// shows its old values meanwhile), an auto_resolved record under lww — where
// the same write pushed again under its own hlc changes nothing.
//
// The same holds when the operator disconnects the computer first (the way
// the Sync screen offers), and for an edit of a's not sent yet of a row a
// wrote last: pushed on base 0 under the new id, the server counted it as
// another device's and opened a conflict of a's with itself.
func TestSameServer_EnrollingAgainDoesNotJudgeItsOldWritesAgain(t *testing.T) {
	for _, unenroll := range []bool{false, true} {
		name := map[bool]string{false: "enroll_again", true: "disconnect_then_enroll"}[unenroll]
		t.Run(name, func(t *testing.T) { testReenrollSameServerMovedOn(t, unenroll) })
	}
}

func testReenrollSameServerMovedOn(t *testing.T, unenroll bool) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")

	r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "op-a"})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L9", Recipe: "R1", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	own, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L8", Recipe: "O1", TemperatureC: ptrTo(50.0), Notes: ptrTo("o")})
	if err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	// An edit a has not sent when the server stops accepting it.
	if _, err := a.st.UpdateLineConfig(ctx, own.ID, store.LineConfigInput{LineID: "L8", Recipe: "O2", TemperatureC: ptrTo(55.0), Notes: ptrTo("o")}); err != nil {
		t.Fatal(err)
	}

	// b moves both rows on; a does not pull it before it enrolls again.
	b.sync(t)
	if _, err := b.st.UpdateRecord(ctx, r.ID, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 2, OperatorID: "op-b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.UpdateLineConfig(ctx, lc.ID, store.LineConfigInput{LineID: "L9", Recipe: "R2", TemperatureC: ptrTo(80.0), Notes: ptrTo("n0")}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)

	// IT revokes a: its syncs are refused, and nothing is lost.
	id, err := a.st.DeviceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(srv.bin, "devices", "revoke", "--db", "sqlite://"+srv.db, "--device", id).CombinedOutput(); err != nil {
		t.Fatalf("revoke a: %v: %s", err, out)
	}
	if _, err := a.c.Sync(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a's sync once revoked: %v, want 401", err)
	}
	if unenroll {
		if err := a.c.Unenroll(ctx, true); err != nil {
			t.Fatalf("forced unenroll: %v", err)
		}
	}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatalf("a enrolls again: %v", err)
	}
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}

	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	recs, err := c.st.Conflicts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		t.Errorf("the server holds a conflict record %s (%s) for %s %s: a's old write was judged again", rec.ID, rec.Status, rec.TableName, rec.RowID)
	}
	if got, err := c.st.GetLineConfig(ctx, lc.ID); err != nil {
		t.Fatal(err)
	} else if got.Recipe != "R2" || deref(got.TemperatureC) != 80.0 {
		t.Errorf("the server's line config: recipe %s temperature %v, want b's R2, 80", got.Recipe, deref(got.TemperatureC))
	}
	if got, err := c.st.GetLineConfig(ctx, own.ID); err != nil {
		t.Fatal(err)
	} else if got.Recipe != "O2" || deref(got.TemperatureC) != 55.0 {
		t.Errorf("the server's line config a edited before enrolling again: recipe %s temperature %v, want a's O2, 55", got.Recipe, deref(got.TemperatureC))
	}
	want := liveIDs(t, c, protocol.TableProductionRecords)[r.ID]
	if n, _ := toInt(want.Row["quantity"]); n != 2 {
		t.Errorf("the server's record has quantity %v, want b's 2", want.Row["quantity"])
	}
	for _, d := range []*device{a, b} {
		got := liveIDs(t, d, protocol.TableProductionRecords)[r.ID]
		if got.Version != want.Version || got.HLC != want.HLC || got.State != store.StateClean {
			t.Errorf("%s holds the record at version %d hlc %s (%s); the server's is version %d hlc %s",
				d.name, got.Version, got.HLC, got.State, want.Version, want.HLC)
		}
		cfg, err := d.st.GetLineConfig(ctx, lc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Recipe != "R2" {
			t.Errorf("%s shows the line config with recipe %s, want b's R2", d.name, cfg.Recipe)
		}
	}
}

// A server restored from a backup made before a enrolled, with nobody
// running "outpost-server restored" (its timeline is the one a knows):
// enrolled again, a's pass ends below the cursor a had reached, which is a
// timeline change, so a's writes the restore lost are pushed again, once.
// Also when other writes since the restore took the server's sequence past
// that cursor: a live row of a's own that the pass does not bring is lost,
// not deleted (a deleted row comes as a tombstone, or its tombstone was
// purged: pushed again, it waits in quarantine as row_deleted).
func TestRestoredServerNotMarked_DeviceEnrolledAfterTheBackupEnrollsAgain(t *testing.T) {
	for _, c := range []struct {
		unenroll, regrown bool
	}{{false, false}, {true, false}, {false, true}} {
		unenroll := c.unenroll
		name := map[bool]string{false: "enroll_again", true: "disconnect_then_enroll"}[unenroll]
		if c.regrown {
			name += "_sequence_regrown"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := startRealServer(t)
			b := newDevice(t, srv, "b", "operator")
			r0, err := b.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P0", Quantity: 1, OperatorID: "op-b"})
			if err != nil {
				t.Fatal(err)
			}
			b.sync(t)
			backup := t.TempDir()
			srv.stop()
			srv.backup(backup)
			srv.start()
			a := newDevice(t, srv, "a", "operator")
			a.sync(t)
			sc := setUpAfterBackup(t, srv, a)
			srv.stop()
			srv.restoreFrom(backup, false)
			srv.start()
			others := map[string]int64{r0.ID: 1}
			if c.regrown {
				for q := int64(100); q < 120; q++ {
					r, err := b.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P0", Quantity: q, OperatorID: "op-b"})
					if err != nil {
						t.Fatal(err)
					}
					others[r.ID] = q
				}
				b.sync(t)
			}
			if unenroll {
				if err := a.c.Unenroll(ctx, true); err != nil {
					t.Fatalf("forced unenroll: %v", err)
				}
			}
			if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
				t.Fatalf("a enrolls again: %v", err)
			}
			a.sync(t)
			a.sync(t)
			checkServerHoldsOnce(t, srv, a, sc, others, map[string]int{sc.created: 1, sc.edited: 1, sc.pending: 1})
		})
	}
}

// hookedStore runs hook before the n-th NewBatch.
type hookedStore struct {
	*store.Store
	n, calls int
	hook     func()
}

func (h *hookedStore) NewBatch(ctx context.Context, limit int) (*store.Batch, error) {
	h.calls++
	if h.calls == h.n && h.hook != nil {
		h.hook()
	}
	return h.Store.NewBatch(ctx, limit)
}

// Enrolling again while a sync is running (the sync loop runs all along;
// the operator enrolls from the Sync screen): the running sync pushed its
// next batch with the former id's token, re-stamped by then with the new
// id, so the server refused every row of it (invalid_hlc: an hlc naming
// another device than the pusher) into quarantine, and pushed before the
// re-enrollment pass. The enrollment waits for the running sync.
func TestEnrollingAgainDuringASync(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	t.Cleanup(func() { st.Close() })
	hs := &hookedStore{Store: st, n: 2}
	c := New(Options{Store: hs, Tokens: &MemoryTokens{}, PullLimit: 3, BatchSize: 1})
	if _, err := c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatal(err)
	}
	a := &device{name: "a", st: st, c: c}
	a.sync(t)
	for q := int64(1); q <= 3; q++ {
		if _, err := st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: q, OperatorID: "op-a"}); err != nil {
			t.Fatal(err)
		}
	}
	code := srv.enroll("operator")
	enrolled := make(chan error, 1)
	hs.hook = func() {
		go func() {
			_, err := c.Enroll(context.Background(), srv.url(), code)
			enrolled <- err
		}()
		select {
		case err := <-enrolled:
			enrolled <- err
		case <-time.After(2 * time.Second):
		}
	}
	a.sync(t)
	if err := <-enrolled; err != nil {
		t.Fatalf("enroll again: %v", err)
	}
	hs.hook = nil
	a.sync(t)
	a.sync(t)
	if q, err := st.Quarantine(ctx); err != nil || len(q) != 0 {
		t.Errorf("quarantine holds %d rows (%v), want none: %+v", len(q), err, q)
	}
	if n, err := st.PendingCount(ctx); err != nil || n != 0 {
		t.Errorf("pending %d (%v), want none", n, err)
	}
	b := newDevice(t, srv, "b", "operator")
	b.sync(t)
	if got := liveIDs(t, b, protocol.TableProductionRecords); len(got) != 3 {
		t.Errorf("the server holds %d records, want 3", len(got))
	}
}

// A row awaiting review when IT revokes the device, disconnected (forced,
// as the deployment guide tells) and enrolled again at the same server:
// its edit already lives in an open conflict record, so it is not judged a
// second time (a second record for the same edit).
func TestSameServer_DisconnectedWithARowAwaitingReviewEnrollsAgain(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	b := newDevice(t, srv, "b", "operator")
	lc, err := b.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L9", Recipe: "R1", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	a.sync(t)
	if _, err := b.st.UpdateLineConfig(ctx, lc.ID, store.LineConfigInput{LineID: "L9", Recipe: "R2", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")}); err != nil {
		t.Fatal(err)
	}
	b.sync(t)
	if _, err := a.st.UpdateLineConfig(ctx, lc.ID, store.LineConfigInput{LineID: "L9", Recipe: "R3", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")}); err != nil {
		t.Fatal(err)
	}
	if rep := a.sync(t); rep.Conflicts != 1 {
		t.Fatalf("a's edit did not meet b's as a conflict: %+v", rep)
	}
	id, err := a.st.DeviceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(srv.bin, "devices", "revoke", "--db", "sqlite://"+srv.db, "--device", id).CombinedOutput(); err != nil {
		t.Fatalf("revoke a: %v: %s", err, out)
	}
	if err := a.c.Unenroll(ctx, true); err != nil {
		t.Fatalf("forced unenroll: %v", err)
	}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatalf("a enrolls again: %v", err)
	}
	a.sync(t)
	a.sync(t)
	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	recs, err := c.st.Conflicts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Errorf("the server holds %d conflict records for a's one edit, want 1: %+v", len(recs), recs)
	}
}
