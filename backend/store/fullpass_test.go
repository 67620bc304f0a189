package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

const otherDevice = "0b1c2d3e-0000-4000-8000-000000000002"

// pulled is a production record as another device wrote it, at version.
func pulled(id string, version, qty int64) protocol.PullChange {
	return protocol.PullChange{Table: protocol.TableProductionRecords, ID: id, Version: version,
		HLC: "001760000000000-00000-" + otherDevice,
		Row: protocol.Row{"id": id, "line_id": "L1", "product_id": "P1", "quantity": json.Number(itoa(qty)), "operator_id": "op",
			"created_at": json.Number("1760000000000"), "updated_at": json.Number("1760000000000"), "deleted_at": nil,
			"server_updated_at": json.Number("1760000000000")}}
}

func recordIDs(t *testing.T, s *Store) map[string]SyncedRow {
	t.Helper()
	rows, err := s.DumpTable(context.Background(), protocol.TableProductionRecords)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A full pass ends with the device holding the server's live rows: a clean
// row it did not bring is removed (its tombstone was purged), and nothing
// that is not clean is — not a pending edit, not one in flight, not one
// awaiting review or rejected, and not a clean row edited between the
// pass's pages.
func TestStore_FullPassRemovesOnlyCleanRowsItDidNotBring(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if err := s.SetDeviceID(ctx, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	keep, gone, editedMidPass := uuid.NewString(), uuid.NewString(), uuid.NewString()
	// First sync: a pass of its own that brings three clean rows.
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(keep, 1, 1), pulled(gone, 2, 2), pulled(editedMidPass, 3, 3)}, Cursor: 3}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PullState(ctx); st.Pass != "" || st.Cursor != 3 {
		t.Fatalf("after the first pass: %+v", st)
	}
	// Rows in every state that is not clean, none of which the next pass
	// brings: created in this order, the first two pushed and answered.
	ids := map[string]string{}
	for _, st := range []string{StateAwaitingReview, StateRejected, StateInFlight, StatePending} {
		r, err := s.CreateRecord(ctx, validInput())
		if err != nil {
			t.Fatal(err)
		}
		ids[st] = r.ID
	}
	b, err := s.NewBatch(ctx, 2)
	if err != nil || b == nil || b.Changes != 2 {
		t.Fatal(b, err)
	}
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
		{Table: protocol.TableProductionRecords, ID: ids[StateAwaitingReview], Status: protocol.StatusConflict, Version: v(4), ConflictID: uuid.NewString(), Row: pulled(ids[StateAwaitingReview], 4, 9).Row},
		{Table: protocol.TableProductionRecords, ID: ids[StateRejected], Status: protocol.StatusRejected, Error: "invalid_value: no"},
	}}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.NewBatch(ctx, 1); err != nil || b == nil || b.Changes != 1 {
		t.Fatal(b, err)
	}
	for want, id := range ids {
		mustState(t, s, id, want)
	}

	// A 410 resync: the pass restarts from 0. Page 1 brings keep.
	if err := s.ResetCursor(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PullState(ctx); st.Pass != PassFull || st.Cursor != 0 || !st.FullPass() {
		t.Fatalf("after the reset: %+v", st)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(keep, 1, 1)}, Cursor: 1, HasMore: true}); err != nil {
		t.Fatal(err)
	}
	// Between the pages, a person edits a clean row the pass has not brought.
	if _, err := s.UpdateRecord(ctx, editedMidPass, RecordInput{LineID: "L1", ProductID: "P1", Quantity: 33, OperatorID: "op"}); err != nil {
		t.Fatal(err)
	}
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{}, Cursor: 9, HasMore: false})
	if err != nil {
		t.Fatal(err)
	}
	if !out.PassEnded || out.Removed != 1 {
		t.Fatalf("last page: %+v, want the pass ended with one row removed", out)
	}
	rows := recordIDs(t, s)
	if _, ok := rows[gone]; ok {
		t.Fatal("a clean row the pass did not bring is still here")
	}
	if _, ok := rows[keep]; !ok {
		t.Fatal("a row the pass brought was removed")
	}
	if r, ok := rows[editedMidPass]; !ok || r.State != StatePending {
		t.Fatalf("the row edited between the pages: %+v, %v", r, ok)
	}
	for want, id := range ids {
		mustState(t, s, id, want)
	}
	if st, _ := s.PullState(ctx); st.Pass != "" || st.Cursor != 9 {
		t.Fatalf("after the pass: %+v", st)
	}
}

// A crash (here: closing the store) between two pages of a pass loses
// neither the mark nor the rows brought so far: the resumed pass is the
// same pass and removes exactly what it never brought.
func TestStore_FullPassSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outpost.db")
	key := testKey(3)
	s, err := Open(ctx, Options{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	early, late, gone := uuid.NewString(), uuid.NewString(), uuid.NewString()
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(early, 1, 1), pulled(gone, 2, 2), pulled(late, 3, 3)}, Cursor: 3}); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetCursor(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(early, 1, 1)}, Cursor: 1, HasMore: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, Options{Path: path, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.PullState(ctx)
	if err != nil || st.Pass != PassFull || st.Cursor != 1 || !st.FullPass() {
		t.Fatalf("after the restart: %+v, %v", st, err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(late, 3, 3)}, Cursor: 3}); err != nil {
		t.Fatal(err)
	}
	rows := recordIDs(t, s)
	if _, ok := rows[gone]; ok || len(rows) != 2 {
		t.Fatalf("after the resumed pass: %d rows, gone present %v", len(rows), ok)
	}
	if _, ok := rows[early]; !ok {
		t.Fatal("the row brought before the restart was removed at the end of the pass")
	}
}

// A pull chain that does not begin at 0 is no pass: its last page removes
// nothing.
func TestStore_IncrementalPullRemovesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	a, b := uuid.NewString(), uuid.NewString()
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(a, 1, 1)}, Cursor: 1}); err != nil {
		t.Fatal(err)
	}
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Changes: []protocol.PullChange{pulled(b, 2, 2)}, Cursor: 2})
	if err != nil || out.PassEnded || out.Removed != 0 || len(recordIDs(t, s)) != 2 {
		t.Fatalf("incremental page: %+v, %v", out, err)
	}
}

// The timeline change of docs/design.md section 3, in one transaction, then the
// timeline pass: this device's own clean writes and its rows awaiting
// review become pending on base 0, batches are dropped, versions and
// remembered server states forgotten, queued decisions stale; a pending
// row the pass brings back with its own hlc is clean again.
func TestStore_ChangeTimeline(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if err := s.SetDeviceID(ctx, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Changes: []protocol.PullChange{}, Cursor: 0}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PullState(ctx); st.Timeline != "t1" {
		t.Fatalf("first timeline not adopted: %+v", st)
	}
	other := uuid.NewString()
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Changes: []protocol.PullChange{pulled(other, 5, 5)}, Cursor: 5}); err != nil {
		t.Fatal(err)
	}
	// Own writes: kept (will come back), lost (will not), in flight, and
	// one awaiting review.
	var own []Record
	for i := 0; i < 4; i++ {
		r, err := s.CreateRecord(ctx, validInput())
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, r)
	}
	kept, lost, review, flying := own[0], own[1], own[2], own[3]
	b, req := pushAll(t, s)
	var results []protocol.PushResult
	for i, c := range req.Changes {
		switch c.ID {
		case review.ID:
			results = append(results, protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusConflict, Version: v(6 + int64(i)), ConflictID: uuid.NewString(), Row: pulled(c.ID, 6, 1).Row})
		default:
			results = append(results, protocol.PushResult{Table: c.Table, ID: c.ID, Status: protocol.StatusApplied, Version: v(6 + int64(i))})
		}
	}
	if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: results}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, flying.ID, RecordInput{LineID: "L9", ProductID: "P", Quantity: 1, OperatorID: "o"}); err != nil {
		t.Fatal(err)
	}
	if nb, err := s.NewBatch(ctx, 0); err != nil || nb == nil {
		t.Fatal(nb, err)
	}
	mustState(t, s, flying.ID, StateInFlight)
	mustState(t, s, review.ID, StateAwaitingReview)
	if _, err := s.QueueResolution(ctx, Resolution{ConflictID: uuid.NewString(), Row: protocol.Row{"id": review.ID}, BaseVersion: 6}); err != nil {
		t.Fatal(err)
	}
	// A page of another timeline is refused whole.
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Changes: []protocol.PullChange{pulled(uuid.NewString(), 3, 3)}, Cursor: 3}); !errorsIsTimeline(err) {
		t.Fatalf("page of another timeline: %v", err)
	}
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	st, err := s.PullState(ctx)
	if err != nil || st.Timeline != "t2" || st.Cursor != 0 || st.Pass != PassTimeline {
		t.Fatalf("after the change: %+v, %v", st, err)
	}
	if ob, _ := s.OpenBatch(ctx); ob != nil {
		t.Fatal("the unanswered batch survived the timeline change")
	}
	rows := recordIDs(t, s)
	for _, r := range own {
		want := StatePending
		if r.ID == review.ID {
			// Held awaiting review, on base 0, until the timeline pass
			// shows whether the restored server kept its conflict record
			// (issue 15, review finding 5).
			want = StateAwaitingReview
		}
		if rows[r.ID].State != want || rows[r.ID].Version != 0 {
			t.Fatalf("own row %s: %s at version %d, want %s on base 0", r.ID, rows[r.ID].State, rows[r.ID].Version, want)
		}
	}
	if rows[other].State != StateClean || rows[other].Version != 0 {
		t.Fatalf("another device's row: %s at %d, want clean at version 0", rows[other].State, rows[other].Version)
	}
	rs, _ := s.Resolutions(ctx)
	if len(rs) != 1 || rs[0].State != ResolutionStale {
		t.Fatalf("queued decisions: %+v", rs)
	}
	// The timeline pass: kept comes back with its own hlc (clean again),
	// lost does not (stays pending), other comes back.
	keptBack := pulled(kept.ID, 2, kept.Quantity)
	keptBack.HLC = kept.HLC
	keptBack.Row["operator_id"], keptBack.Row["line_id"], keptBack.Row["product_id"] = kept.OperatorID, kept.LineID, kept.ProductID
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Changes: []protocol.PullChange{pulled(other, 1, 5), keptBack}, Cursor: 2})
	if err != nil || !out.PassEnded {
		t.Fatalf("timeline pass: %+v, %v", out, err)
	}
	rows = recordIDs(t, s)
	if rows[kept.ID].State != StateClean || rows[kept.ID].Version != 2 {
		t.Fatalf("own write the server kept: %s at %d, want clean at 2", rows[kept.ID].State, rows[kept.ID].Version)
	}
	for _, r := range []Record{lost, review, flying} {
		if rows[r.ID].State != StatePending {
			t.Fatalf("own write the server lost: %s", rows[r.ID].State)
		}
	}
	if rows[other].State != StateClean || rows[other].Version != 1 {
		t.Fatalf("another device's row after the pass: %s at %d", rows[other].State, rows[other].Version)
	}
	if st, _ := s.PullState(ctx); st.Pass != "" {
		t.Fatalf("pass still marked: %+v", st)
	}
	// Pushed on base 0.
	_, req = pushAll(t, s)
	if len(req.Changes) != 3 {
		t.Fatalf("pushed %d changes, want the 3 lost writes", len(req.Changes))
	}
	for _, c := range req.Changes {
		if c.BaseVersion != 0 {
			t.Fatalf("%s pushed on base %d", c.ID, c.BaseVersion)
		}
	}
}

func errorsIsTimeline(err error) bool {
	var tce *TimelineChangedError
	return errors.As(err, &tce) && tce.Timeline == "t2" && errors.Is(err, ErrTimelineChanged)
}

// Every way back to cursor 0 starts a pass: an upgrade re-pull, a 410
// resync (ResetCursor), a new enrollment after unenrolling; and unenrolling
// forgets the pass and the timeline.
func TestStore_EveryPullFromZeroIsAPass(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Changes: []protocol.PullChange{pulled(uuid.NewString(), 4, 1)}, Cursor: 4}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, upsertMeta, metaPullSchema, "5"); err != nil {
		t.Fatal(err)
	}
	if reset, err := s.RepullIfUpgraded(ctx); err != nil || !reset {
		t.Fatalf("upgrade re-pull: %v, %v", reset, err)
	}
	if st, _ := s.PullState(ctx); st.Pass != PassFull || st.Cursor != 0 || st.Timeline != "t1" {
		t.Fatalf("after the upgrade re-pull: %+v", st)
	}
	// A timeline pass stays one when a 410 restarts it.
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetCursor(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.PullState(ctx); st.Pass != PassTimeline || st.Timeline != "t2" {
		t.Fatalf("a 410 during the timeline pass: %+v", st)
	}
	if err := s.ClearEnrollment(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := s.PullState(ctx)
	if st.Pass != "" || st.Timeline != "" || st.Cursor != 0 || !st.FullPass() {
		t.Fatalf("after unenrolling: %+v", st)
	}
	// The next server's first page starts a pass that removes the clean rows
	// it does not have.
	out, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "other", Changes: []protocol.PullChange{}, Cursor: 0})
	if err != nil || !out.PassEnded || out.Removed != 1 {
		t.Fatalf("first pull from the new server: %+v, %v", out, err)
	}
}

// A conflict record is a row of the feed too: after a timeline change its
// version on the old timeline says nothing. A manager resolved conflict X
// after the backup (the record resolved at version 36); the restored
// server holds X open at version 32. The timeline pass must bring X back
// open, so the manager decides again (issue 15: the nemesis found
// conflicts left open on the server, every device holding them resolved
// at their old, higher version).
func TestStore_TimelinePassBringsAConflictRecordBackAtALowerVersion(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	if err := s.SetDeviceID(ctx, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	record := func(status string, version int64) protocol.PullChange {
		return protocol.PullChange{Table: protocol.TableConflicts, ID: id, Version: version, HLC: "001760000000000-00000-" + otherDevice,
			Row: protocol.Row{"id": id, "table_name": protocol.TableProductionRecords, "row_id": uuid.NewString(), "status": status, "row_version": json.Number("3")}}
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t1", Cursor: 36, Changes: []protocol.PullChange{record(protocol.ConflictResolved, 36)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangeTimeline(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Timeline: "t2", Cursor: 32, Changes: []protocol.PullChange{record(protocol.ConflictOpen, 32)}}); err != nil {
		t.Fatal(err)
	}
	open, err := s.Conflicts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].ID != id || open[0].Version != 32 {
		t.Fatalf("open conflicts after the timeline pass: %+v; want %s open at version 32, as the restored server holds it", open, id)
	}
}
