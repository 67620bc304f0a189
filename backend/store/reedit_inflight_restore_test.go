package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review of 999830a (issue 15, seed 3033): an edit made while the push was
// in flight, answered conflict, is rebased onto theirs (rebase): a re-edit
// under review in all but name, and it wrote no note of the fields it
// changed. The person set the temperature to the value theirs held (80)
// while the conflicting 120 was in flight; a restore that lost the record
// pushed mine again with 120 over the person's last choice.
func TestStore_InFlightEditToTheirsValueSurvivesLostRecord(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	me := uuid.NewString()
	if err := s.SetDeviceID(ctx, me); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Cursor: 1, Changes: []protocol.PullChange{}}); err != nil {
		t.Fatal(err)
	}
	temp, notes := 120.0, "n0"
	r, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: &temp, Notes: &notes})
	if err != nil {
		t.Fatal(err)
	}
	b, req := pushAll(t, s)
	// While the push is in flight the person sets 80.
	eighty := 80.0
	if _, err := s.UpdateLineConfig(ctx, r.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: &eighty, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	recID := uuid.NewString()
	mine, _ := protocol.DecodeRow(req.Changes[0].Row)
	theirs := protocol.Row{}
	for k, v := range mine {
		theirs[k] = v
	}
	theirs["temperature_c"] = json.Number("80")
	theirs["notes"] = "n1"
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
		{Table: protocol.TableLineConfigs, ID: r.ID, Status: protocol.StatusConflict, Version: v(6), ConflictID: recID, Row: theirs}}}); err != nil {
		t.Fatal(err)
	}
	record := protocol.PullChange{Table: protocol.TableConflicts, ID: recID, Version: 7, HLC: req.Changes[0].HLC,
		Row: protocol.Row{"id": recID, "table_name": protocol.TableLineConfigs, "row_id": r.ID, "status": protocol.ConflictOpen,
			"mine": mine, "theirs": theirs, "device_id": me, "theirs_version": json.Number("6"), "created_at": json.Number("1700000000100")}}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Cursor: 7, Changes: []protocol.PullChange{record}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Cursor: 1, Changes: []protocol.PullChange{}})
	if err != nil || !out.PassEnded {
		t.Fatalf("timeline pass: %+v, %v", out, err)
	}
	got, err := s.DumpTable(ctx, protocol.TableLineConfigs)
	if err != nil {
		t.Fatal(err)
	}
	row := got[r.ID].Row
	if row["temperature_c"] != 80.0 || row["notes"] != "n0" {
		t.Fatalf("after the pass: temperature %v, notes %v; want 80 (the person's last edit), n0 (mine: the edit left it)", row["temperature_c"], row["notes"])
	}
}
