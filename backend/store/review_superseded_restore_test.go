package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Review finding (low): a push answered superseded writes the winner's
// state clean under the PUSHED hlc until the pull brings the winner's. A
// restore happens before that pull, from a backup that holds everything
// (the winner and the auto_resolved record). ChangeTimeline takes the row
// (hlc names this device) for an own accepted write and makes it pending;
// the pass brings the winner (another hlc) and the record, so the row stays
// pending: the device pushes the WINNER's values under its own old hlc on
// base 0, which the server supersedes again into a second, bogus
// auto_resolved record "this device's edit lost" whose mine is the other
// device's state (a manager reverting it would re-apply that state). The
// restore lost nothing here; nothing should be pushed.
func TestReview_SupersededThenRestoreFromBackupHoldingAllPushesWinnerAsOwn(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	me := uuid.NewString()
	if err := s.SetDeviceID(ctx, me); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Cursor: 1, Changes: []protocol.PullChange{}}); err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRecord(ctx, validInput())
	if err != nil {
		t.Fatal(err)
	}
	b, req := pushAll(t, s)
	recID := uuid.NewString()
	winner := serverRow(r, 70)
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, ServerTime: 1_700_000_000_100, Results: []protocol.PushResult{
		{Table: protocol.TableProductionRecords, ID: r.ID, Status: protocol.StatusSuperseded, Version: v(7), ConflictID: recID, Row: winner}}}); err != nil {
		t.Fatal(err)
	}
	// Restored from a backup taken after the push: it holds the winner (7)
	// and the record (8).
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	mine, _ := protocol.DecodeRow(req.Changes[0].Row)
	winnerHLC := "009999999999999-00000-" + otherDevice
	record := protocol.PullChange{Table: protocol.TableConflicts, ID: recID, Version: 8, HLC: req.Changes[0].HLC,
		Row: protocol.Row{"id": recID, "table_name": protocol.TableProductionRecords, "row_id": r.ID, "status": protocol.ConflictAutoResolved,
			"winner": "theirs", "mine": mine, "theirs": winner, "device_id": me, "created_at": json.Number("1700000000100")}}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Cursor: 8, Changes: []protocol.PullChange{
		{Table: protocol.TableProductionRecords, ID: r.ID, Version: 7, HLC: winnerHLC, Row: winner}, record}}); err != nil {
		t.Fatal(err)
	}
	got := recordIDs(t, s)[r.ID]
	if got.State != StateClean || got.HLC != winnerHLC {
		t.Errorf("after a pass that brought the winner and the record, the row is %s with hlc %s (quantity %v); want clean with the winner's hlc %s",
			got.State, got.HLC, got.Row["quantity"], winnerHLC)
	}
}
