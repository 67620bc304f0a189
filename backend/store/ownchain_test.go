package store

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/outpost-app/outpost/backend/protocol"
)

// Issue 15, campaign seed 117: an own change another device's later
// version still holds stays this device's own accepted write (ownchain.go).
// This device's notes were merged at v3 (under the other side's hlc); a
// later version v4 of another device is pulled; the server is restored and
// its pass brings the restored state. The notes are pushed again on base 0
// over the restored state only when v4 still held them and the restored
// server does not; a later version that replaced them (another edit, a
// manager's decision) carries nothing.
func TestStore_OwnFieldsCarriedByALaterVersion(t *testing.T) {
	for _, tc := range []struct {
		name          string
		laterNotes    string // the notes of the other device's v4
		restoredNotes string // the notes the restored server holds
		wantEntry     bool   // an own entry at v4
		wantState     string // after the timeline pass
		wantNotes     string
	}{
		{"carried_and_lost", "mine", "n0", true, StatePending, "mine"},
		{"carried_and_kept", "mine", "mine", true, StateClean, "mine"},
		{"replaced", "decided", "n0", false, StateClean, "n0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, Options{})
			if err := s.SetDeviceID(ctx, uuid.NewString()); err != nil {
				t.Fatal(err)
			}
			other := func(n int) string {
				return fmt.Sprintf("%015d-%05d-%s", time.Now().UnixMilli(), n, "0b0b0b0b-0000-4000-8000-000000000000")
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 0, Timeline: "t1"}); err != nil {
				t.Fatal(err)
			}
			c, err := s.CreateLineConfig(ctx, LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrF(100), SpeedRPM: ptrI(100), Notes: ptrS("n0")})
			if err != nil {
				t.Fatal(err)
			}
			row := func(notes string, temp, speed int64) protocol.Row {
				return protocol.Row{"id": c.ID, "line_id": "L3", "recipe": "R", "target_rate_per_hour": nil,
					"temperature_c": json.Number(itoa(temp)), "speed_rpm": json.Number(itoa(speed)), "notes": notes,
					"updated_by": nil, "created_at": c.CreatedAt, "updated_at": c.UpdatedAt, "deleted_at": nil}
			}
			b, _ := pushAll(t, s)
			if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
				{Table: protocol.TableLineConfigs, ID: c.ID, Status: protocol.StatusApplied, Version: v(1)}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 1, Timeline: "t1", Changes: []protocol.PullChange{
				{Table: protocol.TableLineConfigs, ID: c.ID, Version: 1, HLC: c.HLC, Row: row("n0", 100, 100)}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.UpdateLineConfig(ctx, c.ID, LineConfigInput{LineID: "L3", Recipe: "R", TemperatureC: ptrF(100), SpeedRPM: ptrI(100), Notes: ptrS("mine")}); err != nil {
				t.Fatal(err)
			}
			b, _ = pushAll(t, s)
			if _, err := s.ApplyPushResults(ctx, b.ID, protocol.PushResponse{BatchID: b.ID, Results: []protocol.PushResult{
				{Table: protocol.TableLineConfigs, ID: c.ID, Status: protocol.StatusMerged, Version: v(3), Row: row("mine", 80, 100)}}}); err != nil {
				t.Fatal(err)
			}
			if got := ownEntry(t, s, c.ID); got != `3 ["notes"]` {
				t.Fatalf("own entry after the merge: %s, want v3 with the notes alone", got)
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 4, Timeline: "t1", Changes: []protocol.PullChange{
				{Table: protocol.TableLineConfigs, ID: c.ID, Version: 3, HLC: other(1), Row: row("mine", 80, 100)},
				{Table: protocol.TableLineConfigs, ID: c.ID, Version: 4, HLC: other(2), Row: row(tc.laterNotes, 80, 0)}}}); err != nil {
				t.Fatal(err)
			}
			want := "none"
			if tc.wantEntry {
				want = `4 ["notes"]`
			}
			if got := ownEntry(t, s, c.ID); got != want {
				t.Fatalf("own entry after the later version: %s, want %s", got, want)
			}

			if err := s.ChangeTimeline(ctx, "t2"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyPullPage(ctx, protocol.PullResponse{Cursor: 2, Timeline: "t2", Changes: []protocol.PullChange{
				{Table: protocol.TableLineConfigs, ID: c.ID, Version: 2, HLC: other(0), Row: row(tc.restoredNotes, 100, 100)}}}); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetLineConfig(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := s.RowState(ctx, protocol.TableLineConfigs, c.ID)
			if st != tc.wantState || got.Notes == nil || *got.Notes != tc.wantNotes {
				t.Fatalf("after the pass: %s, notes %v; want %s, %s", st, deref(got.Notes), tc.wantState, tc.wantNotes)
			}
			// Pending: the restored state with the own notes over it, on
			// base 0 (another device's temperature and speed are its to
			// push again).
			if st == StatePending && (got.Version != 0 || *got.TemperatureC != 100 || *got.SpeedRPM != 100) {
				t.Fatalf("pending row %+v: want version 0 with the restored temperature and speed", got)
			}
		})
	}
}

func ownEntry(t *testing.T, s *Store, id string) string {
	t.Helper()
	var version int64
	var fields *string
	err := s.w.QueryRowContext(context.Background(), "SELECT version, fields FROM sync_own_versions WHERE tbl = ? AND id = ? AND version > 0",
		protocol.TableLineConfigs, id).Scan(&version, &fields)
	if err != nil {
		return "none"
	}
	return fmt.Sprintf("%d %s", version, deref(fields))
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func ptrF(f float64) *float64 { return &f }
func ptrI(n int64) *int64     { return &n }
func ptrS(s string) *string   { return &s }
