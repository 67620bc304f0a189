package uplink_test

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
	"github.com/outpost-app/outpost/backend/server"
	"github.com/outpost-app/outpost/backend/server/sqlitestore"
)

// restoreFile replaces the database at path by backup and marks it
// restored (`outpost-server restored`), as an operator does; the node is
// stopped meanwhile (restartCentral, node.restartPaused).
func restoreFile(t *testing.T, path, backup string) {
	t.Helper()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(f)
	}
	copyFile(t, backup, path)
	if _, err := os.Stat(backup + "-wal"); err == nil {
		copyFile(t, backup+"-wal", path+"-wal")
	}
	st, err := sqlitestore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Restored(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// backupFile copies the stopped database at path to backup, with its WAL
// when closing left one (on Windows the last close does not always fold it
// into the file: a copy of the file alone then missed the hub's identity
// under Wine).
func backupFile(t *testing.T, path, backup string) {
	t.Helper()
	copyFile(t, path, backup)
	os.Remove(backup + "-wal")
	if _, err := os.Stat(path + "-wal"); err == nil {
		copyFile(t, path+"-wal", backup+"-wal")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// A hub restored from a backup (docs/design.md section 9) learns from
// central the highest origin_seq central applied, continues above it (a
// new write numbered like one central already took would be answered
// "applied" and never applied: lost), gets back by a full pass what the
// backup did not hold, and applies nothing twice. A kill and restart on
// the same file loses nothing either.
func TestHubs_RestoredHubLosesNothing(t *testing.T) {
	const site = "ship-3"
	central := newNode(t, "central")
	hub := newHub(t, central, "ship", site)
	mgr := enrollDevice(t, central, "office", site, protocol.RoleManager)
	op := enrollDevice(t, hub, "bridge", site, protocol.RoleOperator)

	before := []string{uuid.NewString(), uuid.NewString()}
	for i, id := range before {
		op.write(protocol.TableProductionRecords, record(id, "L1", i+1), protocol.OpUpsert)
	}
	converge(t, 20*time.Second, mgr, op)

	backup := hub.path + ".backup"
	hub.restart(t, func(path string) { backupFile(t, path, backup) })

	// Written after the backup, taken by central, then lost with the hub.
	after := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	for i, id := range after {
		op.write(protocol.TableProductionRecords, record(id, "L2", i+1), protocol.OpUpsert)
	}
	converge(t, 20*time.Second, mgr, op)

	hub.restartPaused(t, func(path string) { restoreFile(t, path, backup) })
	// The hub serves again once central has said which of its writes it
	// holds (outpost-server serve waits for it); a write made at once,
	// before the full pass, reaches central.
	if err := hub.link.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	// (An edit of a row central holds: a new row is never taken for one
	// central applied.)
	op.versions = map[rowKey]int64{}
	op.write(protocol.TableProductionRecords, record(before[0], "L3", 99), protocol.OpUpsert)
	hub.run(t)
	// The terminal moves to the hub's new timeline: it pulls again from 0.
	op.cursor = 0
	waitFor(t, "the rows the backup lacked, back on site from central", func() bool {
		st := op.state()
		for _, id := range after {
			if _, ok := st[rowKey{protocol.TableProductionRecords, id}]; !ok {
				return false
			}
		}
		return true
	}, op)

	converge(t, 20*time.Second, mgr, op)
	last := op.acked[len(op.acked)-1]
	if !central.holdsHLC(t, site, last.key, last.hlc) {
		t.Fatal("a write made on site after the hub's restore never reached central (its origin_seq was one central had taken)")
	}
	// Nothing applied twice: one version per write at central.
	for _, id := range append(before[1:], after...) {
		if n := len(central.rowHLCs(t, site, protocol.TableProductionRecords, id)); n != 1 {
			t.Errorf("record %s has %d versions at central, want 1", id, n)
		}
	}
	if got := mgr.state()[rowKey{protocol.TableProductionRecords, before[0]}]; !contains(got, `"quantity":99`) {
		t.Errorf("central's manager holds %s, want the edit made after the restore (99)", got)
	}
}
