package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// A row awaiting review when the timeline changes is judged by the timeline
// pass (issue 15, review findings 2 and 5): its open conflict record brought
// back, it awaits review again (a re-edit is pushed on theirs' version);
// lost, the row is pending on base 0 with the record's mine, and a re-edit
// made under review (it started from theirs) keeps its own changes over
// mine, so the undecided edit reaches the server again.
func TestStore_TimelinePassJudgesRowsAwaitingReview(t *testing.T) {
	tests := []struct {
		name    string
		reEdit  bool
		brought bool
		// resolved: the record comes back decided (for temperature 100)
		resolved bool
		// inFlight: the re-edit's push is unanswered at the change (its
		// batch is dropped: the new timeline never saw it)
		inFlight bool
		// after the pass
		state    string
		temp     float64
		notes    string
		pushBase int64
		pushed   bool
	}{
		{name: "record lost", state: StatePending, temp: 120, notes: "n0", pushed: true},
		{name: "record lost, re-edited", reEdit: true, state: StatePending, temp: 120, notes: "checked", pushed: true},
		{name: "record brought back open", brought: true, state: StateAwaitingReview, temp: 120, notes: "n0"},
		{name: "record brought back open, re-edited", reEdit: true, brought: true, state: StatePending, temp: 80, notes: "checked", pushed: true, pushBase: 6},
		{name: "record brought back resolved", brought: true, resolved: true, state: StateClean, temp: 100, notes: "n0"},
		{name: "record brought back resolved, re-edited", reEdit: true, brought: true, resolved: true, state: StatePending, temp: 80, notes: "checked", pushed: true, pushBase: 6},
		{name: "record lost, re-edit in flight", reEdit: true, inFlight: true, state: StatePending, temp: 120, notes: "checked", pushed: true},
		{name: "record brought back open, re-edit in flight", reEdit: true, inFlight: true, brought: true, state: StatePending, temp: 80, notes: "checked", pushed: true, pushBase: 6},
		{name: "record brought back resolved, re-edit in flight", reEdit: true, inFlight: true, brought: true, resolved: true, state: StatePending, temp: 80, notes: "checked", pushed: true, pushBase: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
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
			recID := uuid.NewString()
			mine, _ := protocol.DecodeRow(req.Changes[0].Row)
			theirs := protocol.Row{}
			for k, v := range mine {
				theirs[k] = v
			}
			theirs["temperature_c"] = json.Number("80")
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
			state := func() string {
				st, err := s.RowState(ctx, protocol.TableLineConfigs, r.ID)
				if err != nil {
					t.Fatal(err)
				}
				return st
			}
			if st := state(); st != StateAwaitingReview {
				t.Fatalf("before the restore: %s, want awaiting review", st)
			}
			if tc.reEdit {
				// The form shows the conflicting edit; the person changes
				// only the notes: the re-edit starts from theirs (80).
				checked := "checked"
				if _, err := s.UpdateLineConfig(ctx, r.ID, LineConfigInput{LineID: "L1", Recipe: "R", TemperatureC: &temp, Notes: &checked}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.inFlight {
				if nb, err := s.NewBatch(ctx, 0); err != nil || nb == nil {
					t.Fatalf("the re-edit's batch: %v, %v", nb, err)
				}
			}
			if err := s.ChangeTimeline(ctx, "t2"); err != nil {
				t.Fatal(err)
			}
			page := protocol.PullResponse{Timeline: "t2", Cursor: 1, Changes: []protocol.PullChange{}}
			switch {
			case tc.brought && tc.resolved:
				decided := protocol.Row{}
				for k, v := range theirs {
					decided[k] = v
				}
				decided["temperature_c"] = json.Number("100")
				rec := protocol.Row{}
				for k, v := range record.Row {
					rec[k] = v
				}
				rec["status"], rec["row_version"] = protocol.ConflictResolved, json.Number("8")
				row := protocol.PullChange{Table: protocol.TableLineConfigs, ID: r.ID, Version: 8, HLC: "001700000000090-00000-" + otherDevice, Row: decided}
				resolved := protocol.PullChange{Table: protocol.TableConflicts, ID: recID, Version: 9, HLC: "001700000000090-00000-" + otherDevice, Row: rec}
				page = protocol.PullResponse{Timeline: "t2", Cursor: 9, Changes: []protocol.PullChange{row, resolved}}
			case tc.brought:
				row := protocol.PullChange{Table: protocol.TableLineConfigs, ID: r.ID, Version: 6, HLC: "001700000000050-00000-" + otherDevice, Row: theirs}
				page = protocol.PullResponse{Timeline: "t2", Cursor: 7, Changes: []protocol.PullChange{row, record}}
			}
			out, err := s.ApplyPullPage(ctx, page)
			if err != nil || !out.PassEnded {
				t.Fatalf("timeline pass: %+v, %v", out, err)
			}
			got, err := s.DumpTable(ctx, protocol.TableLineConfigs)
			if err != nil {
				t.Fatal(err)
			}
			row := got[r.ID]
			if st := state(); st != tc.state || row.Row["temperature_c"] != tc.temp || row.Row["notes"] != tc.notes {
				t.Fatalf("after the pass: %s, temperature %v, notes %v; want %s, %v, %s", st, row.Row["temperature_c"], row.Row["notes"], tc.state, tc.temp, tc.notes)
			}
			nb, err := s.NewBatch(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.pushed {
				if nb != nil {
					t.Fatalf("pushed %s, want nothing (the row awaits review again)", nb.Body)
				}
				return
			}
			if nb == nil {
				t.Fatal("nothing pushed")
			}
			var preq protocol.PushRequest
			if err := json.Unmarshal(nb.Body, &preq); err != nil {
				t.Fatal(err)
			}
			if len(preq.Changes) != 1 || preq.Changes[0].BaseVersion != tc.pushBase {
				var bases []int64
				for _, c := range preq.Changes {
					bases = append(bases, c.BaseVersion)
				}
				t.Fatalf("pushed %d changes on bases %v, want the row on base %d", len(preq.Changes), bases, tc.pushBase)
			}
		})
	}
}
