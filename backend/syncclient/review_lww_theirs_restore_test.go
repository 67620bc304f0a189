package syncclient

import (
	"context"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/store"
)

// Review finding: the lww loser is the device that pushed FIRST. b's 70 is
// applied; a's 50, edited later (greater hlc) but pushed after, wins under
// lww and the server keeps b's 70 only as the "theirs" of the
// auto_resolved record a's push made (device_id a, winner mine). b's row
// then holds a's state (a's hlc). The server is restored from a backup
// taken before both edits. restoredmine.go re-pushes only records whose
// device_id is the device itself and only their "mine": b (whose loss is
// the record's "theirs") re-pushes nothing, a re-pushes its winning 50.
// b's 70, made between the backup and the restore, is then nowhere: not in
// the row's history, not in any record (the mirror image of
// TestRestoredServer_LWWLoserMadeAfterTheBackupSurvives).
func TestReview_RestoreLosesLWWLoserThatPushedFirst(t *testing.T) {
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
	hlcOf := func(d *device) string {
		t.Helper()
		got, err := d.st.GetRecord(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.HLC
	}
	update(b, 70)
	for i := 0; ; i++ {
		if i > 0 {
			update(a, 49) // writing 50 over 50 changes nothing and keeps the old hlc
		}
		update(a, 50) // offline, later hlc
		if hlcOf(a) > hlcOf(b) {
			break
		}
		if i > 100 {
			t.Fatalf("a's hlc %s stays below b's %s", hlcOf(a), hlcOf(b))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.sync(t) // 70 applied first
	if rep := a.sync(t); rep.Applied != 1 {
		t.Fatalf("a's 50 did not win under lww: %+v", rep)
	}
	b.sync(t) // b now holds a's 50
	if !onServer(t, srv, "c0", protocol.TableProductionRecords, r.ID, quantityIs(70)) {
		t.Fatal("before the restore, b's 70 is not on the server")
	}

	srv.stop()
	if !srv.restoreFrom(backup, true) {
		t.Fatal("outpost-server restored failed")
	}
	srv.start()
	for i := 0; i < 2; i++ {
		a.sync(t)
		b.sync(t)
	}
	if !onServer(t, srv, "c", protocol.TableProductionRecords, r.ID, quantityIs(70)) {
		t.Errorf("b's edit 70, made between the backup and the restore and kept before it as the theirs of an auto_resolved record, is nowhere on the restored server")
	}
}
