package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-app/outpost/backend/server"
)

// A transaction rolled back inside a group leaves no trace, and the member
// that committed before it in the same SQLite transaction keeps its writes
// (the savepoints of the group commit, group.go): a failed push never takes
// a neighbour's acknowledged push with it, nor leaks its own writes.
func TestGroup_RollbackSparesCommittedMember(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The group must stay open while b queues, however slow this machine
	// is between a's Begin and its Commit (20 ms is a scheduling gap under
	// load; the test failed that way beside a campaign).
	s.groupAge = time.Minute
	const idA, idB = "6f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a", "7f1c2a0e-1b2c-4d3e-8f9a-0b1c2d3e4f5a"
	write := func(tx server.Tx, id string) {
		t.Helper()
		v, err := tx.NextSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.PutRow(ctx, server.StoredRow{Table: "t", ID: id, Version: v, HLC: "h", DeviceID: "d", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutBatch(ctx, "d", id, []byte(`{}`), 1); err != nil {
			t.Fatal(err)
		}
	}

	a, err := s.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	bc := make(chan server.Tx, 1)
	go func() {
		b, err := s.Begin(ctx, "s")
		if err != nil {
			t.Error(err)
		}
		bc <- b
	}()
	for deadline := time.Now().Add(5 * time.Second); s.waiting.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never queued for the lock")
		}
	}
	write(a, idA)
	ac := make(chan error, 1)
	go func() { ac <- a.Commit() }() // someone queues: the group stays open
	b := <-bc
	if b == nil {
		t.FailNow()
	}
	if a.(*Tx).g != b.(*Tx).g {
		t.Fatal("the queued transaction did not join the group")
	}
	write(b, idB)
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-ac; err != nil {
		t.Fatalf("commit of the first member: %v", err)
	}

	ss, err := s.SiteState(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Changes(ctx, "s", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Seq != 1 || len(rows) != 1 || rows[0].ID != idA || rows[0].Version != 1 {
		t.Fatalf("after a commit and a rollback in one group: seq %d, rows %+v; want only %s at version 1", ss.Seq, rows, idA)
	}
	if h, err := s.History(ctx, "s", "t", idB); err != nil || len(h) != 0 {
		t.Fatalf("history of the rolled back row: %v %v", h, err)
	}
	tx, err := s.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.GetBatch(ctx, "d", idA); err != nil {
		t.Errorf("committed member's batch: %v", err)
	}
	if _, err := tx.GetBatch(ctx, "d", idB); err == nil {
		t.Error("the rolled back member's batch was kept")
	}
}
