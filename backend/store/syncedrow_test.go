package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// TestStore_SyncedRowByID: one row with its version, hlc and state, exactly
// as DumpTable reports it, through every state a row passes (pending, in
// flight, clean, awaiting review, clean again at the decided version), and
// the errors for an unknown id and an unknown table.
func TestStore_SyncedRowByID(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	tbl := protocol.TableProductionRecords
	get := func(id string) SyncedRow {
		t.Helper()
		r, err := s.SyncedRowByID(ctx, tbl, id)
		if err != nil {
			t.Fatalf("SyncedRowByID(%s): %v", id, err)
		}
		all, err := s.DumpTable(ctx, tbl)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, all[id]) {
			t.Fatalf("SyncedRowByID(%s) = %+v; DumpTable has %+v", id, r, all[id])
		}
		return r
	}

	plain, _ := s.CreateRecord(ctx, validInput())
	conflicted, _ := s.CreateRecord(ctx, validInput())
	if r := get(plain.ID); r.State != StatePending || r.Version != 0 || r.HLC != plain.HLC ||
		r.Row["id"] != plain.ID || r.Row["quantity"] != int64(5) || r.Row["operator_id"] != "op-7" || r.Row["deleted_at"] != nil {
		t.Fatalf("new row = %+v", r)
	}

	b, req := pushAll(t, s)
	if r := get(plain.ID); r.State != StateInFlight {
		t.Fatalf("in flight: state %q", r.State)
	}
	cid := uuid.NewString()
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, ServerTime: 5, Results: []protocol.PushResult{
		{Table: req.Changes[0].Table, ID: plain.ID, Status: protocol.StatusApplied, Version: v(1)},
		{Table: req.Changes[1].Table, ID: conflicted.ID, Status: protocol.StatusConflict, Version: v(3), ConflictID: cid, Row: serverRow(conflicted, 3)},
	}}); err != nil {
		t.Fatal(err)
	}
	if r := get(plain.ID); r.State != StateClean || r.Version != 1 {
		t.Fatalf("applied row = %+v", r)
	}
	if r := get(conflicted.ID); r.State != StateAwaitingReview || r.Row["quantity"] != int64(5) {
		t.Fatalf("row awaiting review = %+v", r)
	}

	// The record closed before the decided row arrives: resolving, shown as
	// awaiting review, not clean.
	rec := protocol.Row{"id": cid, "table_name": tbl, "row_id": conflicted.ID,
		"status": protocol.ConflictResolved, "row_version": json.Number("10")}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 11, Changes: []protocol.PullChange{
		{Table: protocol.TableConflicts, ID: cid, Version: 11, HLC: "000000000000002-00000-mgr", Row: rec},
	}}); err != nil {
		t.Fatal(err)
	}
	if r := get(conflicted.ID); r.State != StateAwaitingReview {
		t.Fatalf("resolving row = %+v", r)
	}
	// The decided row arrives: clean at the version the decision made.
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 12, Changes: []protocol.PullChange{
		{Table: tbl, ID: conflicted.ID, Version: 10, HLC: "000000000000002-00000-mgr", Row: serverRow(conflicted, 10)},
	}}); err != nil {
		t.Fatal(err)
	}
	if r := get(conflicted.ID); r.State != StateClean || r.Version != 10 || r.HLC != "000000000000002-00000-mgr" || r.Row["quantity"] != int64(10) {
		t.Fatalf("decided row = %+v", r)
	}
	// Edited here since: pending, still on the decided version.
	in := validInput()
	in.Quantity = 11
	if _, err := s.UpdateRecord(ctx, conflicted.ID, in); err != nil {
		t.Fatal(err)
	}
	if r := get(conflicted.ID); r.State != StatePending || r.Version != 10 || r.Row["quantity"] != int64(11) {
		t.Fatalf("edited after the decision = %+v", r)
	}

	if _, err := s.SyncedRowByID(ctx, tbl, uuid.NewString()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := s.SyncedRowByID(ctx, "no_such_table", plain.ID); !errors.Is(err, ErrUnknownTable) {
		t.Fatalf("unknown table: %v", err)
	}
	if _, err := s.SyncedRowByID(ctx, protocol.TableConflicts, cid); !errors.Is(err, ErrUnknownTable) {
		t.Fatalf("the conflict records are no synced table of rows: %v", err)
	}
}

// TestStore_SyncedRowByID_LineConfig: nullable columns read as nil, a REAL
// as float64, text as string (not bytes).
func TestStore_SyncedRowByID_LineConfig(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	temp := 187.5
	c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L7", Recipe: "summer", TemperatureC: &temp})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.SyncedRowByID(ctx, protocol.TableLineConfigs, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Row["recipe"] != "summer" || r.Row["temperature_c"] != 187.5 || r.Row["speed_rpm"] != nil || r.Row["notes"] != nil || r.State != StatePending {
		t.Fatalf("line config = %+v", r)
	}
}
