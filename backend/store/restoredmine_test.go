package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// At the end of a timeline pass, this device's own write that the server
// held only as a conflict record's "mine" is pushed again when the pass did
// not bring the record back (restoredmine.go), and only then. Every case
// closes and reopens the store between the pass's pages: what is to be
// pushed again survives a restart.
func TestStore_TimelinePassPushesAgainOwnWritesKeptOnlyInALostRecord(t *testing.T) {
	const me = "0b1c2d3e-0000-4000-8000-00000000000a"
	mineHLC := "001760000000500-00000-" + me
	tests := []struct {
		name string
		// record: the conflict record held before the restore.
		status, device, table, winner string
		// recordBack: the restored server still has the record.
		recordBack bool
		// rowBack: the version the pass brings the row at (0: not at all);
		// rowHLC: the hlc it brings.
		rowBack int64
		rowHLC  string
		// editHere: the row is edited here before the pass ends.
		editHere bool
		// full: the pass is a 410 resync, not a timeline pass.
		full bool
		// want: the row is pending with mine's quantity (50).
		want bool
	}{
		{name: "lww loser, the row brought back older", status: protocol.ConflictAutoResolved, device: me, rowBack: 2, want: true},
		{name: "lww loser, the row not brought back", status: protocol.ConflictAutoResolved, device: me, want: true},
		{name: "lww winner later overwritten", status: protocol.ConflictAutoResolved, winner: "mine", device: me, rowBack: 2, want: true},
		{name: "the record brought back", status: protocol.ConflictAutoResolved, device: me, recordBack: true, rowBack: 2},
		{name: "another device's record", status: protocol.ConflictAutoResolved, device: otherDevice, rowBack: 2},
		{name: "the server holds the edit", status: protocol.ConflictAutoResolved, device: me, rowBack: 2, rowHLC: mineHLC},
		{name: "a later edit here", status: protocol.ConflictAutoResolved, device: me, rowBack: 2, editHere: true},
		{name: "a 410 resync, no timeline change", status: protocol.ConflictAutoResolved, device: me, rowBack: 2, full: true},
		{name: "a revert on an lww table", status: protocol.ConflictResolved, device: me, rowBack: 2},
		// A decision exists: never pushed again (issue 15, review finding
		// 1: on base 0 the server's "own write is no conflict" rule would
		// apply it over the decision).
		{name: "decided against on a manual table", status: protocol.ConflictResolved, device: me, table: protocol.TableLineConfigs, rowBack: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "outpost.db")
			key := testKey(5)
			s, err := Open(ctx, Options{Path: path, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { s.Close() }()
			if err := s.SetDeviceID(ctx, me); err != nil {
				t.Fatal(err)
			}
			table := tc.table
			if table == "" {
				table = protocol.TableProductionRecords
			}
			rowID, recID := uuid.NewString(), uuid.NewString()
			row := func(version, qty int64, h string) protocol.PullChange {
				ch := pulled(rowID, version, qty)
				if table == protocol.TableLineConfigs {
					ch.Table = table
					ch.Row = protocol.Row{"id": rowID, "line_id": "L1", "recipe": "R", "temperature_c": json.Number(itoa(qty)),
						"target_rate_per_hour": nil, "speed_rpm": nil, "notes": nil, "updated_by": nil,
						"created_at": json.Number("1760000000000"), "updated_at": json.Number("1760000000000"), "deleted_at": nil,
						"server_updated_at": json.Number("1760000000000")}
				}
				if h != "" {
					ch.HLC = h
				}
				return ch
			}
			mine := row(0, 50, "").Row
			winner := tc.winner
			if winner == "" {
				winner = "theirs"
			}
			tl := "t2"
			if tc.full {
				tl = "t1"
			}
			recHLC := mineHLC
			if tc.status == protocol.ConflictResolved {
				recHLC = "001760000000900-00000-" + otherDevice // the decision's
			}
			record := protocol.PullChange{Table: protocol.TableConflicts, ID: recID, Version: 4, HLC: recHLC,
				Row: protocol.Row{"id": recID, "table_name": table, "row_id": rowID, "status": tc.status, "winner": winner,
					"mine": mine, "theirs": row(0, 70, "").Row, "device_id": tc.device, "created_at": json.Number("1760000000600"),
					"row_version": json.Number("3")}}
			// Before the restore: the row holds another device's 70, the
			// record keeps this device's 50.
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Cursor: 4,
				Changes: []protocol.PullChange{row(3, 70, "001760000000800-00000-"+otherDevice), record}}); err != nil {
				t.Fatal(err)
			}
			if tc.full {
				err = s.ResetCursor(ctx)
			} else {
				err = s.ChangeTimeline(ctx, "t2")
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: tl, Cursor: 1, HasMore: true,
				Changes: []protocol.PullChange{pulled(uuid.NewString(), 1, 1)}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(ctx, Options{Path: path, Key: key}); err != nil {
				t.Fatal(err)
			}
			if tc.editHere {
				if _, err := s.UpdateRecord(ctx, rowID, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 60, OperatorID: "op"}); err != nil {
					t.Fatal(err)
				}
			}
			var last []protocol.PullChange
			if tc.rowBack > 0 {
				last = append(last, row(tc.rowBack, 1, tc.rowHLC))
			}
			if tc.recordBack {
				last = append(last, record)
			}
			out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: tl, Cursor: 5, Changes: last})
			if err != nil {
				t.Fatal(err)
			}
			if !out.PassEnded {
				t.Fatalf("the pass did not end: %+v", out)
			}
			rows, err := s.DumpTable(ctx, table)
			if err != nil {
				t.Fatal(err)
			}
			got, held := rows[rowID]
			qty := func(r SyncedRow) string {
				if table == protocol.TableLineConfigs {
					return fmt.Sprint(r.Row["temperature_c"])
				}
				return fmt.Sprint(r.Row["quantity"])
			}
			if !tc.want {
				if out.Repushed != 0 || (held && got.State == StatePending && qty(got) == "50") {
					t.Fatalf("pushed again (%d): %+v", out.Repushed, got)
				}
				return
			}
			if out.Repushed != 1 || !held || got.State != StatePending || qty(got) != "50" || got.Version != 0 {
				t.Fatalf("repushed %d; the row is %+v (held %v), want pending on base 0 with mine's 50", out.Repushed, got, held)
			}
			if tc.status == protocol.ConflictAutoResolved && got.HLC != mineHLC {
				t.Fatalf("the row's hlc is %s, want the edit's own %s", got.HLC, mineHLC)
			}
			if !strings.HasSuffix(got.HLC, me) {
				t.Fatalf("the row's hlc %s does not name this device", got.HLC)
			}
			// It goes in the next batch, on base 0.
			b, err := s.NewBatch(ctx, 10)
			if err != nil || b == nil {
				t.Fatalf("next batch: %v, %v", b, err)
			}
			var req protocol.PushRequest
			if err := json.Unmarshal(b.Body, &req); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range req.Changes {
				if c.ID == rowID {
					found = true
					if c.BaseVersion != 0 || c.HLC != got.HLC {
						t.Fatalf("pushed on base %d with hlc %s, want base 0 and %s", c.BaseVersion, c.HLC, got.HLC)
					}
				}
			}
			if !found {
				t.Fatal("the row is not in the next batch")
			}
		})
	}
}

// A push answered superseded names its conflict record; a restore before
// the pull brings the record must not leave the device without it: the
// record noted from the answer is on the timeline pass's list like a
// pulled one, and the losing edit is pushed again. Until then it is no
// record of the Conflicts list.
func TestStore_SupersededAnswerNotesItsRecordBeforeThePull(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	me := uuid.NewString()
	if err := s.SetDeviceID(ctx, me); err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	b, req := pushAll(t, s)
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, ServerTime: 1_700_000_000_100, Results: []protocol.PushResult{
		{Table: protocol.TableProductionRecords, ID: r.ID, Status: protocol.StatusSuperseded, Version: v(7), ConflictID: uuid.NewString(),
			Row: serverRow(r, 70)}}}); err != nil {
		t.Fatal(err)
	}
	if cs, err := s.Conflicts(ctx, false); err != nil || len(cs) != 0 {
		t.Fatalf("conflicts listed before any pull: %v, %v", cs, err)
	}
	// The server is restored before this device pulls the record.
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Cursor: 3, Changes: []protocol.PullChange{}})
	if err != nil {
		t.Fatal(err)
	}
	got := recordIDs(t, s)[r.ID]
	if out.Repushed != 1 || got.State != StatePending || got.HLC != req.Changes[0].HLC || fmt.Sprint(got.Row["quantity"]) != "5" {
		t.Fatalf("repushed %d, row %+v; want the losing edit (5, hlc %s) pending again", out.Repushed, got, req.Changes[0].HLC)
	}
}
