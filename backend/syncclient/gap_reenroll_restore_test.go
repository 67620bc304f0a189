package syncclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Issue 15, re-enrollment after a restore: a device enrolled after the
// backup is unknown to the restored server (401: its device and token are
// not in the restored database). IT gives it a new code; the device
// enrolls again, under a new device id. Every edit it had not sent yet and
// every write of its own the server had accepted after the backup (lost
// with the restore) must reach the server again, once; the operator is
// told that the work is kept and what to do. The same holds when the
// operator disconnected the computer first (a forced unenroll: the
// server refuses every sync, so nothing can be sent before).

// reenrollScenario is what device a holds when the server forgets it.
type reenrollScenario struct {
	created, edited, pending string // production records
	lc                       string // a line config a created and edited
	want                     map[string]int64
}

// setUpAfterBackup enrolls a after the backup and gives it accepted and
// pending work: r1 created, r2 created then edited (both accepted), r3
// created and not sent, a line config created and edited (accepted).
func setUpAfterBackup(t *testing.T, srv *realServer, a *device) reenrollScenario {
	t.Helper()
	ctx := context.Background()
	create := func(q int64) string {
		t.Helper()
		r, err := a.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: q, OperatorID: "op-a"})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	var sc reenrollScenario
	sc.created = create(11)
	sc.edited = create(12)
	lc, err := a.st.CreateLineConfig(ctx, store.LineConfigInput{LineID: "L9", Recipe: "R", TemperatureC: ptrTo(100.0), Notes: ptrTo("n0")})
	if err != nil {
		t.Fatal(err)
	}
	sc.lc = lc.ID
	a.sync(t)
	if _, err := a.st.UpdateRecord(ctx, sc.edited, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 120, OperatorID: "op-a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.UpdateLineConfig(ctx, sc.lc, store.LineConfigInput{LineID: "L9", Recipe: "R", TemperatureC: ptrTo(90.0), Notes: ptrTo("n1")}); err != nil {
		t.Fatal(err)
	}
	a.sync(t)
	sc.pending = create(13)
	sc.want = map[string]int64{sc.created: 11, sc.edited: 120, sc.pending: 13}
	return sc
}

// checkServerHoldsOnce reads the server as a fresh device and checks that
// it holds exactly want (plus the records in others), each once, with no
// conflict record, each of a's records in exactly versions[id] versions
// (none written twice), and the line config as a left it; a ends holding
// exactly the server's rows, clean.
func checkServerHoldsOnce(t *testing.T, srv *realServer, a *device, sc reenrollScenario, others map[string]int64, versions map[string]int) {
	t.Helper()
	ctx := context.Background()
	c := newDevice(t, srv, "c", "operator")
	c.sync(t)
	want := map[string]int64{}
	for id, q := range sc.want {
		want[id] = q
	}
	for id, q := range others {
		want[id] = q
	}
	rows := liveIDs(t, c, protocol.TableProductionRecords)
	for id, q := range want {
		r, ok := rows[id]
		if !ok {
			t.Errorf("record %s (quantity %d) is not on the server", id, q)
			continue
		}
		if n, _ := toInt(r.Row["quantity"]); n != q {
			t.Errorf("record %s on the server has quantity %v, want %d", id, r.Row["quantity"], q)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("the server holds %d live records, want %d", len(rows), len(want))
	}
	if got, err := c.st.GetLineConfig(ctx, sc.lc); err != nil {
		t.Errorf("line config %s is not on the server: %v", sc.lc, err)
	} else if got.TemperatureC == nil || *got.TemperatureC != 90 || got.Notes == nil || *got.Notes != "n1" {
		t.Errorf("line config on the server: temperature %v notes %v, want 90, n1", deref(got.TemperatureC), deref(got.Notes))
	}
	recs, err := c.st.Conflicts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 {
		t.Errorf("the server holds %d conflict records, want none (a write of a's was judged twice)", len(recs))
	}
	// Each of a's writes is one version on the server: none arrived twice.
	for id, n := range versions {
		hist, err := c.c.API().History(ctx, protocol.TableProductionRecords, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != n {
			t.Errorf("record %s has %d versions on the server, want %d", id, len(hist), n)
		}
	}
	// a holds exactly the server's rows, clean, at the server's versions.
	mine := liveIDs(t, a, protocol.TableProductionRecords)
	if len(mine) != len(rows) {
		t.Errorf("a holds %d live records, the server %d", len(mine), len(rows))
	}
	for id, r := range mine {
		s, ok := rows[id]
		if !ok || r.State != store.StateClean || r.Version != s.Version {
			t.Errorf("a's record %s: state %s version %d; the server's version %d (held %v)", id, r.State, r.Version, s.Version, ok)
		}
	}
	if q, err := a.st.Quarantine(ctx); err != nil || len(q) != 0 {
		t.Errorf("a's quarantine holds %d rows (%v), want none: %+v", len(q), err, q)
	}
}

func TestRestoredServer_DeviceEnrolledAfterTheBackupEnrollsAgain(t *testing.T) {
	for _, unenroll := range []bool{false, true} {
		name := map[bool]string{false: "enroll_again", true: "disconnect_then_enroll"}[unenroll]
		t.Run(name, func(t *testing.T) { testReenrollAfterRestore(t, unenroll) })
	}
}

func testReenrollAfterRestore(t *testing.T, unenroll bool) {
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
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()

	// The restored server does not know a: 401, nothing is lost, and the
	// operator is told to enroll again, not that IT removed the computer.
	_, err = a.c.Sync(ctx)
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a's sync on the restored server: %v, want 401", err)
	}
	msg := a.c.Status(ctx).LastError
	for _, w := range []string{"backup", "kept", "enroll"} {
		if !strings.Contains(msg, w) {
			t.Errorf("the operator reads %q: it does not say %q", msg, w)
		}
	}
	if n, err := a.st.PendingCount(ctx); err != nil || n != 1 {
		t.Fatalf("a's pending count after the 401: %d, %v; want 1", n, err)
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
	// The restored server never had a's records: each is pushed once, as
	// a last held it.
	checkServerHoldsOnce(t, srv, a, sc, map[string]int64{r0.ID: 1}, map[string]int{sc.created: 1, sc.edited: 1, sc.pending: 1})
}

// Enrolling again with the same server, which lost nothing (IT revoked the
// computer, or its token was lost): nothing is sent twice, nothing is lost,
// and edits not sent yet go once.
func TestSameServer_EnrollingAgainDuplicatesNothing(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	a := newDevice(t, srv, "a", "operator")
	sc := setUpAfterBackup(t, srv, a)
	old, err := a.st.DeviceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatalf("a enrolls again: %v", err)
	}
	if now, _ := a.st.DeviceID(ctx); now == old {
		t.Fatalf("a kept its device id %s", old)
	}
	a.sync(t)
	a.sync(t)
	checkServerHoldsOnce(t, srv, a, sc, nil, map[string]int{sc.created: 1, sc.edited: 2, sc.pending: 1})
}

// A write of a's kept on the server only as a conflict record's "mine" (it
// lost under lww to b's later one), made after the backup by a device
// enrolled after it: the restore drops the record and a's device. Enrolled
// again, a pushes that losing write again (its record names a's former
// id), and the server keeps it again in a record while b's later write
// stays the row's.
func TestRestoredServer_LWWLoserOfADeviceEnrolledAgainSurvives(t *testing.T) {
	ctx := context.Background()
	srv := startRealServer(t)
	b := newDevice(t, srv, "b", "operator")
	r, err := b.st.CreateRecord(ctx, store.RecordInput{LineID: "L1", ProductID: "P1", Quantity: 1, OperatorID: "b"})
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
	hlcOf := func(d *device) string {
		t.Helper()
		got, err := d.st.GetRecord(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.HLC
	}
	update(a, 50)
	for i := 0; ; i++ {
		if i > 0 {
			update(b, 69)
		}
		update(b, 70)
		if hlcOf(b) > hlcOf(a) {
			break
		}
		if i > 100 {
			t.Fatalf("b's hlc %s stays below a's %s", hlcOf(b), hlcOf(a))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.sync(t)
	if rep := a.sync(t); rep.Superseded != 1 {
		t.Fatalf("a's 50 was not superseded by b's 70: %+v", rep)
	}
	a.sync(t)
	b.sync(t)

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	b.sync(t)
	if _, err := a.c.Sync(ctx); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("a's sync on the restored server: %v, want 401", err)
	}
	if _, err := a.c.Enroll(ctx, srv.url(), srv.enroll("operator")); err != nil {
		t.Fatalf("a enrolls again: %v", err)
	}
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	if !onServer(t, srv, "c", protocol.TableProductionRecords, r.ID, quantityIs(50)) {
		t.Errorf("a's edit 50, kept only in a conflict record the restore dropped, is nowhere on the server after a enrolled again")
	}
	d := newDevice(t, srv, "d", "operator")
	d.sync(t)
	want := liveIDs(t, d, protocol.TableProductionRecords)[r.ID]
	if n, _ := toInt(want.Row["quantity"]); n != 70 {
		t.Errorf("the server holds quantity %v, want b's 70 (the later hlc)", want.Row["quantity"])
	}
	for _, dv := range []*device{a, b} {
		got := liveIDs(t, dv, protocol.TableProductionRecords)[r.ID]
		if got.Version != want.Version || got.HLC != want.HLC || got.State != store.StateClean {
			t.Errorf("%s holds version %d hlc %s (%s); the server's is version %d hlc %s",
				dv.name, got.Version, got.HLC, got.State, want.Version, want.HLC)
		}
	}
}
